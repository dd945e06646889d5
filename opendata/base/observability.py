"""Small pieces of observability shared by the project: a log record at most once per interval, and
the client's address as the logs (and the rate limiter) should see it."""

from __future__ import annotations

import ipaddress
import logging
import threading
import time

from django.conf import settings


class EveryInterval:
    """True at most once per `seconds` per key in this process: an outage is logged, not every request
    it fails (the access log has those)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, key: str) -> tuple[bool, int]:
        """(whether to log now, how many were suppressed since the last record)."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.seconds:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return False, 0
            self._last[key] = now
            return True, self._suppressed.pop(key, 0)

    def log(self, logger: logging.Logger, level: int, key: str, msg: str, *args, **kwargs) -> None:
        emit, suppressed = self(key)
        if emit:
            extra = {**kwargs.pop("extra", {}), "suppressed": suppressed}
            logger.log(level, msg, *args, extra=extra, **kwargs)


def client_address(request) -> str:
    """The client's address (logs, rate limits, admin login throttling): REMOTE_ADDR, or behind
    `TRUSTED_PROXY_COUNT` proxies of our own the N-th address of X-Forwarded-For from the right (each
    proxy appends the address it received the request from; what a client writes to the left of it
    is not trusted). A header with fewer addresses than proxies, or no address there: REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    address = remote
    trusted = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if trusted > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= trusted:
            address = hops[-trusted]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        try:
            return str(ipaddress.ip_address(remote))
        except ValueError:
            return ""  # no address (a request made in-process): stored as none, never as a made-up one
