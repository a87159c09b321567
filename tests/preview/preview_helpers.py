"""Helpers for the offline-preview tests (a module of its own so that no test imports a conftest):
fixture locations, running the real command in a subprocess, as a user or CI would, and running the
same command in this process with the policy pack served in-process (for tests about policy
outcomes rather than about processes and the gRPC transport)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# The same command in this process, with the pack served in-process (shared with tests outside
# tests/preview, hence a module of its own).
from pack_in_process import InProcessPack, run_cli_in_process  # noqa: F401 - re-exported

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROGRAM = FIXTURES / "program"
PACK = FIXTURES / "pack"


def run_cli(*args: str, cwd: Path = REPO, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m offline_preview <args>`` from the repo root, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "offline_preview", *args], cwd=cwd, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def preview_args(program_dir: Path, *extra: str, pack_dir: Path | None = PACK,
                 stack: str = "dev") -> list[str]:
    args = ["preview", "--stack", stack, "--cwd", str(program_dir)]
    if pack_dir is not None:
        args += ["--policy-pack", str(pack_dir)]
    return args + list(extra)
