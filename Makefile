# Quick start: `make demo` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: demo test test-long lint bench bench-emulator bench-startup bench-terraform clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m reconciler.demo

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests bench
	$(BIN)/ruff format --check reconciler tests bench
	$(BIN)/mypy reconciler

test: lint
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# The long sweeps: 300 fault seeds instead of 20, with the figures summarised at the end, and
# every property test with random examples (`make test` runs them derandomized): add a failure
# found here to its test as an explicit @example.
test-long: $(STAMP)
	rm -f .reliability.jsonl
	RECONCILER_LONG=1 RECONCILER_RELIABILITY_REPORT=$(CURDIR)/.reliability.jsonl $(BIN)/python -m pytest -n 2 -q tests/reliability
	RECONCILER_LONG=1 $(BIN)/python -m pytest -n 2 -q -m property tests --ignore=tests/reliability
	$(BIN)/python -m tests.reliability.summary .reliability.jsonl

# Benchmarks (not tests): plan and apply at scale against the emulator with 20 ms latency.
bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-startup: $(STAMP)
	$(BIN)/python -m bench.startup $(BENCH_ARGS)

bench-emulator: $(STAMP)
	$(BIN)/python -m bench.emulator_bench

bench-terraform: $(STAMP)
	$(BIN)/python -m bench.terraform_import $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .reconciler examples/*/.reconciler examples/ccr/secrets build *.egg-info
