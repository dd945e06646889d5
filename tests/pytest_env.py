"""pytest plugin loaded with `-p` (see pyproject): environment that must exist before Django starts."""

import os

os.environ.setdefault("DJANGO_ALLOW_INSECURE_KEY", "1")
