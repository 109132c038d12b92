# Two things most people want: `make demo` (a server with demo data on the
# embedded SQLite default; `make demo PORT=8080` for another port) and `make test` (the whole suite on SQLite and
# PostgreSQL). Both create .venv and install the project on first use.
PYTHON ?= python3
PORT   ?= 8000
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench schema lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/slogov serve --demo --port $(PORT)

test: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.store

schema: $(STAMP)
	$(BIN)/python -m api.schema.export > schema.graphql

# Unused imports and variables, undefined names: pyflakes over every package (it is not a
# test dependency, so this installs it on first use).
LINTED := api domain eventstore policies projections service bench scripts tests migrations
lint: $(STAMP)
	$(BIN)/python -m pip install --quiet pyflakes
	$(BIN)/python -m pyflakes $(LINTED)

clean:
	rm -rf $(VENV) slogov.db slogov.db-wal slogov.db-shm
