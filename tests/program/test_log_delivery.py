"""The trail's log group, spawn's application audit log group and the delivery role."""

from __future__ import annotations

from typing import Any

import pytest
from program_support import ACCOUNT, document, ok, one
from spawn_compliance import profiles

from offline_preview.runner import ProgramRun

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/spawn-audit"

RETENTION_CASES: list[tuple[str, dict[str, Any], int]] = [
    ("sandbox", {"complianceProfiles": []}, 365),
    ("hipaa-2555-rounds-to-2557", {}, 2557),
    ("hipaa-at-floor", {"archiveRetentionDays": 2192}, 2192),
    ("pci-dss", {"complianceProfiles": ["pci-dss"]}, 365),
    ("soc2-455-rounds-to-545", {"complianceProfiles": ["soc2"]}, 545),
    ("pci-dss+soc2", {"complianceProfiles": ["pci-dss", "soc2"]}, 545),
    ("all-three", {"complianceProfiles": ["hipaa", "pci-dss", "soc2"]}, 2557),
    ("archive-beyond-ten-years", {"archiveRetentionDays": 4000, "objectLockMode": ""}, 3653),
    ("explicit", {"logGroupRetentionDays": 3653}, 3653),
]


@pytest.mark.parametrize(("overrides", "expected"), [c[1:] for c in RETENTION_CASES],
                         ids=[c[0] for c in RETENTION_CASES])
def test_log_group_retention(overrides: dict[str, Any], expected: int) -> None:
    run = ok("prod", {"accessLogging": True, **overrides})
    groups = run.by_type(LOG_GROUP)
    assert [g.inputs["retentionInDays"] for g in groups] == [expected, expected]
    assert expected in profiles.CLOUDWATCH_LOGS_RETENTION_DAYS
    assert (run.outputs["logGroupRetentionDays"], run.outputs["appAuditLogGroupRetentionDays"]) == \
        (expected, expected)


def test_program_and_policy_table_read_the_same_numbers() -> None:
    """The program's defaults are the shared table's values, for every profile combination."""
    for combination in ([], ["hipaa"], ["pci-dss"], ["soc2"], ["hipaa", "pci-dss", "soc2"]):
        req = profiles.requirements(combination, 365)
        run = ok("prod", {"complianceProfiles": combination, "objectLockMode": ""})
        assert run.outputs["archiveRetentionDays"] == req.retention_default_days
        assert run.outputs["logGroupRetentionDays"] >= req.log_group_min_retention_days
        assert run.outputs["logGroupRetentionDays"] == profiles.round_up_log_retention(
            max(profiles.LOG_GROUP_MIN_RETENTION_DAYS, req.retention_default_days))


def test_log_groups_share_name_key_and_retention(prod: ProgramRun, dev: ProgramRun) -> None:
    trail_group = one(prod, LOG_GROUP, "spawn-audit-delivery-log-group").inputs
    app_group = one(prod, LOG_GROUP, "spawn-audit-app-audit-log-log-group").inputs
    assert (trail_group["name"], app_group["name"]) == ("/aws/cloudtrail/spawn", "/spawn/audit")
    key = f"arn:aws:mock:us-east-1:{ACCOUNT}:spawn-audit-kms-key"
    assert trail_group["kmsKeyId"] == app_group["kmsKeyId"] == key
    assert [g.inputs.get("kmsKeyId") for g in dev.by_type(LOG_GROUP)] == [None, None]
    assert sorted(g.inputs["name"] for g in dev.by_type(LOG_GROUP)) == ["/aws/cloudtrail/spawn-dev",
                                                                         "/spawn/audit-dev"]


def test_app_audit_log_group_is_optional() -> None:
    run = ok("prod", {"appAuditLogGroup": False})
    assert [g.inputs["name"] for g in run.by_type(LOG_GROUP)] == ["/aws/cloudtrail/spawn"]
    assert run.outputs["appAuditLogGroupName"] == ""


def test_delivery_role_trust_and_policy(prod: ProgramRun) -> None:
    role = one(prod, "aws:iam/role:Role").inputs
    assert role["name"] == "spawn-audit-cloudwatch-logs"
    assert document(one(prod, "aws:iam/role:Role"), "assumeRolePolicy") == {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "CloudTrailAssumeRole", "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN, "aws:SourceAccount": ACCOUNT}},
        }],
    }
    policy = one(prod, "aws:iam/rolePolicy:RolePolicy")
    assert policy.inputs["role"] == "spawn-audit-cloudwatch-logs"
    assert document(policy)["Statement"] == [{
        "Sid": "CloudTrailWriteLogStreams", "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/cloudtrail/spawn:log-stream:*",
    }]
