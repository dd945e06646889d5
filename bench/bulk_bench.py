"""The bulk upsert of observations measured in-process (the service behind POST /observations/bulk/),
where wrk's numbers are noisy on a busy machine: 10,000 rows (BULK_ROWS) in batches of 1,000, each batch
in a transaction rolled back afterwards (the database is left as it was), first as creates, then the
same rows again as updates. Prints rows/s (wall) and this process's CPU per row (the database server's
CPU is not in it) and the SQL statements per row.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/od_bench .venv/bin/python bench/bulk_bench.py

It uses the rows and the source of `bench/wrk_bench.py`'s bulk scenario, in the database `make bench`
builds (built here on a first run, which takes minutes).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import run  # noqa: E402
import wrk_bench  # noqa: E402


class _Undo(Exception):
    pass


def main() -> None:
    run.configure_database(False)
    import django

    django.setup()
    from django.db import connection, transaction

    run.build(1_000_000)  # migrates; reuses the synthetic data when it is there (builds it otherwise)

    from indicators.services import observation_bulk_upsert

    counted = [0]

    def count(execute, sql, params, many, context):
        counted[0] += 1
        return execute(sql, params, many, context)

    _, batches = wrk_bench.bulk_setup()
    rows = sum(len(b) for b in batches)
    for label, passes in (("create", 1), ("update", 2)):
        wall = cpu = 0.0
        statements = 0
        for batch in batches:
            try:
                with transaction.atomic():
                    for i in range(passes):  # the second pass of "update" updates what the first created
                        if i == passes - 1:
                            counted[0] = 0
                            with connection.execute_wrapper(count):
                                w0, c0 = time.perf_counter(), time.process_time()
                                observation_bulk_upsert(rows=[{**r, "period_label": r["period_label"] + label}
                                                              for r in batch], actor="bench")
                                wall += time.perf_counter() - w0
                                cpu += time.process_time() - c0
                            statements += counted[0]
                        else:
                            observation_bulk_upsert(rows=batch, actor="bench")
                    raise _Undo
            except _Undo:
                pass
        print(f"bulk {label}: {rows:,} rows in {wall:.1f} s: {rows / wall:,.0f} rows/s; "
              f"CPU {cpu / rows * 1000:.2f} ms/row in this process; {statements / rows:.2f} SQL statements/row, "
              f"{statements / len(batches):.0f} a request of {len(batches[0]):,} rows ({connection.vendor})", flush=True)


if __name__ == "__main__":
    main()
