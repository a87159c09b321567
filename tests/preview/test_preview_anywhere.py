"""The command runs from any directory: ``-C DIR`` names the project, and an installed entry point
(``offline-preview``, declared in pyproject.toml) starts the same code as ``python -m offline_preview``."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_console_script_is_the_module_entry_point() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = scripts["offline-preview"].partition(":")
    assert (module, function) == ("offline_preview.__main__", "main")
    assert callable(getattr(importlib.import_module(module), function))


def test_runs_from_another_directory_with_c(tmp_path: Path) -> None:
    # As an installed package would: importable from anywhere, started outside the project.
    result = subprocess.run(
        [sys.executable, "-m", "offline_preview", "preview", "-C", str(ROOT), "--stack", "dev",
         "--policy-pack", "policy", "--policy-pack-config", "policy/config/sandbox.json",
         "--format", "json", "--output", "report.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "report.json").read_text().startswith("{")  # --output stays relative to the caller
    assert "Traceback" not in result.stderr
