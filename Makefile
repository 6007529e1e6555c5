# The two commands of the README, and the few a developer needs besides.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run stop test bench chaos lint types unit install contract-deps chromium clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The independent AsyncAPI validator (the AsyncAPI initiative's parser), pinned by the lock file.
NODE_DEPS := tests/contract/node_modules/.package-lock.json
$(NODE_DEPS): tests/contract/package.json tests/contract/package-lock.json
	npm ci --prefix tests/contract --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $(NODE_DEPS)

contract-deps: $(NODE_DEPS)

# The console's browser tests drive Debian's own Chromium; Playwright never downloads a browser.
# Installed only when it is missing (as root, or through sudo).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(CHROMIUM):
	@echo "make: $(CHROMIUM) is missing; installing Debian's chromium package for the browser tests"
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

chromium: $(CHROMIUM)

## make run: local Kafka, the topics, the hub in the foreground with the bundled samples; the
## hub serves the operations console too and prints its address and the dev login.
run: $(STAMP)
	$(BIN)/hub kafka up
	$(BIN)/hub topics ensure
	$(BIN)/hub run --demo

## make stop: stop the local Kafka that `make run` started.
stop: $(STAMP)
	$(BIN)/hub kafka down

## make bench: the hub's throughput and latency beside the raw Kafka limit, on a broker of its
## own (a few minutes); prints a table and writes bench-results/bench-<time>.json. `make test`
## only runs it once, tiny, to prove it works. More: `.venv/bin/hub bench --help`.
bench: $(STAMP)
	$(BIN)/hub bench

## make chaos: the chaos suite at full size: 100,000 documents from the three sources through
## three brokers and two hub processes while brokers and hubs are killed, a broker is paused and
## the groups rebalance; then an independent checker reads every topic. Prints its report and
## writes chaos-results/chaos-<time>.json (about 26 minutes on a 2-core machine). `make test`
## runs a short one. More:
## `.venv/bin/python -m tests.chaos --help`.
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos

## make test: lint, types, then every test (the real broker, the contract validator and the
## browser included). The slowest tests are listed at the end: the whole must stay within CI's
## time on a 2-core machine.
test: lint types contract-deps chromium
	$(BIN)/pytest --durations=15

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/contract/node_modules
