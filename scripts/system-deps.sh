#!/usr/bin/env bash
# Debian packages the test suite needs: espeak-ng (a second, independent voice for test
# speech), Mosquitto (a real broker for the device tests), PortAudio (sounddevice's library),
# Node.js with npm (the Yjs client of the sync interop test), Chromium (the web app's
# end-to-end tests, driven by playwright-core), FFmpeg, rtsp-server-perl and GStreamer's RTSP
# server with python3-gi (real camera streams for the vision tests), tshark (the capture of
# tests/netns: what the hub sends to the cloud side).
# Installs only what is missing.
#   scripts/system-deps.sh        # for the tests
#   scripts/system-deps.sh demo   # only what the demo needs (Mosquitto)
set -euo pipefail
missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
if [ "${1:-test}" != "demo" ]; then
  command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
  ldconfig -p 2>/dev/null | grep -q libportaudio.so || missing+=(libportaudio2)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)  # the load generator of bench/cloud.py
  command -v node >/dev/null 2>&1 || missing+=(nodejs npm)  # tests/sync/node: the npm yjs client
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)  # tests/browser: the web app in a real browser
  command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)  # tests of edge_runtime/vision: real MJPEG and RTSP streams
  command -v rtsp-server-perl >/dev/null 2>&1 || missing+=(rtsp-server-perl)  # the RTSP relay those tests read from
  # tests/edge_runtime/rtsp_gst_server.py, run by Debian's python3: an RTSP camera sending RTP over TCP only
  gst="import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0')
from gi.repository import Gst; Gst.init(None)
assert all(Gst.ElementFactory.find(e) for e in ('videotestsrc', 'compositor', 'jpegenc', 'rtpjpegpay'))"
  /usr/bin/python3 -c "$gst" >/dev/null 2>&1 \
    || missing+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good)
  command -v tshark >/dev/null 2>&1 || missing+=(tshark)  # tests/netns: capture the hub's traffic to the cloud side
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)  # tests/netns: `ip netns`, veth pairs
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: please install: ${missing[*]} (no apt-get here)" >&2
    exit 1
  fi
  echo "system-deps: installing ${missing[*]}"
  # tshark's package asks whether non-root users may capture; answer no (the tests run as root).
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections 2>/dev/null || true
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "${1:-test}" = "demo" ] && exit 0

# The cloud tests talk to real PostgreSQL and Redis on loopback. Use running ones; otherwise
# install and start them (a throwaway test machine: loopback connections are trusted).
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! listening 5432; then
  echo "system-deps: starting PostgreSQL for the tests"
  command -v pg_ctlcluster >/dev/null 2>&1 || { $sudo apt-get update -qq; DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null; }
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  grep -q "companion-tests" "$hba" || printf '# companion-tests\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' | $sudo tee -a "$hba" >/dev/null
  $sudo pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
if ! listening 6379; then
  echo "system-deps: starting Redis for the tests"
  command -v redis-server >/dev/null 2>&1 || { $sudo apt-get update -qq; DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null; }
  $sudo redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
