# Two commands on a fresh machine: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

export DJANGO_SETTINGS_MODULE := opendata.config.settings

.PHONY: run test install migrate load serve bench schema schema-rest schema-graphql check-schema clean

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $@

install: $(VENV)/.installed

migrate: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput

load: migrate
	DEBUG=$${DEBUG:-true} $(PY) manage.py load_opendata

run: load
	@echo ""
	@echo "  API root:      http://$(HOST):$(PORT)/api/v1/"
	@echo "  API docs:      http://$(HOST):$(PORT)/api/v1/docs/  (Redoc: /api/v1/redoc/, schema: /api/v1/schema/)"
	@echo "  GraphQL:       http://$(HOST):$(PORT)/graphql/"
	@echo "  Admin:         http://$(HOST):$(PORT)/admin/  (python manage.py createsuperuser first)"
	@echo ""
	DEBUG=$${DEBUG:-true} LOG_FORMAT=$${LOG_FORMAT:-text} $(PY) manage.py runserver $(HOST):$(PORT)

# The production server: gunicorn with opendata/config/gunicorn.conf.py, DEBUG off whatever the shell
# says. It needs SECRET_KEY (and the other settings of docs/operations.md) in the environment, which it
# passes through:   SECRET_KEY=... make serve HOST=127.0.0.1 PORT=8000
# Migrate first (make migrate, or manage.py migrate with the same DATABASE_URL).
serve: install
	DEBUG=false HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/gunicorn -c opendata/config/gunicorn.conf.py

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# The benchmark of docs/performance.md on PostgreSQL (1,000,000 synthetic observations in the database od_bench,
# built on first use): R1-R6 and a bulk upsert under wrk (bench/wrk_bench.py), then 50 clients for 60 s
# (bench/load.py). BENCH_DATABASE_URL to use another database (its name must contain "bench").
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/od_bench
bench: install
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/wrk_bench.py
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/load.py

schema: schema-rest schema-graphql

# The committed OpenAPI contract of each REST version (tests/opendata/base/api/test_schema.py fails on drift).
schema-rest: install
	DEBUG=true $(PY) manage.py spectacular --api-version v1 --validate --fail-on-warn --file docs/openapi/v1.yaml

schema-graphql: install
	DEBUG=true $(PY) manage.py graphql_schema --schema opendata.config.schema.schema --out docs/graphql/schema.graphql

check-schema: install
	$(PY) -m pytest -q tests/opendata/base/api/test_schema.py tests/opendata/base/graphql/test_schema.py

clean:
	rm -rf $(VENV) var
