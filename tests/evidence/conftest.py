"""Fixtures for the evidence tools: a freshly built, signed archive per test (small: milliseconds)."""

import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools"
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

import archive_factory  # noqa: E402


@pytest.fixture
def archive(tmp_path: Path) -> archive_factory.Archive:
    return archive_factory.build_archive(tmp_path / "archive")


@pytest.fixture
def keys_file(tmp_path: Path, archive: archive_factory.Archive) -> Path:
    return archive.write_public_keys(tmp_path / "public-keys.json")
