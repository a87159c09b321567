"""Stack outputs."""

from __future__ import annotations

from program_support import ACCOUNT, ROOT
from recorded import run_program  # shared by the tests of this process

from offline_preview.runner import ProgramRun


def test_prod_outputs(prod: ProgramRun) -> None:
    mock = f"arn:aws:mock:us-east-1:{ACCOUNT}"  # the mock's made-up ARNs
    assert prod.outputs == {
        "trailName": "spawn-audit",
        "trailArn": f"{mock}:spawn-audit-trail-trail",
        "archiveBucketName": f"spawn-audit-logs-{ACCOUNT}-prod",
        "accessLogBucketName": f"spawn-audit-logs-access-{ACCOUNT}-prod",
        "logGroupName": "/aws/cloudtrail/spawn",
        "appAuditLogGroupName": "/spawn/audit",
        "kmsKeyArn": f"{mock}:spawn-audit-kms-key",
        "alarmTopicArn": f"{mock}:spawn-audit-alarms-topic",
        "complianceProfiles": "hipaa",
        "archiveRetentionDays": 2555,
        # Object Lock (GOVERNANCE, 2555 days) keeps every version; noncurrent ones go a day later.
        "archiveDeletedByDay": 2556,
        "archiveLifetime": "at least 2555 days, deleted by day 2556",
        "archiveTransitionDays": 90,
        "archiveStorageClass": "GLACIER",
        "accessLogRetentionDays": 2555,
        "logGroupRetentionDays": 2557,
        "appAuditLogGroupRetentionDays": 2557,
        "objectLockMode": "GOVERNANCE",
        "objectLockRetentionDays": 2555,
        "verifyCommand": "aws cloudtrail get-trail-status --name spawn-audit",
        "athenaWorkgroupName": "spawn-audit",
        "athenaDatabaseName": "spawn_audit",
        "athenaResultsBucketName": f"spawn-audit-logs-athena-{ACCOUNT}-prod",
    }


def test_dev_outputs(dev: ProgramRun) -> None:
    assert {k: dev.outputs[k] for k in (
        "trailName", "complianceProfiles", "archiveRetentionDays", "archiveTransitionDays",
        "accessLogBucketName", "accessLogRetentionDays", "logGroupRetentionDays", "kmsKeyArn",
        "verifyCommand",
    )} == {
        "trailName": "spawn-audit-dev",
        "complianceProfiles": "sandbox",
        "archiveRetentionDays": 30,
        "archiveTransitionDays": 0,
        "accessLogBucketName": "",
        "accessLogRetentionDays": 0,
        "logGroupRetentionDays": 365,
        "kmsKeyArn": "",
        "verifyCommand": "aws cloudtrail get-trail-status --name spawn-audit-dev",
    }


def test_sandbox_warns_that_no_floor_applies() -> None:
    # The run records what the program logs (pulumi.log.warn), for every report format.
    assert ("warning", "spawn-audit:complianceProfiles is []: stack dev is a sandbox and no regulatory "
            "retention floor applies") in run_program(ROOT, "dev", preview=False).logs
    assert [m for _, m in run_program(ROOT, "prod", preview=False).logs if "sandbox" in m] == []
