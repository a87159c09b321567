"""Fixtures for the program tests (helpers live in program_support.py, importable by name)."""

from __future__ import annotations

import pytest
from program_support import ProgramRun, ok


@pytest.fixture(scope="session")
def prod() -> ProgramRun:
    return ok("prod")


@pytest.fixture(scope="session")
def dev() -> ProgramRun:
    return ok("dev")
