"""PostgreSQL as Django's backend, with a connection pool that sweeps its dead connections (base.py)."""
