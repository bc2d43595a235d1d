# The two commands: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: install install-dev lock sdk-deps run migrate test lint fuzz clean bench-relay bench-connections bench-conversations bench-search bench-chart

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Each requirements file is a complete lock (every transitive dependency, pinned with its hashes):
# pip installs nothing that is not in it, nor a file whose hash differs.
$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet --require-hashes -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

$(VENV)/.installed-bench: bench/requirements.txt $(VENV)/.installed-dev
	$(PY) -m pip install --quiet --require-hashes -r bench/requirements.txt
	touch $@

# Recompile the locks from the .in files (the direct dependencies): a version changes only where an .in
# file changed it (uv keeps the versions already locked); dev and bench keep the versions of the file
# they build on. Then `make install-dev` installs the result.
LOCK := $(VENV)/bin/uv pip compile --quiet --generate-hashes --python $(PY) --custom-compile-command "make lock"
lock: $(VENV)/.installed-dev
	$(LOCK) requirements.in -o requirements.txt
	$(LOCK) requirements-dev.in -o requirements-dev.txt
	$(LOCK) bench/requirements.in -o bench/requirements.txt

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) -m flask --app app migrate

# The production server (gevent worker, gunicorn.conf.py's shutdown hooks) on SQLite and the in-process
# broker: one process, since the in-process broker reaches only its own sockets. `python app.py` is for debugging.
run: migrate
	$(PY) -m gunicorn -k gevent -w 1 -b "$${HOST:-127.0.0.1}:$${PORT:-8000}" 'app:create_app()'

# The SDK's dev dependency (`ws`) for its Node tests, which pytest runs (tests/sdk); without npm they skip.
sdk/node_modules/.package-lock.json: sdk/package-lock.json
	@if command -v npm >/dev/null 2>&1; then cd sdk && { npm ci --no-audit --no-fund --silent || echo "npm ci failed: the SDK's Node tests will skip"; }; \
	else echo "npm is missing: the SDK's Node tests will skip"; fi

sdk-deps: sdk/node_modules/.package-lock.json

# The suite in PYTEST_WORKERS processes (pytest-xdist): most tests wait on sockets, servers and databases,
# so two workers on two cores take about half the time of one.
PYTEST_WORKERS ?= 2
test: install-dev sdk-deps
	$(PY) -m pytest -n $(PYTEST_WORKERS)

# Lint (ruff: pycodestyle, pyflakes, import order, bugbear) and types (mypy) of the application code;
# both configured in pyproject.toml. .ci/run runs it before the tests.
LINTED := app.py gunicorn.conf.py config core chat marketplace web
lint: install-dev
	$(PY) -m ruff check $(LINTED)
	$(PY) -m mypy

# A long Schemathesis campaign by hand (every check and phase against gunicorn, as `make test`'s bounded
# run): FUZZ_EXAMPLES per operation, a new seed each run unless FUZZ_SEED is set; add
# TEST_DATABASE_URL=postgresql://... to fuzz PostgreSQL too.
fuzz: install-dev
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} FUZZ_SEED=$${FUZZ_SEED:-$$(date +%s)} $(PY) -m pytest tests/fuzz -q -p no:cacheprovider

# The full chaos run (bench/chaos.py): needs PostgreSQL, e.g. TEST_DATABASE_URL=postgresql://root@127.0.0.1:5432/test
.PHONY: chaos
chaos: install-dev
	$(PY) bench/chaos.py

clean:
	rm -rf $(VENV) .pytest_cache sdk/node_modules

# Benchmarks (run by hand, never by `make test`; see BENCHMARKS.md). PostgreSQL comes from
# TEST_DATABASE_URL (a private schema is made and dropped); BENCH_ARGS adds options.
bench-relay: $(VENV)/.installed-bench
	$(PY) -m bench.relay $(BENCH_ARGS)

bench-connections: $(VENV)/.installed-bench
	$(PY) -m bench.connections $(BENCH_ARGS)

bench-conversations: $(VENV)/.installed-bench
	$(PY) bench/conversations.py $(BENCH_ARGS)

bench-search: $(VENV)/.installed-bench
	$(PY) bench/search.py $(BENCH_ARGS)

bench-chart: $(VENV)/.installed-bench
	$(PY) -m bench.chart
