# Two entry points from a fresh clone: `make run` and `make test`. Only python3 and make are needed.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEMO_DB ?= demo.db
DEMO_USER ?= alice

.PHONY: setup run test test-both test-sqlite test-pg bench torture lint clean postgres-bin wrk-bin bytecode

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

## Compile the sources once, so that every `orderq` process (the suite starts thousands) loads bytecode
## instead of compiling ~50 modules again: where PYTHONDONTWRITEBYTECODE is set, Python never caches
## them itself. compileall writes regardless, and only what changed.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q core db tui cli api bench tests >/dev/null

## Open the TUI on a demo database (created on first run).
run: $(STAMP) bytecode
	@test -f $(DEMO_DB) || ($(BIN)/orderq --db $(DEMO_DB) init && $(BIN)/orderq --db $(DEMO_DB) demo --orders 2000 --seed 7)
	$(BIN)/orderq --db $(DEMO_DB) tui --user $(DEMO_USER)

## The whole test suite, on one backend: SQLite unless ORDERQ_TEST_BACKEND=postgresql (tests/conftest.py's
## --backend switch; on SQLite it includes tests/pg/, which starts a throwaway PostgreSQL). The same
## command passes on both: `ORDERQ_TEST_BACKEND=postgresql make test` runs every test on PostgreSQL
## except those about SQLite by nature (marked sqlite_only) and tests/pg/. `make test-both` runs the two
## passes at once (tests/both_backends.py): ~19 min on 2 cores against ~10 for one, so CI runs one.
TEST_ARGS ?= -q -n 2
test: $(STAMP) postgres-bin bytecode
	$(BIN)/lint-imports
	$(BIN)/pytest $(TEST_ARGS)

## Both passes at once, the SQLite one printed live and the PostgreSQL one after it; exit status the worse.
test-both: $(STAMP) postgres-bin bytecode
	$(BIN)/lint-imports
	$(BIN)/python -m tests.both_backends $(TEST_ARGS)

## One pass alone: the SQLite one, or the PostgreSQL one.
test-sqlite: $(STAMP) bytecode
	$(BIN)/pytest $(TEST_ARGS) --backend=sqlite

test-pg: $(STAMP) postgres-bin bytecode
	$(BIN)/pytest $(TEST_ARGS) --backend=postgresql

## The tests start a throwaway PostgreSQL server (tests/pg_server.py); install its binaries if missing.
postgres-bin:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)

## bench_api drives its HTTP load with wrk (Debian package); install it if missing. If it cannot be
## installed, bench_api falls back to a Python client and says so in its rows.
wrk-bin:
	@command -v wrk >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) || \
	  echo "wrk could not be installed: bench_api falls back to its Python client"

bench: $(STAMP) postgres-bin wrk-bin bytecode
	$(BIN)/python -m bench

torture: $(STAMP)
	ORDERQ_TORTURE_SECONDS=$${ORDERQ_TORTURE_SECONDS:-600} $(BIN)/pytest -q -m slow -s tests/prove/test_torture.py

clean:
	rm -rf $(VENV) $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
