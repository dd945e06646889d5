# Two commands on a fresh machine: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

export DJANGO_SETTINGS_MODULE := opendata.config.settings

.PHONY: run test install migrate load serve bench cluster cluster-stop schema schema-rest schema-graphql \
        schema-dictionary check-schema superuser report downloads docs docs-serve clean

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

# The landing page links the docs site and the downloads: both are built first (a few seconds each).
run: downloads docs
	@echo ""
	@echo "  Website:       http://$(HOST):$(PORT)/  (English and Chinese)"
	@echo "  API root:      http://$(HOST):$(PORT)/api/v1/"
	@echo "  API docs:      http://$(HOST):$(PORT)/api/v1/docs/  (Redoc: /api/v1/redoc/, schema: /api/v1/schema/)"
	@echo "  GraphQL:       http://$(HOST):$(PORT)/graphql/"
	@echo "  Docs site:     http://$(HOST):$(PORT)/docs/  (built by make docs)"
	@echo "  Downloads:     http://$(HOST):$(PORT)/downloads/  (built by make downloads)"
	@echo "  Admin:         http://$(HOST):$(PORT)/admin/  (make superuser first)"
	@echo ""
	DEBUG=$${DEBUG:-true} LOG_FORMAT=$${LOG_FORMAT:-text} $(PY) manage.py runserver $(HOST):$(PORT)

# The production server: gunicorn with opendata/config/gunicorn.conf.py, DEBUG off whatever the shell
# says. It needs SECRET_KEY (and the other settings of docs/operations.md) in the environment, which it
# passes through:   SECRET_KEY=... make serve HOST=127.0.0.1 PORT=8000
# Migrate first (make migrate, or manage.py migrate with the same DATABASE_URL).
serve: install
	DEBUG=false HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/gunicorn -c opendata/config/gunicorn.conf.py

# A scaled-out deployment on this machine (scripts/cluster.py, docs/deployment.md): a PostgreSQL primary
# and a streaming replica, Redis, CLUSTER_APPS application processes (2) and nginx in front; prints the
# address. `make cluster-stop` stops everything it started, by PID.
cluster: install
	$(PY) scripts/cluster.py start

cluster-stop:
	$(PY) scripts/cluster.py stop

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# The benchmark of docs/performance.md on PostgreSQL (1,000,000 synthetic observations in the database od_bench,
# built on first use): R1-R6 and a bulk upsert under wrk (bench/wrk_bench.py), then 50 clients for 60 s
# (bench/load.py), then scaling out (bench/scale.py): 1, 2 and 4 application processes behind nginx, with and
# without its cache, reads on the replica ("Scaling out"). BENCH_DATABASE_URL to use another database (its
# name must contain "bench").
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/od_bench
bench: install
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/wrk_bench.py
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/load.py
	$(PY) bench/scale.py

schema: schema-rest schema-graphql schema-dictionary

# The committed OpenAPI contract of each REST version (tests/opendata/base/api/test_schema.py fails on drift).
schema-rest: install
	DEBUG=true $(PY) manage.py spectacular --api-version v1 --validate --fail-on-warn --file docs/openapi/v1.yaml

schema-graphql: install
	DEBUG=true $(PY) manage.py graphql_schema --schema opendata.config.schema.schema --out docs/graphql/schema.graphql

# The data dictionary (docs/dictionary.md, docs/dictionary.json) from the serializers, models, FilterSets and
# fixtures/units.yaml; the same as GET /api/v1/dictionary/ (tests/opendata/publish/test_dictionary.py fails on drift).
schema-dictionary: install
	DEBUG=true $(PY) manage.py data_dictionary

# An admin user for http://127.0.0.1:8000/admin/ (asks for a name and a password; without a terminal:
# DJANGO_SUPERUSER_USERNAME=... DJANGO_SUPERUSER_PASSWORD=... DJANGO_SUPERUSER_EMAIL=... make superuser ARGS=--noinput).
superuser: migrate
	DEBUG=$${DEBUG:-true} $(PY) manage.py createsuperuser $(ARGS)

# What the loaded data covers (docs/data-report.md is this, committed).
report: load
	DEBUG=$${DEBUG:-true} $(PY) manage.py data_report

# The bulk files for analysts (CSV, XLSX, Parquet, NDJSON, SQLite and manifest.json) into var/downloads/,
# served at /downloads/ (docs/downloads.md). BASE_URL is the address written into the files' links.
BASE_URL ?= http://$(HOST):$(PORT)
downloads: load
	DEBUG=$${DEBUG:-true} $(PY) manage.py build_downloads --base-url $(BASE_URL)

# The documentation site (MkDocs Material, mkdocs.yml) built from docs/ into site/, strict (a broken link or
# anchor fails), then served by `make run` at /docs/. `make docs-serve` previews it alone on port 8001.
docs: install
	DEBUG=true $(PY) manage.py data_dictionary
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site
	$(PY) scripts/check_links.py site

docs-serve: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --dev-addr $(HOST):8001

check-schema: install
	$(PY) -m pytest -q tests/opendata/base/api/test_schema.py tests/opendata/base/graphql/test_schema.py

clean:
	rm -rf $(VENV) var site
