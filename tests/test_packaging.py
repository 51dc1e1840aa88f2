"""The installed distribution: only `dinogui` in site-packages, the engine as dinogui.core."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import numpy
import pytest
import threadpoolctl

import dinogui

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "-q", "-w", str(out), str(ROOT)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{done.stderr[-2000:]}")
    (whl,) = out.glob("dinogui-*.whl")
    return whl


def test_the_wheel_holds_only_the_dinogui_package(wheel):
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"dinogui", f"dinogui-{dinogui.__version__}.dist-info"}
    names = set(zipfile.ZipFile(wheel).namelist())
    source = {f"dinogui/{p.relative_to(ROOT / 'dinogui').as_posix()}"
              for p in (ROOT / "dinogui").rglob("*.py") if "core" not in p.parts[-3:-1]}
    source |= {f"dinogui/core/{p.relative_to(ROOT / 'core').as_posix()}"
               for p in (ROOT / "core").rglob("*.py")}
    assert source - names == set()
    assert "dinogui/data/dinosaurs.txt" in names
    assert "dinogui/core/generator_template.mjs" in names  # the js export needs it


def test_installed_wheel_runs_from_a_folder_with_its_own_core(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    # without PYTHONPATH: a checkout on it (with the egg-info a wheel build leaves) would
    # count as dinogui installed already, and pip would skip the wheel
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, env=env)
    # then NumPy and the other dependencies, from this interpreter's site-packages, after
    # the venv's own on sys.path (a .pth path runs no editable-install finder). Added only
    # now: a dinogui installed there too would have made pip skip the wheel.
    deps = {str(Path(m.__file__).resolve().parent.parent) for m in (numpy, threadpoolctl)}
    site = next((env_dir / "lib").glob("python3*/site-packages"))
    (site / "deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    work = tmp_path / "project"
    (work / "core").mkdir(parents=True)
    (work / "core" / "__init__.py").write_text("raise ImportError('the wrong core')\n")
    version = subprocess.run([str(py), "-m", "dinogui", "--version"], cwd=work, env=env,
                             capture_output=True, text=True)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"dinogui {dinogui.__version__}"
    where = subprocess.run(
        [str(py), "-c", "import dinogui.core.corpus as c; print(c.__file__); "
                        "print(c.bundled_corpus_path().is_file())"],
        cwd=work, env=env, capture_output=True, text=True)
    assert where.returncode == 0, where.stderr
    path, bundled = where.stdout.split()
    assert Path(path).is_relative_to(env_dir)
    assert bundled == "True"


def test_version_flag_in_a_checkout():
    done = subprocess.run([sys.executable, "-m", "dinogui", "--version"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.stdout.strip() == f"dinogui {dinogui.__version__}"
