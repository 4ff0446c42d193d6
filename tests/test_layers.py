"""The domain and ingest layers never import textual (the one-direction flow ingest -> domain -> ui)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYER_MODULES = sorted(
    f"tui.{path.parent.name}.{path.stem}"
    for layer in ("domain", "ingest")
    for path in (ROOT / "tui" / layer).glob("*.py")
    if path.stem != "__init__"
)


def test_layer_modules_exist():
    assert "tui.domain.catalog" in LAYER_MODULES


@pytest.mark.parametrize("module", LAYER_MODULES)
def test_module_does_not_import_textual(module):
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'rich')));"
        "print(bad); raise SystemExit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"{module} pulled in {result.stdout.strip()} {result.stderr[-500:]}"
