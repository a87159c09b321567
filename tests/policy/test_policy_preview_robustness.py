"""Real previews: unknown values, deprecated resource forms, missing and null properties.

Unknowns are sent exactly as the engine sends them (the sentinel strings of ``pulumi_policy.proxy``),
so the SDK's own proxy and its "can't run policy ... during preview" handling are exercised. The
promise under test: an unknown never produces a mandatory failure, and only a decision that truly
depends on one produces the advisory diagnostic.
"""

from __future__ import annotations

import copy
import json

import pytest
from policy_fixtures import (
    ARCHIVE,
    BUCKET_NAME,
    DELIVERY,
    KEY_R,
    LOG_GROUP_R,
    TRAIL_R,
    archive,
    bucket_policy,
    compliant_stack,
    find,
    metric_filter,
)
from policy_harness import Pack, R, configured, engine_config, for_all
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
)

M, A = "mandatory", "advisory"
PACK_AT = "from policy pack 'spawn-audit-compliance@v0.1.0' during preview"


def cant_run(policy: str, what: str) -> tuple[str, str, str]:
    return policy, A, f"can't run policy '{policy}' {PACK_AT}: {what} can't be known during preview"


def preview(stack, config=None):
    pack = configured(config) if config is not None else Pack().configure(engine_config())
    return pack.preview(stack)


# --- unknown values ----------------------------------------------------------------------------------

def test_unknown_kms_key_counts_as_set_even_when_kms_is_required():
    # The recorded preview already has them unknown: the program passes the key's ARN, an output of a
    # key not yet created.
    stack = compliant_stack()
    assert find(stack, TRAIL_R).props["kmsKeyId"] == UNKNOWN_STRING_VALUE
    assert find(stack, LOG_GROUP_R).props["kmsKeyId"] == UNKNOWN_STRING_VALUE
    assert find(stack, DELIVERY).props["kmsMasterKeyId"] == UNKNOWN_STRING_VALUE
    assert preview(stack, for_all({"requireKms": True})).summary() == []


def test_brand_new_stack_with_unknown_names_and_policy_document():
    """Bucket names and the policy JSON built from bucket.arn are unknown on the first preview."""
    stack = compliant_stack()
    for r in stack:
        if "bucket" in r.props:
            r.props["bucket"] = UNKNOWN_STRING_VALUE
    trail = find(stack, TRAIL_R)
    trail.props["s3BucketName"] = UNKNOWN_STRING_VALUE
    find(stack, archive("policy")).props["policy"] = UNKNOWN_STRING_VALUE
    sse = find(stack, archive("encryption")).props["rules"][0]["applyServerSideEncryptionByDefault"]
    sse["kmsMasterKeyId"] = UNKNOWN_STRING_VALUE
    assert preview(stack).summary() == [
        cant_run(policy, "string value at .policy")
        for policy in ("aws-s3-bucket-tls-only", "aws-s3-bucket-policy-no-outside-access",
                       "aws-s3-bucket-reads-limited-to-auditors")]


def test_unknown_value_does_not_hide_a_real_violation_elsewhere():
    stack = compliant_stack()
    find(stack, archive("policy")).props["policy"] = UNKNOWN_STRING_VALUE
    stack.remove(find(stack, archive("public-access-block")))
    assert [d[:2] for d in preview(stack).summary()] == [
        ("aws-s3-bucket-public-access-block", M),
        ("aws-s3-bucket-tls-only", A),
        ("aws-s3-bucket-policy-no-outside-access", A),
        ("aws-s3-bucket-reads-limited-to-auditors", A),
    ]


def test_tls_statement_recognised_when_only_the_bucket_name_is_unknown():
    stack = compliant_stack()
    find(stack, ARCHIVE).props["bucket"] = UNKNOWN_STRING_VALUE
    assert preview(stack).summary() == []


@pytest.mark.parametrize("resource,path,sentinel,policies,what", [
    (TRAIL_R, ("enableLogFileValidation",), UNKNOWN_BOOLEAN_VALUE,
     ["aws-cloudtrail-trail-log-file-validation", "aws-cloudtrail-stack-security-trail"],
     "boolean value at .enableLogFileValidation"),
    # What the trail records decides global service events, management events and CloudWatch delivery
    # (judged over the set of trails); that it is multi-region is known, so that rule still runs.
    (TRAIL_R, ("advancedEventSelectors",), UNKNOWN_ARRAY_VALUE,
     ["aws-cloudtrail-trail-global-service-events", "aws-cloudtrail-trail-management-events",
      "aws-cloudtrail-trail-cloudwatch-logs", "aws-cloudtrail-stack-security-trail"],
     "Array value at .advancedEventSelectors"),
    (archive("lifecycle"), ("rules", 0, "expiration", "days"), UNKNOWN_NUMBER_VALUE,
     ["aws-s3-bucket-lifecycle-retention"], "number value at .rules.0.expiration.days"),
    (archive("public-access-block"), ("blockPublicAcls",), UNKNOWN_BOOLEAN_VALUE,
     ["aws-s3-bucket-public-access-block"], "boolean value at .blockPublicAcls"),
    (archive("versioning"), ("versioningConfiguration", "status"), UNKNOWN_STRING_VALUE,
     ["aws-s3-bucket-versioning"], "string value at .versioningConfiguration.status"),
    (LOG_GROUP_R, ("retentionInDays",), UNKNOWN_NUMBER_VALUE,
     ["aws-cloudwatch-log-group-retention"], "number value at .retentionInDays"),
    (KEY_R, ("enableKeyRotation",), UNKNOWN_BOOLEAN_VALUE,
     ["aws-kms-key-rotation"], "boolean value at .enableKeyRotation"),
    (metric_filter("vpc-changes"), ("pattern",), UNKNOWN_STRING_VALUE,
     ["aws-cloudwatch-stack-monitoring-alarms"], "string value at .pattern"),
])
def test_unknown_deciding_value_gives_only_the_advisory_preview_diagnostic(resource, path, sentinel,
                                                                            policies, what):
    stack = compliant_stack()
    target = find(stack, resource).props
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = sentinel
    assert preview(stack).summary() == [cant_run(p, what) for p in policies]


def test_unknown_value_not_needed_for_the_decision_is_never_read():
    """The GLACIER transition's storage class is unknown, but a good trail does not depend on it."""
    stack = compliant_stack()
    find(stack, TRAIL_R).props["name"] = UNKNOWN_STRING_VALUE
    find(stack, LOG_GROUP_R).props["retentionInDays"] = 0
    find(stack, archive("lifecycle")).props["rules"][0]["id"] = UNKNOWN_STRING_VALUE
    assert preview(stack).summary() == []


# --- deprecated forms --------------------------------------------------------------------------------

V2_TYPES = {
    ARCHIVE: "aws:s3/bucketV2:BucketV2",
    archive("encryption"):
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    archive("versioning"): "aws:s3/bucketVersioningV2:BucketVersioningV2",
    archive("lifecycle"): "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
    archive("logging"): "aws:s3/bucketLoggingV2:BucketLoggingV2",
    archive("object-lock"): "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
}


def v2_stack() -> list[R]:
    stack = compliant_stack()
    for r in stack:
        r.type = V2_TYPES.get(r.name, r.type)
    return stack


def test_bucket_v2_with_v2_companions_complies():
    assert preview(v2_stack()).summary() == []


def test_bucket_v2_companion_violation_is_found():
    stack = v2_stack()
    find(stack, archive("versioning")).props["versioningConfiguration"]["status"] = "Suspended"
    assert [d[:2] for d in preview(stack).summary()] == [("aws-s3-bucket-versioning", M)]


INLINE_COMPANIONS = tuple(archive(setting) for setting in ("encryption", "versioning", "lifecycle", "logging",
                                                           "policy"))


def _recorded(stack: list[R]) -> tuple[dict, dict, dict]:
    """The archive's recorded default encryption, lifecycle rule and logging, to move inline."""
    sse = find(stack, archive("encryption")).props["rules"][0]["applyServerSideEncryptionByDefault"]
    return sse, find(stack, archive("lifecycle")).props["rules"][0], find(stack, archive("logging")).props


def inline_bucket_stack() -> list[R]:
    """aws.s3.Bucket with the deprecated inline arguments instead of the recorded companion resources."""
    stack = compliant_stack()
    sse, rule, logging = _recorded(stack)
    stack = [r for r in stack if r.name not in INLINE_COMPANIONS]
    find(stack, ARCHIVE).props.update({
        "versioning": {"enabled": True, "mfaDelete": True},
        "serverSideEncryptionConfiguration": {"rule": {"applyServerSideEncryptionByDefault": sse}},
        "lifecycleRules": [{"id": rule["id"], "enabled": True, "expiration": rule["expiration"],
                            "noncurrentVersionExpiration": {
                                "days": rule["noncurrentVersionExpiration"]["noncurrentDays"]},
                            "transitions": rule["transitions"]}],
        "logging": {"targetBucket": logging["targetBucket"]},
        "policy": bucket_policy(),
    })
    return stack


def test_inline_bucket_arguments_comply():
    assert preview(inline_bucket_stack()).summary() == []


def test_inline_lifecycle_expiration_is_checked():
    stack = inline_bucket_stack()
    find(stack, ARCHIVE).props["lifecycleRules"][0]["expiration"]["days"] = 30
    # The program expires noncurrent versions after 1 day (its Object Lock keeps each version 2555 days),
    # hence "deleted by day 31": the lifetime the message states leaves the lock out.
    assert preview(stack, for_all({"profiles": ["hipaa"]})).summary() == [
        ("aws-s3-bucket-lifecycle-retention", M,
         "Raise expiration days of lifecycle rule 'spawn-audit-log-retention' on bucket "
         "'spawn-audit-archive-bucket' to at least 2192 or remove the expiration: retention must be at least "
         "2192 days under hipaa (45 CFR 164.316(b)(2)(i)); is 30; log files live at least 30 days and are "
         "deleted by day 31."),
    ]


def test_inline_acl_is_flagged():
    stack = inline_bucket_stack()
    find(stack, ARCHIVE).props["acl"] = "public-read"
    assert [d[:2] for d in preview(stack).summary()] == [("aws-s3-bucket-ownership-enforced", M)]


def bucket_v2_inline_stack() -> list[R]:
    """aws.s3.BucketV2 with its deprecated plural inline arguments."""
    stack = compliant_stack()
    _, rule, logging = _recorded(stack)
    stack = [r for r in stack if r.name not in INLINE_COMPANIONS]
    bucket = find(stack, ARCHIVE)
    bucket.type = "aws:s3/bucketV2:BucketV2"
    bucket.props.update({
        "versionings": [{"enabled": True, "mfaDelete": True}],
        "serverSideEncryptionConfigurations": [{"rules": [{"applyServerSideEncryptionByDefaults": [
            {"sseAlgorithm": "AES256"}]}]}],
        "lifecycleRules": [{"id": rule["id"], "enabled": True, "expirations": [rule["expiration"]],
                            "noncurrentVersionExpirations": [
                                {"days": rule["noncurrentVersionExpiration"]["noncurrentDays"]}],
                            "transitions": [{"days": 120, "storageClass": "DEEP_ARCHIVE"}]}],
        "loggings": [{"targetBucket": logging["targetBucket"]}],
        "policy": bucket_policy(),
    })
    return stack


def test_bucket_v2_inline_plural_arguments_comply():
    assert preview(bucket_v2_inline_stack()).summary() == []


def test_bucket_v2_inline_versioning_off_is_flagged():
    stack = bucket_v2_inline_stack()
    find(stack, ARCHIVE).props["versionings"][0]["enabled"] = False
    assert [d[:2] for d in preview(stack).summary()] == [("aws-s3-bucket-versioning", M)]


# --- missing and null properties ---------------------------------------------------------------------

def test_trail_with_only_a_bucket_name():
    result = Pack().configure(engine_config()).analyze(
        R("aws:cloudtrail/trail:Trail", "bare", {"s3BucketName": BUCKET_NAME}))
    # Multi-region coverage and CloudWatch delivery are judged over the stack's trails (AnalyzeStack).
    assert [d[:2] for d in result.summary()] == [
        ("aws-cloudtrail-trail-log-file-validation", M),
        ("aws-cloudtrail-trail-kms-encryption", A),
        ("aws-cloudtrail-trail-sns-notification", A),
        ("aws-cloudtrail-trail-tags", A),
    ]


def test_null_properties_mean_not_set():
    props = {"s3BucketName": None, "enableLogFileValidation": None, "eventSelectors": None,
             "advancedEventSelectors": None, "tags": None, "kmsKeyId": None, "enableLogging": None,
             "includeGlobalServiceEvents": None, "isMultiRegionTrail": True,
             "cloudWatchLogsGroupArn": "arn:aws:logs:us-east-1:1:log-group:x:*",
             "cloudWatchLogsRoleArn": "arn:aws:iam::1:role/r", "snsTopicName": None}
    result = Pack().configure(engine_config()).analyze(R("aws:cloudtrail/trail:Trail", "nulls", props))
    assert [d[:2] for d in result.summary()] == [
        ("aws-cloudtrail-trail-log-file-validation", M),
        ("aws-cloudtrail-trail-kms-encryption", A),
        ("aws-cloudtrail-trail-sns-notification", A),
        ("aws-cloudtrail-trail-tags", A),
    ]


@pytest.mark.parametrize("resource_type", [
    "aws:cloudtrail/trail:Trail", "aws:kms/key:Key", "aws:sns/topic:Topic", "aws:s3/bucket:Bucket",
    "aws:cloudwatch/logGroup:LogGroup", "aws:cloudwatch/metricAlarm:MetricAlarm",
])
def test_empty_resources_never_crash(resource_type):
    pack = Pack().configure(engine_config())
    pack.analyze(R(resource_type, "empty", {}))
    stack = [R(resource_type, "empty", {}), R("aws:cloudtrail/trail:Trail", "t", {}, {})]
    result = pack.analyze_stack(stack)
    assert all(d.level in (M, A) for d in result.diagnostics)


def test_stack_of_bare_trail_and_bucket_reports_each_bucket_control():
    stack = [R("aws:s3/bucket:Bucket", "b", {"bucket": "logs"}),
             R("aws:cloudtrail/trail:Trail", "t", {"s3BucketName": "logs"}, {"s3BucketName": ["b"]})]
    result = Pack().configure(engine_config()).analyze_stack(copy.deepcopy(stack))
    assert [d[:2] for d in result.summary()] == [
        ("aws-cloudtrail-trail-multi-region", M),
        ("aws-cloudtrail-stack-security-trail", M),
        ("aws-s3-bucket-public-access-block", M),
        ("aws-s3-bucket-encryption", M),
        ("aws-s3-bucket-versioning", M),
        ("aws-s3-bucket-tls-only", M),
        ("aws-s3-bucket-access-logging", M),
        ("aws-s3-bucket-ownership-enforced", M),
        ("aws-s3-bucket-object-lock", A),
        ("aws-s3-bucket-mfa-delete", A),
        # No bucket policy: every principal the account's IAM policies allow may read the logs.
        ("aws-s3-bucket-reads-limited-to-auditors", M),
        ("aws-cloudwatch-stack-monitoring-alarms", M),
        ("aws-cloudtrail-stack-evidence-protected", M),
    ]


def test_tls_deny_on_every_resource_recognised_when_the_bucket_name_is_unknown():
    stack = compliant_stack()
    find(stack, ARCHIVE).props["bucket"] = UNKNOWN_STRING_VALUE
    policy = json.loads(find(stack, archive("policy")).props["policy"])
    tls = next(s for s in policy["Statement"] if s["Sid"] == "DenyInsecureTransport")
    tls["Resource"] = "*"
    find(stack, archive("policy")).props["policy"] = json.dumps(policy)
    assert preview(stack).summary() == []
