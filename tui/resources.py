"""Where callwatch's packaged data lives.

In a wheel the top-level `catalogs/` is installed as `tui/catalogs/` (hatch force-include); in a checkout
or an editable install it is the repository's own `catalogs/` beside the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def catalogs_dir() -> Path:
    """The directory holding the bundled vendor catalogs and taxonomy."""
    installed = _PACKAGE_DIR / "catalogs"
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / "catalogs"


def package_file(name: str) -> Path:
    """A file shipped inside the package (stylesheets, the demo capture...)."""
    return _PACKAGE_DIR / name
