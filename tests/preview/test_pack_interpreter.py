"""The real CLI runs the policy pack with the interpreter its ``PulumiPolicy.yaml`` names: this resolves
it the way the CLI does and imports the pack with it, so the README's "Using it with Pulumi" steps
give that interpreter the pack's requirements."""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest
from preview_helpers import REPO

from offline_preview.pack_client import pack_interpreter

IMPORT_PACK = "import pulumi_policy, audit_policies.pack as p; print(len(p.ALL_POLICIES))"


@pytest.fixture(scope="module")
def pack_with_venv(tmp_path_factory) -> Path:
    """A copy of the pack with its ``venv`` created as the README says. ``pip install -r
    requirements.txt`` needs the network, so the test stands in for it with a ``.pth`` file that
    points the new virtualenv at this interpreter's installed packages (the same pinned versions)."""
    pack = tmp_path_factory.mktemp("policy") / "policy"
    shutil.copytree(REPO / "policy", pack, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    venv.create(pack / "venv", with_pip=False)
    return pack


def _site_packages(venv_dir: Path) -> Path:
    return next((venv_dir / "lib").glob("python3*/site-packages"))


def test_the_pack_names_its_virtualenv_and_the_cli_would_run_its_python(pack_with_venv) -> None:
    interpreter = pack_interpreter(REPO / "policy")
    assert interpreter == [str(REPO / "policy" / "venv" / "bin" / "python")]
    assert pack_interpreter(pack_with_venv) == [str(pack_with_venv / "venv" / "bin" / "python")]


def test_that_interpreter_imports_the_pack_once_it_has_the_requirements(pack_with_venv) -> None:
    [python] = pack_interpreter(pack_with_venv)
    # A fresh virtualenv lacks the requirements: the pack cannot start (the failure the README's
    # `pip install -r requirements.txt` for the program alone leads to).
    bare = subprocess.run([python, "-c", IMPORT_PACK], cwd=pack_with_venv, capture_output=True, text=True)
    assert bare.returncode != 0 and "No module named 'pulumi_policy'" in bare.stderr
    (_site_packages(pack_with_venv / "venv") / "requirements.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    ready = subprocess.run([python, "-c", IMPORT_PACK], cwd=pack_with_venv, capture_output=True, text=True)
    assert ready.returncode == 0, ready.stderr
    assert int(ready.stdout) > 20


def test_without_the_option_the_cli_runs_python3_from_path(tmp_path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.1.0\n")
    [python] = pack_interpreter(tmp_path)
    assert Path(python).name == "python3"
