"""The program and the policy pack read the same profile table, so they agree on its numbers.

For each profile combination, the program deployed at exactly the retention floor passes the pack
configured with the same profiles, one day below the floor is refused by the program's settings,
and the same day below the floor put into the program's own lifecycle rule is refused by the pack.
The pack is driven through the offline preview's engine steps, served in-process by its own servicer
(``pack_in_process``): the numbers are under test here, not the launch or the gRPC transport.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from audit_policies.pack import ALL_POLICIES
from pack_in_process import InProcessPack
from recorded import run_program  # shared by the tests of this process
from spawn_compliance import profiles

from offline_preview.pack_run import run_policy_pack

ROOT = Path(__file__).resolve().parents[1]
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
COMBINATIONS = [["hipaa"], ["pci-dss"], ["soc2"], ["hipaa", "pci-dss", "soc2"]]


def _pack_config(tmp_path: Path, combination: list[str]) -> Path:
    config = {p.name: {"profiles": combination} for p in ALL_POLICIES
              if p.config_schema and "profiles" in p.config_schema.properties}
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps(config))
    return path


def _at_floor(combination: list[str], days: int) -> dict:
    # The prod stack with the profiles under test; Object Lock off so its retention is not a factor.
    return {"complianceProfiles": combination, "archiveRetentionDays": days, "objectLockMode": "",
            "alarmEmails": ["security@example.com"]}


def _pack(run) -> InProcessPack:
    return InProcessPack(ROOT / "policy", project=run.project.name, stack=run.stack)


def _archive_lifecycle(run):
    return next(r for r in run.by_type(LIFECYCLE) if r.name.endswith("-bucket-lifecycle"))


@pytest.mark.parametrize("combination", COMBINATIONS, ids="+".join)
def test_program_at_the_floor_passes_and_one_day_less_fails_both(
        tmp_path: Path, combination: list[str]) -> None:
    floor = profiles.requirements(combination).retention_floor_days
    config = _pack_config(tmp_path, combination)

    run = run_program(ROOT, "prod", overrides=_at_floor(combination, floor))
    assert run.error is None, run.error
    result = run_policy_pack(run, ROOT / "policy", config, process=_pack(run))
    assert [d.policy for d in result.diagnostics if d.enforcement_level == "mandatory"] == []

    refused = run_program(ROOT, "prod", overrides=_at_floor(combination, floor - 1))
    assert refused.resources == []
    assert f"spawn-audit:archiveRetentionDays = {floor - 1} is below" in str(refused.error)

    record = _archive_lifecycle(run)
    rules = copy.deepcopy(record.inputs["rules"])
    for rule in rules:
        rule["expiration"]["days"] = floor - 1
    record.inputs["rules"] = rules
    record.properties["rules"] = rules
    record.outputs["rules"] = rules  # what AnalyzeStack is sent: a create's outputs echo its inputs
    flagged = run_policy_pack(run, ROOT / "policy", config, process=_pack(run))
    mandatory = {d.policy for d in flagged.diagnostics if d.enforcement_level == "mandatory"}
    assert mandatory == {"aws-s3-bucket-lifecycle-retention"}
    message = next(d.message for d in flagged.diagnostics if d.policy == "aws-s3-bucket-lifecycle-retention")
    assert f"at least {floor}" in message and f"is {floor - 1}" in message
