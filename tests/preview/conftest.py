"""Fixtures for the offline-preview tests: private copies of the fixture program and policy pack,
so that each negative test can change exactly one thing. Also puts the repo root on ``sys.path`` so
that ``offline_preview`` imports however pytest is started."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from preview_helpers import PACK, PROGRAM, REPO  # noqa: E402

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@pytest.fixture
def program(tmp_path: Path) -> Path:
    """A private copy of the fixture program (compliant as shipped) for a test to change."""
    target = tmp_path / "program"
    shutil.copytree(PROGRAM, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    """A private copy of the fixture policy pack."""
    target = tmp_path / "pack"
    shutil.copytree(PACK, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target
