"""The wheel carries every catalog and works from outside the checkout (not editable)."""

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOGS = sorted(p.name for p in (ROOT / "catalogs").glob("*.yaml"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # hatchling's builder in-process is what `pip wheel` would run, without network or isolation.
    code = (
        "import sys; from hatchling.builders.wheel import WheelBuilder; "
        f"print(next(iter(WheelBuilder({str(ROOT)!r}).build(directory={str(out)!r}, versions=['standard']))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def test_wheel_contains_every_catalog_and_stylesheet(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"taxonomy.yaml", "planetkit.yaml", "livekit.yaml", "acs.yaml", "jssip.yaml"} <= set(CATALOGS)
    for catalog in CATALOGS:
        assert f"tui/catalogs/{catalog}" in names
    assert "tui/catalogs/README.md" in names
    for tcss in (ROOT / "tui").rglob("*.tcss"):
        assert tcss.relative_to(ROOT).as_posix() in names


def test_installed_wheel_looks_up_from_outside_the_checkout(wheel: Path, tmp_path: Path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    # Dependencies come from the test environment's site-packages through a .pth file; .pth files there
    # (such as the editable install of this checkout) are not processed, so `tui` is the wheel's.
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CALLWATCH_CATALOGS")}
    where = subprocess.run([py, "-c", "import tui, tui.resources as r; print(tui.__file__); print(r.catalogs_dir())"],
                           capture_output=True, text=True, cwd=tmp_path, env=env, check=True).stdout.split()
    assert where[0].startswith(str(env_dir)) and where[1].startswith(str(env_dir))
    result = subprocess.run([env_dir / "bin" / "callwatch", "lookup", "planetkit", "1205", "--json"],
                            capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert '"name": "MULTIDEV_IN_USE"' in result.stdout
