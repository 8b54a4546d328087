#!/usr/bin/env bash
# Debian packages the test suite needs: espeak-ng (a second, independent voice for test
# speech), Mosquitto (a real broker for the device tests) and PortAudio (sounddevice's
# library). Installs only what is missing.
#   scripts/system-deps.sh        # for the tests
#   scripts/system-deps.sh demo   # only what the demo needs (Mosquitto)
set -euo pipefail
missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
if [ "${1:-test}" != "demo" ]; then
  command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
  ldconfig -p 2>/dev/null | grep -q libportaudio.so || missing+=(libportaudio2)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: please install: ${missing[*]} (no apt-get here)" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "system-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
