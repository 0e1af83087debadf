# Two commands for a newcomer: `make run` and `make test`. Everything else is for CI and ops.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
# The second CI pass: the machine's PostgreSQL and Redis.
PG_URL ?= postgres://postgres@127.0.0.1:5432/brokerage
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
# The benchmarks' own Redis database (their queue is purged).
REDIS_BENCH_URL ?= redis://127.0.0.1:6379/14

.PHONY: install run test test-services e2e-deps lint format bench bench-pg messages check-deploy compose-check

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c requirements/constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Start the whole platform on the embedded default (SQLite, file broker, worker + beat).
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty
	@echo ""
	@echo "  The platform is at http://127.0.0.1:$(PORT)/   (API docs: /api/docs/, admin: /admin/)"
	@echo "  Stop with Ctrl-C."
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT) $(BIN)/honcho -f Procfile.embedded start

## The whole suite on the embedded default (SQLite, no Redis). Browser and worker tests
## run in the second pass (`make test-services`).
test: install
	$(BIN)/pytest -m "not integration and not e2e and not fuzz" -p no:cacheprovider

## The same suite on PostgreSQL and Redis, plus the worker and browser tests.
test-services: install e2e-deps
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) $(BIN)/pytest -p no:cacheprovider

## Debian's Chromium for Playwright (`playwright install` cannot download browsers here).
e2e-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium and a Japanese font for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Recompile the Japanese catalogue after editing locale/ja/LC_MESSAGES/django.po.
messages: install
	$(BIN)/python -c "import polib; polib.pofile('locale/ja/LC_MESSAGES/django.po').save_as_mofile('locale/ja/LC_MESSAGES/django.mo')"

## `check --deploy` with production-shaped variables must report nothing.
check-deploy: install
	DEBUG=False SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=example.jp \
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

## Validate docker-compose.yml (no Docker engine runs here, only the client checks it).
compose-check:
	@command -v docker-compose >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; }
	ENV_FILE=.env.example docker-compose --env-file .env.example config --quiet && echo "docker-compose.yml is valid"

## Speed figures (JSON, one line per benchmark) on a throw-away database: PostgreSQL when
## DATABASE_URL is set, SQLite otherwise. `make bench-pg` uses the machine's PostgreSQL.
bench: install
	$(BIN)/python -m bench.run $(ARGS)

## BENCH_DURATION (s, default 30) sets the API read load; one benchmark: make bench-pg ARGS=api_reads
bench-pg: install
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_BENCH_URL) $(BIN)/python -m bench.run $(ARGS)
