"""The layers hold (docs/architecture.md): the shared base imports no app, the catalogue imports no
app built on it, and an app uses another only through its public surface (models, selectors,
filters), never its interfaces. Read from the source with `ast`, so a new import that breaks a layer
fails here before a reviewer has to find it."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = {"indicators", "projects", "opendata.catalogue", "opendata.loader", "opendata.keys", "opendata.config",
        "opendata.publish", "opendata.pages"}
PUBLIC = ("models", "selectors", "filters", "links", "services")
# The catalogue's records are embedded in every fact (a citation in an observation), so their
# representations are public too: the facts' serializers and GraphQL types embed them.
EMBEDDED = ("api.v1.serializers", "graphql.types")


def imports(package: str) -> list[tuple[str, str]]:
    """(file, imported module) for every import in the package's Python files."""
    found = []
    for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found += [(str(path.relative_to(ROOT)), node.module)]
                found += [(str(path.relative_to(ROOT)), f"{node.module}.{a.name}") for a in node.names]
            elif isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), a.name) for a in node.names]
    return found


def app_of(module: str) -> str | None:
    return next((app for app in sorted(APPS, key=len, reverse=True) if module == app or module.startswith(app + ".")),
                None)


def test_the_shared_base_imports_no_app():
    bad = [(f, m) for f, m in imports("opendata.base") if app_of(m)]
    assert not bad, bad


def test_the_catalogue_imports_no_app_built_on_it():
    bad = [(f, m) for f, m in imports("opendata.catalogue") if app_of(m) not in (None, "opendata.catalogue")]
    assert not bad, bad


def test_the_keys_import_no_other_app():
    """The base reads the key model through settings.API_KEY_MODEL, never by importing it."""
    bad = [(f, m) for f, m in imports("opendata.keys") if app_of(m) not in (None, "opendata.keys")]
    assert not bad, bad


@pytest.mark.parametrize("app", ["indicators", "projects"])
def test_apps_use_each_other_only_through_their_public_surface(app):
    bad = []
    for f, m in imports(app):
        other = app_of(m)
        if other in (None, app):
            continue
        rest = m[len(other) + 1:]
        public = PUBLIC + (EMBEDDED if other == "opendata.catalogue" else ())
        if other in ("opendata.loader", "opendata.config", "opendata.publish") or not rest.startswith(public):
            bad.append((f, m))
    assert not bad, bad


def test_only_the_shell_imports_the_publication():
    """opendata/publish (dictionary, downloads, catalogue) reads every app; no app reads it."""
    bad = [(f, m) for package in APPS - {"opendata.publish", "opendata.config"}
           for f, m in imports(package) if app_of(m) == "opendata.publish"]
    assert not bad, bad


def test_no_app_imports_the_pages():
    """The pages are an interface (HTML) on the apps: only the project shell routes to them."""
    bad = [(f, m) for app in sorted(APPS - {"opendata.pages", "opendata.config"}) + ["opendata.base"]
           for f, m in imports(app) if app_of(m) == "opendata.pages"]
    assert not bad, bad


def test_the_pages_read_the_apps_only_through_their_models_selectors_and_filters():
    """A page lists what the resource's FilterSet selects from its selector (as REST and GraphQL do): no
    query rule of its own, no write, no other interface's code."""
    bad = []
    for f, m in imports("opendata.pages"):
        other = app_of(m)
        if other in (None, "opendata.pages") or m == other:  # `from indicators import x`: x is checked
            continue
        if other in ("opendata.loader", "opendata.config", "opendata.keys") or \
                not m[len(other) + 1:].startswith(("models", "selectors", "filters", "links")):
            bad.append((f, m))
    assert not bad, bad
