"""Singleton bucket configurations, buckets outside the stack, and protection of the evidence stores.

From the compliant baseline, one change at a time, through the SDK's Analyzer servicer.
"""

from __future__ import annotations

import copy
import json

import pytest
from audit_policies import matrix
from handbuilt_fixtures import TRAIL, compliant_stack, find, tls_policy, trail_props
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
    ("archive-policy", "bucket policy", "BucketPolicy",
     {"policy": json.dumps({"Version": "2012-10-17", "Statement": []})}),
    ("archive-pab", "public access block", "BucketPublicAccessBlock", {"restrictPublicBuckets": False}),
    ("archive-versioning", "versioning", "BucketVersioning",
     {"versioningConfiguration": {"status": "Suspended"}}),
    ("archive-sse", "default encryption", "BucketServerSideEncryptionConfiguration", {}),
    ("archive-lifecycle", "lifecycle configuration", "BucketLifecycleConfiguration", {}),
    ("archive-logging", "server access logging", "BucketLogging", {}),
    ("archive-object-lock", "Object Lock configuration", "BucketObjectLockConfiguration", {}),
    ("archive-ownership", "ownership controls", "BucketOwnershipControls", {}),
])
def test_a_second_resource_for_a_singleton_is_caught_naming_both(name, what, kind, props):
    result = preview(duplicate(name, "second", **props))
    singles = result.of(SINGLE)
    assert [(d.level, d.urn.rsplit("::", 1)[1]) for d in singles] == [(M, "archive")]
    assert singles[0].message == (
        f"Keep one {what} for bucket 'archive' and remove the others: '{name}' ({kind}) and 'second' "
        f"({kind}) all set it; S3 keeps one per bucket and the last one applied wins, so a compliant one can "
        f"be silently replaced {SINGLE_CLAUSES}")
    # Even where both copies comply, the duplicate is the only finding the pack adds for it.
    if not props:
        assert [d.policy for d in result.diagnostics] == [SINGLE]


def test_inline_argument_and_separate_resource_are_two_writers():
    stack = compliant_stack()
    find(stack, "archive").props["policy"] = tls_policy()
    singles = preview(stack).of(SINGLE)
    assert len(singles) == 1
    assert "'archive-policy' (BucketPolicy) and the inline policy argument of 'archive'" in singles[0].message


def test_one_configuration_each_on_two_buckets_passes():
    # The same kinds of resource on a second bucket are not duplicates of the archive's.
    stack = compliant_stack()
    stack.append(R("aws:s3/bucket:Bucket", "other", {"bucket": "other-bucket"}))
    stack.append(R("aws:s3/bucketPolicy:BucketPolicy", "other-policy",
                   {"bucket": "other-bucket", "policy": tls_policy("other-bucket")}, {"bucket": ["other"]}))
    assert preview(stack).summary() == []


# --- a trail writing outside the stack -----------------------------------------------------------------

def test_trail_writing_to_a_bucket_outside_the_stack_gets_an_advisory():
    stack = compliant_stack()
    props = copy.deepcopy(trail_props())
    props.update(name="central", s3BucketName="org-central-audit-logs")
    stack.append(R(TRAIL, "central", props, {"kmsKeyId": ["key"]}, protect=True))
    result = preview(stack)
    assert [(d.policy, d.level) for d in result.diagnostics] == [(UNVERIFIABLE, A)]
    message = result.diagnostics[0].message
    assert message.startswith("Trail 'central' writes to bucket 'org-central-audit-logs', which is not a "
                              "resource of this stack, so these controls cannot be verified here: "
                              "aws-s3-bucket-public-access-block, aws-s3-bucket-encryption, ")
    assert "aws-s3-bucket-lifecycle-retention" in message and "aws-s3-bucket-tls-only" in message
    assert result.diagnostics[0].profiles == \
        "hipaa (pack config), pci-dss (pack config), soc2 (pack config)."


def test_trail_writing_to_a_bucket_in_the_stack_gets_none():
    assert preview(compliant_stack()).of(UNVERIFIABLE) == []


# --- protect and deletion protection ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["archive", "trail", "log-group", "key"])
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
    stack.append(R("aws:s3/bucket:Bucket", "access-logs", {"bucket": "spawn-audit-access-logs"}))
    result = preview(stack)
    assert [(d.policy, d.level) for d in result.diagnostics] == [(PROTECTED, M)]
    assert "protect=True on 'access-logs'" in result.diagnostics[0].message
    find(stack, "access-logs").protect = True
    assert preview(stack).summary() == []


def test_log_group_without_deletion_protection_is_caught():
    stack = compliant_stack()
    del find(stack, "log-group").props["deletionProtectionEnabled"]
    result = preview(stack)
    assert [(d.policy, d.level) for d in result.diagnostics] == [(PROTECTED, M)]
    assert result.diagnostics[0].message.startswith(
        "Set deletionProtectionEnabled to true on log group 'log-group' so CloudWatch Logs refuses to delete "
        "the trail's events, inside or outside Pulumi")


def test_sandbox_does_not_require_protection():
    stack = compliant_stack()
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
