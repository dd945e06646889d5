# The application image: one process per container (gunicorn, opendata/config/gunicorn.conf.py), settings
# from the environment (docs/operations.md), behind nginx or a load balancer (docs/deployment.md).
#   docker build -t opendata .
#   docker run -e SECRET_KEY=... -e DATABASE_URL=... -e REDIS_URL=... -p 8000:8000 opendata
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HOST=0.0.0.0 PORT=8000 WEB_CONCURRENCY=2 DEBUG=false TRUSTED_PROXY_COUNT=1
WORKDIR /app

COPY requirements.lock pyproject.toml ./
RUN python -m pip install --upgrade pip && python -m pip install -r requirements.lock

COPY . .
RUN useradd --system --home-dir /app --shell /usr/sbin/nologin opendata \
    && mkdir -p var/static && chown -R opendata var
USER opendata

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request, os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=2)"
# Migrations run once per deploy, not per container: `docker compose run --rm migrate` (compose.yaml).
CMD ["gunicorn", "-c", "opendata/config/gunicorn.conf.py"]
