#!/usr/bin/env python
"""Django's command-line utility."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opendata.config.settings")
    # Commands (migrate, load_opendata) may run long statements on purpose: the statement timeout is for
    # requests (opendata/config/database.py); set DATABASE_STATEMENT_TIMEOUT to give a command one.
    os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT", "0")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
