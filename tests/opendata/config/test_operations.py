"""Running it in production: one structured log line per request, every record in UTC, a disallowed
host on one line, `check --deploy` clean under HTTPS, admin logins throttled, the gunicorn
configuration (docs/operations.md)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings

from opendata.config.logs import JSONFormatter, OneLinePerEvent, TextFormatter
from tests import api_helpers as h

ROOT = settings.BASE_DIR


def request_records(caplog):
    return [r for r in caplog.records if r.name == "opendata.request"]


def written(caplog, formatter=None) -> list[str]:
    """The lines the console handler writes: its filter, then the formatter."""
    formatter = formatter or JSONFormatter()
    return [formatter.format(r) for r in caplog.records if OneLinePerEvent().filter(r)]


# -- the request log -------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_one_structured_line_per_request_without_secrets(client, caplog):
    caplog.set_level(logging.INFO)
    from opendata.keys.models import ApiKey

    h.observations(3)
    _, key = ApiKey.objects.create_key(name="logged")
    response = h.get(client, "/api/v1/observations/?page_size=2&api_key=s3cr3t-key&token=T0ken-Value",
                     **{"Authorization": f"Bearer {key}", "User-Agent": "hackathon-app/1.0",
                        "X-Request-ID": "req-42"})
    assert response.status_code == 400  # api_key and token are unknown parameters here; logged all the same
    response = h.get(client, "/api/v1/observations/?page_size=2", **{"Authorization": f"Bearer {key}",
                                                                     "User-Agent": "hackathon-app/1.0"})
    assert response.status_code == 200
    records = request_records(caplog)
    assert len(records) == 2
    first, second = (json.loads(JSONFormatter().format(r)) for r in records)
    assert first["request_id"] == "req-42" and first["status"] == 400
    assert first["query"] == "page_size=2&api_key=REDACTED&token=REDACTED"
    assert second["method"] == "GET" and second["path"] == "/api/v1/observations/" and second["status"] == 200
    assert second["request_id"] == response["X-Request-ID"]
    assert second["db_queries"] >= 2 and second["duration_ms"] > 0 and second["bytes"] == len(response.content)
    assert second["client"] == "127.0.0.1" and second["user_agent"] == "hackathon-app/1.0"
    assert second["time"].endswith("Z") and second["level"] == "INFO" and second["logger"] == "opendata.request"
    every_line = "\n".join(written(caplog))
    secret = key.split(".", 1)[1]
    assert secret not in every_line and "s3cr3t" not in every_line and "T0ken-Value" not in every_line


@pytest.mark.django_db
def test_a_streamed_export_is_logged_when_its_last_byte_is_sent(client, caplog):
    caplog.set_level(logging.INFO)
    h.observations(5)
    response = h.get(client, "/api/v1/observations/?format=csv")
    assert response.streaming and not request_records(caplog)
    content = b"".join(response.streaming_content)
    (record,) = request_records(caplog)
    assert record.status == 200 and record.bytes == len(content) and record.db_queries >= 2


def test_the_client_address_behind_trusted_proxies(rf, settings):
    from opendata.base.observability import client_address

    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.1")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request) == "203.0.113.7"  # what the client wrote itself (6.6.6.6) is not believed


def test_every_record_is_one_line_in_utc():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom %s", ("长春",), None)
    record.created = 1735689600.25  # 2025-01-01 00:00:00.25 UTC, whatever the machine's zone
    try:
        raise ValueError("inner")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = JSONFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["time"] == "2025-01-01T00:00:00.250Z" and data["message"] == "boom 长春"
    assert "ValueError: inner" in data["exception"]
    record.exc_info = None
    assert TextFormatter().format(record) == "2025-01-01T00:00:00.250Z ERROR x: boom 长春"


@pytest.mark.django_db
def test_a_disallowed_host_is_a_400_on_one_line(client, caplog):
    response = client.get("/api/v1/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    lines = written(caplog)
    security = [line for line in lines if "DisallowedHost" in line]
    assert len(security) == 1 and "Traceback" not in security[0] and "evil.example" in security[0]
    assert not [line for line in lines if '"logger": "django.request"' in line]
    assert len(request_records(caplog)) == 1 and request_records(caplog)[0].status == 400


def test_logging_is_configured_from_the_environment():
    assert settings.LOGGING["handlers"]["console"]["formatter"] == "default"
    assert settings.TIME_ZONE == "UTC"
    from tests.opendata.config.test_settings import settings_in_subprocess

    out = settings_in_subprocess({"SECRET_KEY": "x", "LOG_FORMAT": "text"}, "settings.LOGGING['formatters']")
    assert "TextFormatter" in out.stdout
    bad = settings_in_subprocess({"SECRET_KEY": "x", "LOG_FORMAT": "xml"}, "settings.DEBUG")
    assert bad.returncode != 0 and "LOG_FORMAT must be json or text" in bad.stderr


# -- production settings -----------------------------------------------------------------------------------

def manage(env: dict, *args) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_INSECURE_KEY", "ALLOWED_HOSTS", "HTTPS"}}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=120)


PRODUCTION = {"SECRET_KEY": "k3y-" + "Zq8#pL2@xV9!mN4$wR7%tY1^bH6&cJ3*dF5(gK0)" * 2, "ALLOWED_HOSTS": "data.example.org"}


def test_check_deploy_passes_without_a_warning_under_https():
    result = manage({**PRODUCTION, "HTTPS": "true", "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"},
                    "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output and "WARNINGS" not in output


def test_without_https_check_deploy_names_what_https_would_set():
    result = manage(PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output


def test_https_settings_are_configurable():
    from tests.opendata.config.test_settings import settings_in_subprocess

    expr = ("settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
            "settings.SECURE_HSTS_PRELOAD, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
            "getattr(settings, 'SECURE_PROXY_SSL_HEADER', None)")
    on = settings_in_subprocess({"SECRET_KEY": "x", "HTTPS": "true", "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"},
                                expr)
    assert on.stdout.strip() == "True 31536000 True True True True ('HTTP_X_FORWARDED_PROTO', 'https')"
    tuned = settings_in_subprocess({"SECRET_KEY": "x", "HTTPS": "true", "SECURE_SSL_REDIRECT": "false",
                                    "SECURE_HSTS_SECONDS": "3600", "SECURE_HSTS_PRELOAD": "false"}, expr)
    assert tuned.stdout.strip() == "False 3600 True False True True None"
    off = settings_in_subprocess({"SECRET_KEY": "x"}, expr)
    assert off.stdout.strip() == "False 0 False False False False None"


@pytest.mark.django_db
def test_retry_after_is_readable_by_browsers(client):
    response = h.get(client, "/api/v1/sources/", Origin="https://app.example")
    assert "Retry-After" in response["Access-Control-Expose-Headers"]


@pytest.mark.django_db
def test_the_html_pages_get_the_policy_of_the_settings_through_django_csp(client):
    assert "csp.middleware.CSPMiddleware" not in settings.MIDDLEWARE  # ours: the same, on HTML only
    from csp.middleware import CSPMiddleware

    from opendata.config.middleware import ContentSecurityPolicyMiddleware

    assert issubclass(ContentSecurityPolicyMiddleware, CSPMiddleware)
    policy = client.get("/graphql/", headers={"Accept": "text/html"})["Content-Security-Policy"]
    assert set(policy.split("; ")) == {
        "default-src 'self'", "script-src 'self' 'unsafe-inline'", "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:", "font-src 'self' data:", "connect-src 'self'", "worker-src 'self' blob:",
        "frame-ancestors 'none'", "base-uri 'self'", "form-action 'self'"}


# -- admin logins -----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_admin_login_is_refused_after_too_many_wrong_passwords(client, django_user_model, settings):
    django_user_model.objects.create_superuser("curator", "curator@example.invalid", "the-right-password-1")
    limit = settings.AXES_FAILURE_LIMIT

    def login(password, username="curator", address="198.51.100.7"):
        return client.post("/admin/login/?next=/admin/", {"username": username, "password": password},
                           REMOTE_ADDR=address)

    for _ in range(limit - 1):
        assert login("wrong").status_code == 200  # the form again, with its error
    assert login("the-right-password-1").status_code == 302  # under the limit: in, and the count resets
    client.logout()
    for _ in range(limit):
        login("wrong")
    refused = login("the-right-password-1")
    assert refused.status_code == 429 and "_auth_user_id" not in client.session
    assert login("the-right-password-1", address="198.51.100.8").status_code == 302  # per username + address


# -- the gunicorn configuration ------------------------------------------------------------------------------

def gunicorn_config(env: dict) -> subprocess.CompletedProcess:
    code = ("import runpy, json; c = runpy.run_path('opendata/config/gunicorn.conf.py'); "
            "print(json.dumps({k: c[k] for k in ('bind', 'workers', 'threads', 'worker_class', 'timeout', "
            "'keepalive', 'preload_app', 'accesslog', 'control_socket_disable')}))")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "DATABASE_", "WEB_CONCURRENCY"))}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True,
                          text=True, timeout=60)


def test_gunicorn_configuration_from_the_environment():
    defaults = json.loads(gunicorn_config({}).stdout)
    assert defaults["bind"] == ["127.0.0.1:8000"] and defaults["accesslog"] is None
    assert defaults["timeout"] > 5 + 3 and defaults["preload_app"] is True
    assert defaults["worker_class"] == "gthread" and defaults["threads"] == 2
    assert defaults["control_socket_disable"] is True
    tuned = json.loads(gunicorn_config({"HOST": "0.0.0.0", "PORT": "9000", "WEB_CONCURRENCY": "3",
                                        "GUNICORN_THREADS": "1", "GUNICORN_KEEPALIVE": "75",
                                        "GUNICORN_PRELOAD": "false", "DATABASE_STATEMENT_TIMEOUT": "60"}).stdout)
    assert tuned["bind"] == ["0.0.0.0:9000"] and tuned["workers"] == 3 and tuned["threads"] == 1
    assert tuned["worker_class"] == "sync" and tuned["keepalive"] == 75 and tuned["preload_app"] is False
    assert tuned["timeout"] > 63  # above what a request may wait on the database


def test_gunicorn_refuses_a_worker_timeout_below_the_database_timeouts():
    result = gunicorn_config({"GUNICORN_TIMEOUT": "6"})
    assert result.returncode != 0 and "must exceed" in result.stderr


def test_gunicorn_freezes_the_start_up_heap_before_forking_and_raises_the_worker_gc_threshold():
    code = ("import gc, runpy; c = runpy.run_path('opendata/config/gunicorn.conf.py'); "
            "before = gc.get_freeze_count(); c['pre_fork'](None, None); frozen = gc.get_freeze_count(); "
            "c['post_fork'](None, None); print(before, frozen > before, gc.get_threshold()[0])")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "DATABASE_", "PYTHON_GC"))}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["0", "True", "50000"], out.stderr
    off = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**base, "PYTHON_GC_FREEZE": "false", "PYTHON_GC_THRESHOLD": "700"})
    assert off.stdout.split() == ["0", "False", "700"], off.stderr
