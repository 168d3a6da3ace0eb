# The two commands a newcomer needs: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench workers mutation install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The connector template installs beside the gateway, as any third-party connector would: its
# entry point makes `type: template` usable and `make test` runs the kit against it.
TEMPLATE := examples/connector-template

$(STAMP): $(BIN)/python pyproject.toml $(TEMPLATE)/pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,dev]' -e $(TEMPLATE)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/gateway demo --port $${PORT:-8080}

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 tests $(TEMPLATE)

lint: $(STAMP)
	$(BIN)/ruff check gateway connectors tests examples
	$(BIN)/mypy
	MYPYPATH=$(TEMPLATE) $(BIN)/mypy --strict $(TEMPLATE)/recordgate_template

bench: $(STAMP)
	$(BIN)/python -m tests.bench.run_bench
	$(BIN)/python -m tests.bench.cache_bench

# --workers 2 vs --workers 1 on one record's read at concurrency 32 (Redis state), one run.
workers: $(STAMP)
	$(BIN)/python -m tests.bench.workers_bench

# By hand, minutes: mutants of the modules in [tool.mutmut] (pyproject.toml) against the tests
# named there; `$(BIN)/mutmut show <name>` shows a survivor.
mutation: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache mutants
