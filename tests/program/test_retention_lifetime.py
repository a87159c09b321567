"""The retention the stack exports is the lifetime S3 gives a log file, read from the lifecycle rule the
program registers: current version expires on day N, the noncurrent version is deleted M - N days later.
Also: the minimum transition object size is explicit, and evidence stores cannot be deleted by a stack
operation (protect, retain_on_delete, CloudWatch Logs deletion protection)."""

from __future__ import annotations

from typing import Any

import pytest
from program_support import PCI_BASELINE, ok, one

LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
ARCHIVE_LIFECYCLE = "spawn-audit-archive-bucket-lifecycle"


def s3_lifetime(rule: dict) -> tuple[int, int]:
    """What S3 does with this rule to a log file nobody touches: (days kept current, day deleted)."""
    current = int(rule["expiration"]["days"])  # numbers cross the protocol as floats
    return current, current + int(rule["noncurrentVersionExpiration"]["noncurrentDays"])


CASES: list[tuple[str, str, dict[str, Any], tuple[int, int]]] = [
    # Object Lock keeps every version to the retention: noncurrent versions go one day later.
    ("prod-object-lock", "prod", {}, (2555, 2556)),
    # Without Object Lock an overwritten original is protected only by the noncurrent expiration.
    ("prod-no-lock", "prod", {"objectLockMode": ""}, (2555, 5110)),
    # A lock shorter than the retention does not keep every version long enough: full noncurrent days.
    ("prod-short-lock", "prod", {"objectLockRetentionDays": 2192}, (2555, 5110)),
    ("pci-dss-lock", "prod", {**PCI_BASELINE, "objectLockMode": "COMPLIANCE"}, (365, 366)),
    ("dev", "dev", {}, (30, 60)),
]


@pytest.mark.parametrize(("stack", "overrides", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_exported_retention_is_the_lifetime_s3_applies(stack: str, overrides: dict[str, Any],
                                                       expected: tuple[int, int]) -> None:
    run = ok(stack, overrides)
    rule = one(run, LIFECYCLE, ARCHIVE_LIFECYCLE if stack == "prod" else None).inputs["rules"][0]
    kept, deleted_by = s3_lifetime(rule)
    assert (kept, deleted_by) == expected
    assert run.outputs["archiveRetentionDays"] == kept
    assert run.outputs["archiveDeletedByDay"] == deleted_by
    assert run.outputs["archiveLifetime"] == f"at least {kept} days, deleted by day {deleted_by}"


def test_no_noncurrent_transition_at_or_after_the_noncurrent_expiration() -> None:
    rule = one(ok("prod"), LIFECYCLE, ARCHIVE_LIFECYCLE).inputs["rules"][0]
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 1}
    assert "noncurrentVersionTransitions" not in rule  # S3 refuses a transition after the expiration
    assert rule["transitions"] == [{"days": 90, "storageClass": "GLACIER"}]


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_minimum_transition_object_size_is_explicit(stack: str) -> None:
    for record in ok(stack).by_type(LIFECYCLE):
        assert record.inputs["transitionDefaultMinimumObjectSize"] == "all_storage_classes_128K", record.name


EVIDENCE = ("aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:cloudwatch/logGroup:LogGroup",
            "aws:cloudtrail/trail:Trail")


def test_prod_evidence_stores_cannot_be_deleted_by_a_stack_operation() -> None:
    run = ok("prod")
    stores = [r for r in run.resources if r.type in EVIDENCE]
    assert len(stores) == 6  # two buckets, the key, two log groups, the trail
    assert all(r.protect for r in stores), [r.name for r in stores if not r.protect]
    assert all(r.retain_on_delete for r in stores if r.type != "aws:cloudtrail/trail:Trail")
    for group in run.by_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.inputs["deletionProtectionEnabled"] is True, group.name


def test_sandbox_stores_stay_deletable() -> None:
    run = ok("dev")
    stores = [r for r in run.resources if r.type in EVIDENCE]
    assert stores and not any(r.protect or r.retain_on_delete for r in stores)
    groups = run.by_type("aws:cloudwatch/logGroup:LogGroup")
    assert all("deletionProtectionEnabled" not in g.inputs for g in groups)
