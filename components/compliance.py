"""The program's one bridge to the tables it shares with the policy pack.

The compliance-profile table, the CloudWatch monitoring controls and the regulation clauses live in
``policy/spawn_compliance`` (standard library only), so that the pack, which Pulumi runs from its
own directory, and this program read the same numbers. The program reaches them only through this
module: ``from components.compliance import clauses, monitoring, profiles``.
"""

from __future__ import annotations

import sys
from pathlib import Path

_POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"
if str(_POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(_POLICY_DIR))

from spawn_compliance import clauses, monitoring, profiles  # noqa: E402

__all__ = ["clauses", "monitoring", "profiles"]
