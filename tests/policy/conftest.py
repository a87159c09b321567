"""Puts ``policy/`` (the pack directory the CLI runs) and this directory on ``sys.path``.

The pack's modules are imported as the CLI's runner imports them (``audit_policies...`` with the pack
directory first on the path); ``policy/__main__.py`` is never imported because it starts a server.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
POLICY_DIR = HERE.parents[1] / "policy"
for path in (str(POLICY_DIR), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)


@pytest.fixture
def pack():
    """The pack configured as the engine configures it without --policy-pack-config (all profiles)."""
    from policy_harness import default_pack

    return default_pack()
