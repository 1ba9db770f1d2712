"""Every app depends only downward (inkt_trial/layers.py): read with `ast`, every import
statement of the project's code (tests excepted: they may drive any app), including the imports
inside functions."""

import ast
from pathlib import Path

import pytest

from inkt_trial.layers import LAYERS, refusal

ROOT = Path(__file__).resolve().parent.parent
APPS = [app for layer in LAYERS for app in layer]


def modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "tests" in relative.parts:
                continue
            yield ".".join(relative.with_suffix("").parts).removesuffix(".__init__"), path


def imports(module: str, path: Path):
    """(line, imported module) of every import in the file, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                # `from app import views` imports the module app.views
                yield node.lineno, f"{base}.{alias.name}" if alias.name != "*" else base


def test_every_app_imports_only_downward():
    found = [
        f"{path.relative_to(ROOT)}:{line}: {why}"
        for module, path in modules()
        for line, imported in imports(module, path)
        if (why := refusal(module, imported))
    ]
    assert found == [], "\n".join(found)


@pytest.mark.parametrize(
    "importer, imported, refused",
    [
        ("dosing.services", "enrollment.course", False),
        ("dosing.services", "outcomes.models", True),  # up
        ("safety.views", "assessments.models", True),  # peers
        ("safety.views", "dosing.views", True),  # another app's pages
        ("outcomes.views", "enrollment.api", True),
        ("enrollment.services", "accounts.roles", False),
        ("accounts.views", "enrollment.models", True),
        ("inkt_trial.urls", "outcomes.api", False),  # the composition root
        ("inkt_trial.views", "enrollment.models", True),
        ("outcomes.models", "django.db.models", False),
        ("safety.views", "inkt_trial.views.PatientFormView", False),  # the shared bases
    ],
)
def test_the_rule(importer, imported, refused):
    assert (refusal(importer, imported) is not None) is refused
