# The two commands of the quick start: `make demo` and `make test`. Both set up .venv first.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup setup-dev demo test lint bench bench-devices bench-cloud bench-brain eval clean

setup:
	@bash scripts/system-deps.sh demo
	@bash scripts/setup.sh edge

setup-dev:
	@bash scripts/system-deps.sh
	@bash scripts/setup.sh edge,cloud,dev

demo: setup
	$(BIN)/companion demo

test: setup-dev
	$(BIN)/python -m pytest

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

bench-brain: setup-dev
	$(BIN)/python -m bench.brain

eval: setup-dev
	$(BIN)/python -m tests.eval.run --json bench/results/eval.json

clean:
	rm -rf $(VENV) demo-out bench/results .pytest_cache .mypy_cache .ruff_cache
