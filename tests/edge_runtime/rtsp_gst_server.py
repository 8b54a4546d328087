"""An RTSP camera that sends RTP interleaved over TCP only: GStreamer's RTSP server on loopback.

Run with Debian's /usr/bin/python3 (python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-base
and -good), not the project's virtualenv. It serves MJPEG over RTP at one mount, on a free port of
127.0.0.1, and prints its URL on stdout once it listens. A client asking for RTP over UDP is refused
(461 Unsupported Transport).

The scene is `vision_stream.MOTION_LEFT`'s: a grey yard at 640x480 and 10 frames a second; an 80x80
white box walks across the left half during seconds 4..7 of every 12. Each client gets a stream of its
own, counted from when it asks (the media is not shared: a shared one being torn down after a client
leaves answers the next DESCRIBE with 503).
"""

from __future__ import annotations

import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

MOUNT = "/cam"
FPS = 10
PIPELINE = (
    "( videotestsrc is-live=true pattern=solid-color foreground-color=0xff505050"
    f" ! video/x-raw,width=640,height=480,framerate={FPS}/1"
    " ! compositor name=mix sink_1::xpos=20 sink_1::ypos=200 sink_1::alpha=0"
    " ! videoconvert ! video/x-raw,format=I420 ! jpegenc quality=85 ! rtpjpegpay name=pay0 pt=26"
    " videotestsrc is-live=true pattern=solid-color foreground-color=0xffffffff"
    f" ! video/x-raw,width=80,height=80,framerate={FPS}/1 ! mix. )"
)


def walk_the_box(media: GstRtspServer.RTSPMedia) -> None:
    """Move the box every frame, on the main loop, until the media is torn down."""
    pad = media.get_element().get_by_name("mix").get_static_pad("sink_1")
    start = time.monotonic()

    def tick() -> bool:
        t = time.monotonic() - start
        pad.set_property("alpha", 1.0 if 4.0 <= t % 12.0 <= 7.0 else 0.0)
        pad.set_property("xpos", 20 + 40 * (int(t * FPS) % 6))
        return True

    source = GLib.timeout_add(1000 // FPS, tick)
    media.connect("unprepared", lambda *_: GLib.source_remove(source))


def main() -> None:
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")  # any free port; read back below
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(PIPELINE)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
    factory.connect("media-configure", lambda _factory, media: walk_the_box(media))
    server.get_mount_points().add_factory(MOUNT, factory)
    if server.attach(None) == 0:
        sys.exit("rtsp_gst_server: could not listen on 127.0.0.1")
    print(f"rtsp://127.0.0.1:{server.get_bound_port()}{MOUNT}", flush=True)
    loop = GLib.MainLoop()
    loop.run()


if __name__ == "__main__":
    main()
