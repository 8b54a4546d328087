"""A real camera stream on loopback: ffmpeg (Debian's) serving MJPEG over HTTP, as an IP camera does.

`MjpegServer(port, scene)` plays a lavfi scene (or a still image, looped) as multipart/x-mixed-replace
at `url`; it serves one client, and `stop()` / `start()` take the camera away and bring it back.
`RtspServer` (rtsp-server-perl, RTP over UDP only) and `TcpRtspServer` (GStreamer, RTP interleaved over
TCP only) are RTSP cameras playing `MOTION_LEFT`.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from device_drivers.mosquitto import free_port

INSTALL = (
    "ffmpeg is not installed: `make setup-dev` (scripts/system-deps.sh) installs it; on Debian: apt-get install ffmpeg"
)

# A grey yard; an 80x80 white box walks across the left half during seconds 4..7 of every 12.
MOTION_LEFT = (
    "color=c=0x505050:s=640x480:r=10[bg];color=c=white:s=80x80:r=10[box];"
    "[bg][box]overlay=x='20+40*mod(n\\,6)':y=200:enable='between(mod(t\\,12)\\,4\\,7)'"
)


def person_scene(photo_png: Path, fps: int = 5) -> list[str]:
    """A grey yard; a real photo of a person (scaled to 300x300) steps in during seconds 4..9 of every 16."""
    overlay = "[1]scale=300:300[p];[0][p]overlay=x=200:y=60:enable='between(mod(t,16),4,9)'"
    yard = ["-re", "-f", "lavfi", "-i", f"color=c=0x505050:s=640x480:r={fps}"]
    person = ["-re", "-loop", "1", "-framerate", str(fps), "-i", str(photo_png)]
    return [*yard, *person, "-filter_complex", overlay]


def ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise RuntimeError(INSTALL)
    return exe


class MjpegServer:
    def __init__(
        self,
        *,
        scene: str = MOTION_LEFT,
        image: Path | None = None,
        port: int | None = None,
        fps: int = 10,
        inputs: list[str] | None = None,
        host: str = "127.0.0.1",  # another address of this machine: a hub in a network namespace (tests/netns)
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}/stream.mjpg"
        if inputs is not None:  # any ffmpeg inputs and filters, for scenes of several sources
            source = inputs
        elif image is not None:
            source = ["-re", "-loop", "1", "-framerate", str(fps), "-i", str(image)]
        else:
            source = ["-re", "-f", "lavfi", "-i", scene]
        self.cmd = [
            ffmpeg(),
            "-hide_banner",
            "-loglevel",
            "error",
            *source,
            "-an",
            "-c:v",
            "mjpeg",
            "-q:v",
            "4",
            "-pix_fmt",
            "yuvj420p",
            "-f",
            "mpjpeg",
            "-listen",
            "1",
            self.url,
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> MjpegServer:
        """ffmpeg listens at once; a camera that connects too early retries (as it must anyway)."""
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)
        if self.proc.poll() is not None:
            err = self.proc.stderr.read().decode() if self.proc.stderr else ""
            raise RuntimeError(f"ffmpeg exited: {err}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def __enter__(self) -> MjpegServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


RTSP_INSTALL = (
    "rtsp-server-perl is not installed: `make setup-dev` (scripts/system-deps.sh) installs it; "
    "on Debian: apt-get install rtsp-server-perl"
)


class RtspServer:
    """An RTSP camera on loopback: Debian's rtsp-server-perl relays what ffmpeg publishes to it (H.264).
    The relay sends RTP over UDP only, so a camera reading it needs `rtsp_transport = "udp"`."""

    def __init__(self, *, scene: str = MOTION_LEFT) -> None:
        exe = shutil.which("rtsp-server-perl")
        if exe is None:
            raise RuntimeError(RTSP_INSTALL)
        self.client_port, self.source_port = free_port(), free_port()
        self.url = f"rtsp://127.0.0.1:{self.client_port}/cam"
        self.server_cmd = [
            exe,
            "-c",
            str(self.client_port),
            "-s",
            str(self.source_port),
            "--client_listen_address",
            "127.0.0.1",
            "--source_listen_address",
            "127.0.0.1",
        ]
        self.ffmpeg_cmd = [
            ffmpeg(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
            scene,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
            "-g",
            "10",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "rtsp",
            f"rtsp://127.0.0.1:{self.source_port}/cam",
        ]
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> RtspServer:
        server = subprocess.Popen(
            self.server_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.procs.append(server)
        time.sleep(1.0)
        self.procs.append(subprocess.Popen(self.ffmpeg_cmd, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE))
        time.sleep(1.0)
        for proc in self.procs:
            if proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"{proc.args!r} exited at start ({proc.returncode})")
        return self

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self.procs = []

    def __enter__(self) -> RtspServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


GST_PYTHON = "/usr/bin/python3"  # Debian's, which has python3-gi; the virtualenv's has not
GST_SERVER = Path(__file__).with_name("rtsp_gst_server.py")
GST_INSTALL = (
    "GStreamer's RTSP server is not installed: `make setup-dev` (scripts/system-deps.sh) installs it; on Debian: "
    "apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good"
)


class TcpRtspServer:
    """An RTSP camera on loopback that sends RTP interleaved over TCP only: GStreamer's RTSP server
    (`rtsp_gst_server.py`, MJPEG, the `MOTION_LEFT` scene), run by Debian's python3. It refuses RTP
    over UDP, so a camera reading it proves the default `rtsp_transport = "tcp"`."""

    def __init__(self) -> None:
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> TcpRtspServer:
        check = [GST_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"]
        if not Path(GST_PYTHON).exists() or subprocess.run(check, capture_output=True).returncode != 0:
            raise RuntimeError(GST_INSTALL)
        cmd = [GST_PYTHON, str(GST_SERVER)]
        pipe = subprocess.PIPE  # it writes nothing more once it listens
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=pipe, stderr=pipe, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()  # printed once it listens; empty if it died
        if not self.url.startswith("rtsp://"):
            self.proc.kill()
            _, err = self.proc.communicate()
            rc, self.proc = self.proc.returncode, None
            raise RuntimeError(f"rtsp_gst_server.py did not start (exit {rc}): {err}")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.communicate()  # reaps it, and closes its pipes
        self.proc = None

    def __enter__(self) -> TcpRtspServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
