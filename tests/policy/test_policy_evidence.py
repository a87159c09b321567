"""Singleton bucket configurations, buckets outside the stack, and protection of the evidence stores.

From the compliant baseline, one change at a time, through the SDK's Analyzer servicer.
"""

from __future__ import annotations

import copy
import json

import pytest
from audit_policies import matrix
from policy_fixtures import (
    ACCESS_LOGS,
    ARCHIVE,
    BUCKET_NAME,
    KEY_R,
    LOG_GROUP_R,
    TRAIL,
    TRAIL_R,
    archive,
    bucket_policy,
    compliant_stack,
    find,
    trail_props,
    undeclared,
)
from policy_harness import Pack, R, configured, engine_config

M, A = "mandatory", "advisory"
SINGLE = "aws-s3-bucket-single-configuration"
PROTECTED = "aws-cloudtrail-stack-evidence-protected"
UNVERIFIABLE = "aws-cloudtrail-trail-bucket-unverifiable"
SINGLE_CLAUSES = "(45 CFR 164.312(c)(1), 45 CFR 164.312(a)(1), PCI DSS 10.3.2, SOC 2 CC6.1)."


def preview(stack, config=None):
    pack = configured(config) if config is not None else Pack().configure(engine_config())
    return pack.preview(stack)


def duplicate(name: str, new_name: str, **props) -> list[R]:
    stack = compliant_stack()
    original = find(stack, name)
    copied = R(original.type, new_name, {**copy.deepcopy(original.props), **props}, dict(original.deps))
    stack.append(copied)
    return stack


# --- one configuration per bucket singleton ------------------------------------------------------------

@pytest.mark.parametrize("name,what,kind,props", [
    (archive("policy"), "bucket policy", "BucketPolicy",
     {"policy": json.dumps({"Version": "2012-10-17", "Statement": []})}),
    (archive("public-access-block"), "public access block", "BucketPublicAccessBlock",
     {"restrictPublicBuckets": False}),
    (archive("versioning"), "versioning", "BucketVersioning",
     {"versioningConfiguration": {"status": "Suspended"}}),
    (archive("encryption"), "default encryption", "BucketServerSideEncryptionConfiguration", {}),
    (archive("lifecycle"), "lifecycle configuration", "BucketLifecycleConfiguration", {}),
    (archive("logging"), "server access logging", "BucketLogging", {}),
    (archive("object-lock"), "Object Lock configuration", "BucketObjectLockConfiguration", {}),
    (archive("ownership"), "ownership controls", "BucketOwnershipControls", {}),
])
def test_a_second_resource_for_a_singleton_is_caught_naming_both(name, what, kind, props):
    result = preview(duplicate(name, "second", **props))
    singles = result.of(SINGLE)
    assert [(d.level, d.urn.rsplit("::", 1)[1]) for d in singles] == [(M, ARCHIVE)]
    assert singles[0].message == (
        f"Keep one {what} for bucket '{ARCHIVE}' and remove the others: '{name}' ({kind}) and 'second' "
        f"({kind}) all set it; S3 keeps one per bucket and the last one applied wins, so a compliant one can "
        f"be silently replaced {SINGLE_CLAUSES}")
    # Even where both copies comply, the duplicate is the only finding the pack adds for it.
    if not props:
        assert [d.policy for d in result.diagnostics] == [SINGLE]


def test_inline_argument_and_separate_resource_are_two_writers():
    stack = compliant_stack()
    find(stack, ARCHIVE).props["policy"] = bucket_policy()
    singles = preview(stack).of(SINGLE)
    assert len(singles) == 1
    assert ("'spawn-audit-archive-bucket-policy' (BucketPolicy) and the inline policy argument of "
            "'spawn-audit-archive-bucket'") in singles[0].message


def test_one_configuration_each_on_two_buckets_passes():
    # The same kinds of resource on a second bucket are not duplicates of the archive's (the recorded
    # stack has three buckets with a full set each; one more with a bucket policy only).
    stack = compliant_stack()
    stack.append(R("aws:s3/bucket:Bucket", "other", {"bucket": "other-bucket"}))
    stack.append(R("aws:s3/bucketPolicy:BucketPolicy", "other-policy",
                   {"bucket": "other-bucket", "policy": bucket_policy().replace(BUCKET_NAME, "other-bucket")},
                   {"bucket": ["other"]}))
    assert preview(stack).summary() == []


# --- a trail writing outside the stack -----------------------------------------------------------------

def test_trail_writing_to_a_bucket_outside_the_stack_gets_an_advisory():
    stack = compliant_stack()
    props = copy.deepcopy(trail_props())
    props.update(name="central", s3BucketName="org-central-audit-logs")
    stack.append(R(TRAIL, "central", props, {"kmsKeyId": [KEY_R]}, protect=True))
    result = preview(stack)
    assert [(d.policy, d.level) for d in result.diagnostics] == [(UNVERIFIABLE, A)]
    message = result.diagnostics[0].message
    assert message.startswith("Trail 'central' writes to bucket 'org-central-audit-logs', which is not a "
                              "resource of this stack, so these controls cannot be verified here: "
                              "aws-s3-bucket-public-access-block, aws-s3-bucket-encryption, ")
    assert "aws-s3-bucket-lifecycle-retention" in message and "aws-s3-bucket-tls-only" in message
    # Every profile, from the pack config and from the program's declaration (first on the KMS key).
    assert result.diagnostics[0].profiles == ", ".join(
        f"{p} (pack config and stack tag spawn-audit:compliance-profiles on '{KEY_R}')"
        for p in ("hipaa", "pci-dss", "soc2")) + "."


def test_trail_writing_to_a_bucket_in_the_stack_gets_none():
    assert preview(compliant_stack()).of(UNVERIFIABLE) == []


# --- protect and deletion protection ------------------------------------------------------------------

@pytest.mark.parametrize("name", [ARCHIVE, TRAIL_R, LOG_GROUP_R, KEY_R])
def test_unprotected_evidence_store_is_caught(name):
    stack = compliant_stack()
    find(stack, name).protect = False
    result = preview(stack)
    assert [(d.policy, d.level) for d in result.diagnostics] == [(PROTECTED, M)]
    assert result.diagnostics[0].message == (
        f"Set the Pulumi resource option protect=True on '{name}' (in spawn-audit: protectResources true, "
        f"which every profile requires): evidence stores must not be deletable by pulumi destroy or by "
        f"removing them from the program (45 CFR 164.316(b)(2)(i), 45 CFR 164.312(c)(1), PCI DSS 10.3.2, "
        f"PCI DSS 10.5.1, SOC 2 CC7.2).")


def test_access_log_bucket_of_the_archive_is_evidence_too():
    stack = compliant_stack()
    find(stack, ACCESS_LOGS).protect = False
    result = preview(stack)
    assert [(d.policy, d.level) for d in result.diagnostics] == [(PROTECTED, M)]
    assert f"protect=True on '{ACCESS_LOGS}'" in result.diagnostics[0].message
    find(stack, ACCESS_LOGS).protect = True
    assert preview(stack).summary() == []


def test_log_group_without_deletion_protection_is_caught():
    stack = compliant_stack()
    del find(stack, LOG_GROUP_R).props["deletionProtectionEnabled"]
    result = preview(stack)
    assert [(d.policy, d.level) for d in result.diagnostics] == [(PROTECTED, M)]
    assert result.diagnostics[0].message.startswith(
        "Set deletionProtectionEnabled to true on log group 'spawn-audit-delivery-log-group' so CloudWatch "
        "Logs refuses to delete the trail's events, inside or outside Pulumi")


def test_sandbox_does_not_require_protection():
    stack = undeclared(compliant_stack())  # the program's declaration would raise the bar
    for r in stack:
        r.protect = False
    config = json.loads((matrix.POLICY_DIR / "config" / "sandbox.json").read_text())
    result = preview(stack, config)
    assert result.summary() == []
    assert PROTECTED in result.not_applicable


def test_unrelated_unprotected_resources_are_not_evidence():
    stack = compliant_stack()
    stack.append(R("aws:s3/bucket:Bucket", "website", {"bucket": "spawn-website"}))
    assert preview(stack).summary() == []
