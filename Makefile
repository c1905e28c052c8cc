# Two commands set everything up on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install demo test bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: the CPU build (an unpinned torch pulls a multi-GB CUDA build)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

# axe-core for the browser tests' accessibility checks (package.json), when there is one
NODE_DEPS = $(if $(wildcard package.json),node_modules/.package-lock.json)
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(BIN)/.installed $(NODE_DEPS)

demo: $(BIN)/.installed
	$(BIN)/matcher serve --demo --db demo.db --host $(HOST) --port $(PORT)

test: $(BIN)/.installed $(NODE_DEPS)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) demo.db* node_modules tests/artifacts
