"""Helpers for the program tests: run the real project under the mock runtime, with caching.

``run_program`` reads ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` the way the CLI merges them;
``overrides`` play the part of ``pulumi config set``. These runs stand in for ``pulumi up``
(``preview=False``) and ``pulumi preview`` (``preview=True``) of a new stack; the AWS provider's
own input checks are not reproduced.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from recorded import run_program  # shared with the other test directories

from offline_preview.runner import ProgramRun, ResourceRecord

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # the mock's getCallerIdentity answer

# Compliant variations of the prod stack; each negative test changes one key of one of them.
PCI_BASELINE: dict[str, Any] = {"complianceProfiles": ["pci-dss"]}
SOC2_BASELINE: dict[str, Any] = {"complianceProfiles": ["soc2"]}

_cache: dict[str, ProgramRun] = {}


def run_stack(stack: str, overrides: dict[str, Any] | None = None, *, preview: bool = False) -> ProgramRun:
    """Run the program once per (stack, overrides, preview); runs are deterministic."""
    key = json.dumps([stack, overrides or {}, preview], sort_keys=True)
    if key not in _cache:
        _cache[key] = run_program(ROOT, stack, overrides=overrides, preview=preview)
    return _cache[key]


def ok(stack: str, overrides: dict[str, Any] | None = None, *, preview: bool = False) -> ProgramRun:
    run = run_stack(stack, overrides, preview=preview)
    assert run.error is None, run.error_traceback
    return run


def one(run: ProgramRun, type_: str, name: str | None = None) -> ResourceRecord:
    found = [r for r in run.by_type(type_) if name is None or r.name == name]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def document(record: ResourceRecord, key: str = "policy") -> dict:
    return json.loads(record.inputs[key])


def statements(record: ResourceRecord, key: str = "policy") -> dict[str, dict]:
    """A policy's statements by Sid (each Sid appears once)."""
    stmts = document(record, key)["Statement"]
    sids = [s["Sid"] for s in stmts]
    assert len(sids) == len(set(sids)), sids
    return {s["Sid"]: s for s in stmts}
