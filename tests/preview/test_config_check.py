"""The engine's config check in a process of its own (``offline_preview.config_check``): the same
config or the same error as ``reconcile_config`` in the preview's process, a checker that cannot
answer replaced by that call, and the preview's own process left without the validator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from audit_policies.pack import ALL_POLICIES, PACK_NAME
from preview_helpers import REPO
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from offline_preview import config_check
from offline_preview.config_check import ConfigCheck
from offline_preview.pack_client import pack_info_from_proto
from offline_preview.pack_config import (
    PolicyError,
    load_policy_config_file,
    parse_policy_config,
    reconcile_config,
)

# The real pack's description as GetAnalyzerInfo gives it (schemas cross the protocol as Struct, so
# their numbers are floats), and the prod stack's pack config.
PACK = pack_info_from_proto(
    _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", ALL_POLICIES, EnforcementLevel.ADVISORY).GetAnalyzerInfo(
        None, None),
    REPO / "policy", "policy")
HIPAA = load_policy_config_file(REPO / "policy" / "config" / "hipaa.json")
BAD = parse_policy_config({"aws-cloudtrail-stack-security-trail": {
    "profiles": ["hipaa", "fedramp"], "requireTrail": "yes", "nope": 1}}, "bad.json")


def _plain(config: dict) -> dict:
    return {name: (c.enforcement_level, c.properties) for name, c in config.items()}


@pytest.fixture
def calls_here(monkeypatch) -> list:
    """The ``reconcile_config`` calls made in this process by ``ConfigCheck`` (its fallback)."""
    calls: list = []

    def here(*args):
        calls.append(args)
        return reconcile_config(*args)

    monkeypatch.setattr(config_check, "reconcile_config", here)
    return calls


def test_the_checker_gives_the_config_reconcile_config_gives(calls_here) -> None:
    here = reconcile_config(PACK, HIPAA, "hipaa.json")
    apart = ConfigCheck().reconcile(PACK, HIPAA, "hipaa.json")
    assert calls_here == []  # answered by the checker
    assert _plain(apart) == _plain(here)
    # Types survive the round trip: a schema default arrives as a float, the user's value as given.
    assert json.dumps(_plain(apart), sort_keys=True) == json.dumps(_plain(here), sort_keys=True)
    assert any(c.properties for c in apart.values())


def test_the_checker_gives_the_engines_error_text(calls_here) -> None:
    with pytest.raises(PolicyError) as here:
        reconcile_config(PACK, BAD, "bad.json")
    with pytest.raises(PolicyError) as apart:
        ConfigCheck().reconcile(PACK, BAD, "bad.json")
    assert calls_here == []
    assert str(apart.value) == str(here.value)
    assert str(apart.value).splitlines() == [
        'error: validating policy config: spawn-audit-compliance 0.1.0  aws-cloudtrail-stack-security-trail: '
        'unknown property "nope" (bad.json); allowed: profiles, auditPeriodDays, requireKms, requireTrail',
        'error: validating policy config: spawn-audit-compliance 0.1.0  aws-cloudtrail-stack-security-trail: '
        'profiles.1: "fedramp" must be one of the following: "hipaa", "pci-dss", "soc2"',
        'error: validating policy config: spawn-audit-compliance 0.1.0  aws-cloudtrail-stack-security-trail: '
        'requireTrail: Invalid type. Expected: boolean, given: string',
    ]


def test_a_checker_that_cannot_answer_is_replaced_by_the_call_here(monkeypatch, calls_here) -> None:
    monkeypatch.setattr(config_check, "_SERVE", "import sys; sys.exit(3)")
    check = ConfigCheck()
    assert check.process is not None
    expected = _plain(reconcile_config(PACK, HIPAA, "hipaa.json"))
    assert _plain(check.reconcile(PACK, HIPAA, "hipaa.json")) == expected
    with pytest.raises(PolicyError, match="requireTrail: Invalid type"):
        ConfigCheck().reconcile(PACK, BAD, "bad.json")
    assert len(calls_here) == 2


def test_the_preview_process_does_not_load_the_validator() -> None:
    code = "import sys, offline_preview.cli; print('jsonschema' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(REPO), capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_a_checker_that_does_not_answer_in_time_is_an_error_and_is_ended(monkeypatch, calls_here) -> None:
    monkeypatch.setattr(config_check, "_SERVE", "import time; time.sleep(30)")
    check = ConfigCheck()
    with pytest.raises(PolicyError, match=r"^the policy pack config check did not finish within 0.3s$"):
        check.reconcile(PACK, HIPAA, "hipaa.json", timeout=0.3)
    assert check.process is None and calls_here == []  # ended, and not run again here
