"""Each rule: a compliant baseline (the recorded program, ``policy_fixtures``), then one-change negatives
asserting the exact diagnostics.

Everything goes through the SDK's Analyzer servicer (``policy_harness.Pack``): every resource through
``Analyze`` and the stack through ``AnalyzeStack``, as one preview. Each negative asserts the complete
list of diagnostics, so a change that trips an unexpected second policy fails too.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from audit_policies import matrix
from policy_fixtures import (
    ALERTS_EMAIL,
    ARCHIVE,
    DELIVERY,
    KEY_R,
    LOG_GROUP_R,
    TRAIL_R,
    alarm,
    archive,
    compliant_stack,
    find,
    metric_filter,
    undeclared,
)
from policy_harness import Pack, R, configured, engine_config, for_all

M, A = "mandatory", "advisory"
ALL = "45 CFR 164.312(b), PCI DSS 10.2.1, SOC 2 CC7.2"
SECURITY_TRAIL = ("aws-cloudtrail-stack-security-trail", M,
                  "No trail satisfies every trail rule together (Security Hub CloudTrail.1, CloudTrail.4, "
                  "CIS 3.1, "
                  "3.2, 45 CFR 164.312(b), 45 CFR 164.312(c)(1), PCI DSS 10.2.1, PCI DSS 10.3.4, SOC 2 "
                  "CC7.2). "
                  "trail 'spawn-audit-trail-trail': {}.")


def security_trail(fix: str) -> tuple[str, str, str]:
    name, level, template = SECURITY_TRAIL
    return name, level, template.format(fix)


def set_prop(resource: str, key: str, value) -> Callable[[list[R]], None]:
    def mutate(stack: list[R]) -> None:
        props = find(stack, resource).props
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return mutate


def alone(mutate: Callable[[list[R]], None]) -> Callable[[list[R]], None]:
    """``mutate`` on the stack without the program's declaration of hipaa, pci-dss and soc2, for a test of
    what a pack config naming fewer profiles enforces (the declaration would raise the bar to all three)."""
    return lambda stack: mutate(undeclared(stack))


def remove(resource: str) -> Callable[[list[R]], None]:
    return lambda stack: stack.remove(find(stack, resource))


def lifecycle_rule(stack: list[R]) -> dict:
    return find(stack, archive("lifecycle")).props["rules"][0]


def preview(mutate=None, config=None):
    stack = compliant_stack()
    if mutate:
        mutate(stack)
    pack = configured(config) if config is not None else Pack().configure(engine_config())
    return pack.preview(stack)


# --- baselines ---------------------------------------------------------------------------------------

def test_compliant_stack_has_no_diagnostics_with_default_config():
    result = preview()
    assert result.summary() == []
    # The KMS "-required" twins are not applicable: no profile sets kms_encryption by default.
    assert set(result.not_applicable) == {
        "aws-cloudtrail-trail-kms-encryption-required",
        "aws-cloudwatch-log-group-kms-encryption-required",
        "aws-sns-topic-kms-encryption-required",
    }


@pytest.mark.parametrize("stem", sorted(matrix.EXAMPLE_PROFILES))
def test_compliant_stack_passes_each_example_config(stem):
    config = json.loads((matrix.POLICY_DIR / "config" / f"{stem}.json").read_text())
    assert preview(config=config).summary() == []


def test_sandbox_makes_profile_controls_not_applicable():
    config = json.loads((matrix.POLICY_DIR / "config" / "sandbox.json").read_text())
    result = preview(alone(set_prop(TRAIL_R, "enableLogFileValidation", False)), config)
    assert result.summary() == []
    assert result.not_applicable["aws-cloudtrail-trail-log-file-validation"] == \
        "not required by the sandbox profile (none)"


# --- one-change negatives ----------------------------------------------------------------------------

def _glacier_at_30(stack):
    lifecycle_rule(stack)["transitions"][0]["days"] = 30


def _expire_at_30(stack):
    lifecycle_rule(stack)["expiration"]["days"] = 30


def _lock_at_365(stack):
    find(stack, archive("object-lock")).props["rule"]["defaultRetention"]["days"] = 365


def _readonly_selector(stack):
    find(stack, TRAIL_R).props["advancedEventSelectors"][0]["fieldSelectors"].append(
        {"field": "readOnly", "equals": ["false"]})


def _write_only_basic_selector(stack):
    props = find(stack, TRAIL_R).props
    del props["advancedEventSelectors"]
    props["eventSelectors"] = [{"readWriteType": "WriteOnly", "includeManagementEvents": True,
                                "excludeManagementEventSources": ["kms.amazonaws.com"]}]


def _without_statement(sid: str) -> Callable[[list[R]], None]:
    def mutate(stack: list[R]) -> None:
        props = find(stack, archive("policy")).props
        doc = json.loads(props["policy"])
        doc["Statement"] = [st for st in doc["Statement"] if st.get("Sid") != sid]
        props["policy"] = json.dumps(doc)
    return mutate


def _sse_aes(stack):
    find(stack, archive("encryption")).props["rules"][0]["applyServerSideEncryptionByDefault"] = \
        {"sseAlgorithm": "AES256"}


def _no_object_lock(stack):
    stack.remove(find(stack, archive("object-lock")))


def _versioning_status(status):
    def mutate(stack):
        find(stack, archive("versioning")).props["versioningConfiguration"]["status"] = status
    return mutate


def _no_expiration(stack):
    # Without expiration the bucket could take MFA Delete, which S3 refuses beside lifecycle expiration.
    rule = find(stack, archive("lifecycle")).props["rules"][0]
    del rule["expiration"], rule["noncurrentVersionExpiration"]


PCI_ONLY = for_all({"profiles": ["pci-dss"]})
HIPAA_ONLY = for_all({"profiles": ["hipaa"]})

TLS_FIX = (
    "Add to the bucket policy of bucket 'spawn-audit-archive-bucket' a statement with Effect Deny, Principal "
    "*, Action s3:*, Resource the bucket and its objects, and Condition Bool aws:SecureTransport false "
    "(Security Hub S3.5, CIS 2.1.1, 45 CFR 164.312(e)(1), PCI DSS 4.2.1, SOC 2 CC6.7)."
)


def _tls_statement(stack):
    policy = json.loads(find(stack, archive("policy")).props["policy"])
    return policy, next(s for s in policy["Statement"] if s.get("Sid") == "DenyInsecureTransport")


def _narrow_tls_deny(stack):
    # A deny that only applies to another account's principals no longer covers insecure requests.
    policy, statement = _tls_statement(stack)
    statement["Condition"]["StringEquals"] = {"aws:PrincipalAccount": "999999999999"}
    find(stack, archive("policy")).props["policy"] = json.dumps(policy)


def _wildcard_tls_resource(stack):
    policy, statement = _tls_statement(stack)
    statement["Resource"] = f"arn:aws:s3:::{find(stack, 'spawn-audit-archive-bucket').props['bucket']}*"
    find(stack, archive("policy")).props["policy"] = json.dumps(policy)


def _extra_rule(**scope):
    # A second lifecycle rule expiring objects after 7 days, scoped by ``scope``.
    def mutate(stack):
        find(stack, archive("lifecycle")).props["rules"].append(
            {"id": "scratch", "status": "Enabled", "expiration": {"days": 7}, **scope})
    return mutate


SHORT_SCRATCH = [(
    "aws-s3-bucket-lifecycle-retention", "mandatory",
    "Raise expiration days of lifecycle rule 'scratch' on bucket 'spawn-audit-archive-bucket' to at least "
    "2192 or remove the expiration: retention must be at least 2192 days under hipaa (45 CFR "
    "164.316(b)(2)(i)); is 7; log files stay current for 7 days, then their noncurrent versions are never "
    "deleted.",
)]


NEGATIVES = [
    ("tls-deny-narrowed-by-another-condition", _narrow_tls_deny, None, [
        ("aws-s3-bucket-tls-only", M, TLS_FIX),
    ]),
    ("tls-deny-on-bucket-wildcard", _wildcard_tls_resource, None, []),
    ("scratch-rule-on-other-prefix", _extra_rule(filter={"prefix": "tmp/"}), None, []),
    ("scratch-rule-on-whole-bucket", _extra_rule(filter={}), None, SHORT_SCRATCH),
    ("scratch-rule-inside-the-log-prefix", _extra_rule(filter={"prefix": "AWSLogs/123/"}), None,
     SHORT_SCRATCH),
    ("scratch-rule-on-tagged-objects", _extra_rule(filter={"tag": {"key": "scratch", "value": "yes"}}),
     None, []),
    ("log-file-validation-off", alone(set_prop(TRAIL_R, "enableLogFileValidation", False)), PCI_ONLY, [
        ('aws-cloudtrail-trail-log-file-validation', M,
         'Set enableLogFileValidation to true (Security Hub CloudTrail.4, CIS 3.2, PCI DSS 10.3.4).'),
        ('aws-cloudtrail-stack-security-trail', M,
         "The stack's trails must together record every management event in every region, and each "
         'trail must be intact (Security Hub CloudTrail.1, CloudTrail.4, CIS 3.1, 3.2, PCI DSS '
         "10.2.1, PCI DSS 10.3.4). Trail 'spawn-audit-trail-trail': set enableLogFileValidation to true."),
    ]),
    ("multi-region-unset", set_prop(TRAIL_R, "isMultiRegionTrail", None), None, [
        ('aws-cloudtrail-trail-multi-region', M,
         "Set isMultiRegionTrail to true on trail 'spawn-audit-trail-trail': no trail records events in "
         'every region (Security Hub CloudTrail.1, CIS 3.1, 45 CFR 164.312(b), PCI DSS 10.2.1, SOC 2'
         ' CC7.2).'),
        ('aws-cloudtrail-stack-security-trail', M,
         "The stack's trails must together record every management event in every region, and each "
         'trail must be intact (Security Hub CloudTrail.1, CloudTrail.4, CIS 3.1, 3.2, 45 CFR '
         '164.312(b), 45 CFR 164.312(c)(1), PCI DSS 10.2.1, PCI DSS 10.3.4, SOC 2 CC7.2). Set '
         "isMultiRegionTrail to true on trail 'spawn-audit-trail-trail': no trail records events in every "
         'region.'),
    ]),
    ("global-events-off", set_prop(TRAIL_R, "includeGlobalServiceEvents", False), None, [
        ('aws-cloudtrail-trail-global-service-events', M,
         "Set includeGlobalServiceEvents to true (or remove it; it defaults to true) on trail "
         "'spawn-audit-trail-trail': no multi-region trail records global service events (45 CFR 164.312(b), "
         "PCI DSS 10.2.1, SOC 2 CC7.2)."),
        ('aws-cloudtrail-stack-security-trail', M,
         "The stack's trails must together record every management event in every region, and each trail "
         "must be intact (Security Hub CloudTrail.1, CloudTrail.4, CIS 3.1, 3.2, 45 CFR 164.312(b), 45 CFR "
         "164.312(c)(1), PCI DSS 10.2.1, PCI DSS 10.3.4, SOC 2 CC7.2). Set includeGlobalServiceEvents to "
         "true (or remove it; it defaults to true) on trail 'spawn-audit-trail-trail': no multi-region trail "
         "records global service events."),
    ]),
    ("logging-off", set_prop(TRAIL_R, "enableLogging", False), None, [
        ('aws-cloudtrail-trail-logging-enabled', M,
         'Set enableLogging to true (or remove it; it defaults to true) (Security Hub CloudTrail.3, '
         'CIS 3.1, 45 CFR 164.312(b), PCI DSS 10.2.1, SOC 2 CC7.2).'),
        ('aws-cloudtrail-stack-security-trail', M,
         "The stack's trails must together record every management event in every region, and each "
         'trail must be intact (Security Hub CloudTrail.1, CloudTrail.4, CIS 3.1, 3.2, 45 CFR '
         '164.312(b), 45 CFR 164.312(c)(1), PCI DSS 10.2.1, PCI DSS 10.3.4, SOC 2 CC7.2). Trail '
         "'spawn-audit-trail-trail': set enableLogging to true (or remove it; it defaults to true)."),
    ]),
    ("advanced-selector-read-only-filter", _readonly_selector, None, [
        ('aws-cloudtrail-trail-management-events', M,
         "Record read management events from every source in every region: no multi-region trail records "
         "them; on trail 'spawn-audit-trail-trail': add an advanced event selector on eventCategory "
         "Management without readOnly or eventSource filters: remove its readOnly field selector (Security "
         "Hub CloudTrail.1, CIS 3.1, 45 CFR 164.312(b), PCI DSS 10.2.1, PCI DSS 10.2.1.2, SOC 2 CC7.2)."),
        ('aws-cloudtrail-stack-security-trail', M,
         "The stack's trails must together record every management event in every region, and each trail "
         "must be intact (Security Hub CloudTrail.1, CloudTrail.4, CIS 3.1, 3.2, 45 CFR 164.312(b), 45 CFR "
         "164.312(c)(1), PCI DSS 10.2.1, PCI DSS 10.3.4, SOC 2 CC7.2). Record read management events from "
         "every source in every region: no multi-region trail records them; on trail "
         "'spawn-audit-trail-trail': add an advanced event selector on eventCategory Management without "
         "readOnly or eventSource filters: remove its readOnly field selector."),
    ]),
    ("basic-selector-write-only-with-exclusion", _write_only_basic_selector, None, [
        ('aws-cloudtrail-trail-management-events', M,
         "Record read and write management events from every source in every region: no multi-region trail "
         "records them; on trail 'spawn-audit-trail-trail': record read and write management events with "
         "none excluded: set readWriteType to All (is WriteOnly); remove excludeManagementEventSources "
         "(kms.amazonaws.com) (Security Hub CloudTrail.1, CIS 3.1, 45 CFR 164.312(b), PCI DSS 10.2.1, PCI "
         "DSS 10.2.1.2, SOC 2 CC7.2)."),
        ('aws-cloudtrail-stack-security-trail', M,
         "The stack's trails must together record every management event in every region, and each trail "
         "must be intact (Security Hub CloudTrail.1, CloudTrail.4, CIS 3.1, 3.2, 45 CFR 164.312(b), 45 CFR "
         "164.312(c)(1), PCI DSS 10.2.1, PCI DSS 10.3.4, SOC 2 CC7.2). Record read and write management "
         "events from every source in every region: no multi-region trail records them; on trail "
         "'spawn-audit-trail-trail': record read and write management events with none excluded: set "
         "readWriteType to All (is WriteOnly); remove excludeManagementEventSources (kms.amazonaws.com)."),
    ]),
    ("cloudwatch-role-missing", set_prop(TRAIL_R, "cloudWatchLogsRoleArn", None), None, [
        ('aws-cloudtrail-trail-cloudwatch-logs', M,
         "Set cloudWatchLogsRoleArn so events reach CloudWatch Logs through a role (trail "
         "'spawn-audit-trail-trail'): read and write management events of the multi-region trails must reach "
         "CloudWatch Logs (Security Hub CloudTrail.5, 45 CFR 164.308(a)(1)(ii)(D), PCI DSS 10.3.3, PCI DSS "
         "10.4.1.1, SOC 2 CC7.2)."),
        ('aws-cloudtrail-stack-security-trail', M,
         "The stack's trails must together record every management event in every region, and each trail "
         "must be intact (Security Hub CloudTrail.1, CloudTrail.4, CIS 3.1, 3.2, 45 CFR 164.312(b), 45 CFR "
         "164.312(c)(1), PCI DSS 10.2.1, PCI DSS 10.3.4, SOC 2 CC7.2). Set cloudWatchLogsRoleArn so events "
         "reach CloudWatch Logs through a role (trail 'spawn-audit-trail-trail'): read and write management "
         "events of the multi-region trails must reach CloudWatch Logs."),
    ]),
    ("trail-kms-removed", set_prop(TRAIL_R, "kmsKeyId", None), None, [
        ("aws-cloudtrail-trail-kms-encryption", A,
         "Set kmsKeyId to a customer managed KMS key (Security Hub CloudTrail.2, CIS 3.5, "
         "45 CFR 164.312(a)(2)(iv), PCI DSS 10.3.2, SOC 2 CC6.1)."),
    ]),
    ("trail-kms-removed-with-requireKms", alone(set_prop(TRAIL_R, "kmsKeyId", None)),
     for_all({"profiles": ["hipaa"], "requireKms": True}), [
        ('aws-cloudtrail-trail-kms-encryption', A,
         'Set kmsKeyId to a customer managed KMS key (Security Hub CloudTrail.2, CIS 3.5, 45 CFR '
         '164.312(a)(2)(iv), PCI DSS 10.3.2, SOC 2 CC6.1).'),
        ('aws-cloudtrail-trail-kms-encryption-required', M,
         'Set kmsKeyId to a customer managed KMS key (Security Hub CloudTrail.2, CIS 3.5, 45 CFR '
         '164.312(a)(2)(iv)).'),
        ('aws-cloudtrail-stack-security-trail', M,
         "The stack's trails must together record every management event in every region, and each trail "
         "must be intact (Security Hub CloudTrail.1, CloudTrail.4, CIS 3.1, 3.2, 45 CFR 164.312(b), 45 CFR "
         "164.312(c)(1)). Trail 'spawn-audit-trail-trail': set kmsKeyId to a customer managed KMS key."),
    ]),
    ("sns-notification-removed", set_prop(TRAIL_R, "snsTopicName", None), None, [
        ("aws-cloudtrail-trail-sns-notification", A,
         "Set snsTopicName to an SNS topic so each log-file delivery is announced (SOC 2 CC7.3)."),
    ]),
    ("trail-tags-removed", set_prop(TRAIL_R, "tags", None), None, [
        ("aws-cloudtrail-trail-tags", A, "Add at least one tag to the trail (Security Hub CloudTrail.9, SOC "
                                         "2 CC6.1)."),
    ]),
    ("trail-required-tag-missing", lambda s: None,
     {"aws-cloudtrail-trail-tags": {"requiredTagKeys": ["env"]}}, [
        ("aws-cloudtrail-trail-tags", A, "Add the tag keys env to the trail (Security Hub CloudTrail.9, SOC "
                                         "2 CC6.1)."),
    ]),
    ("public-access-flag-off", set_prop(archive("public-access-block"), "restrictPublicBuckets", False), None,
     [
        ("aws-s3-bucket-public-access-block", M,
         "Set restrictPublicBuckets to true on the public access block of bucket "
         "'spawn-audit-archive-bucket' (Security Hub CloudTrail.6, S3.8, CIS 2.1.4, 45 CFR 164.312(a)(1), "
         "PCI DSS 10.3.1, SOC 2 CC6.1)."),
    ]),
    ("public-access-block-removed", remove(archive("public-access-block")), None, [
        ("aws-s3-bucket-public-access-block", M,
         "Add an aws.s3.BucketPublicAccessBlock for bucket 'spawn-audit-archive-bucket' with "
         "blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets set to true (Security "
         "Hub CloudTrail.6, S3.8, CIS 2.1.4, 45 CFR 164.312(a)(1), PCI DSS 10.3.1, SOC 2 CC6.1)."),
    ]),
    ("encryption-removed", remove(archive("encryption")), None, [
        ("aws-s3-bucket-encryption", M,
         "Add default encryption to bucket 'spawn-audit-archive-bucket' with an "
         "aws.s3.BucketServerSideEncryptionConfiguration whose sseAlgorithm is AES256 or aws:kms or "
         "aws:kms:dsse (45 CFR 164.312(a)(2)(iv), PCI DSS 10.3.2, SOC 2 CC6.1)."),
    ]),
    ("sse-s3-when-kms-required", _sse_aes, {"aws-s3-bucket-encryption": {"requireKms": True}}, [
        ("aws-s3-bucket-encryption", M,
         "Set sseAlgorithm of bucket 'spawn-audit-archive-bucket' to aws:kms or aws:kms:dsse (KMS is "
         "required by the profile or requireKms) (45 CFR 164.312(a)(2)(iv), PCI DSS 10.3.2, SOC 2 CC6.1); is "
         "AES256."),
    ]),
    ("versioning-suspended", _versioning_status("Suspended"), None, [
        ("aws-s3-bucket-versioning", M,
         "Enable versioning on bucket 'spawn-audit-archive-bucket' with an aws.s3.BucketVersioning whose "
         "versioningConfiguration.status is Enabled (Security Hub S3.14, 45 CFR 164.312(c)(1), "
         "PCI DSS 10.3.2, SOC 2 CC7.2)."),
    ]),
    ("tls-statement-removed", _without_statement("DenyInsecureTransport"), None, [
        ("aws-s3-bucket-tls-only", M,
         "Add to the bucket policy of bucket 'spawn-audit-archive-bucket' a statement with Effect Deny, "
         "Principal *, Action s3:*, Resource the bucket and its objects, and Condition Bool "
         "aws:SecureTransport false (Security Hub S3.5, CIS 2.1.1, 45 CFR 164.312(e)(1), PCI DSS 4.2.1, SOC "
         "2 CC6.7)."),
    ]),
    ("access-logging-removed", remove(archive("logging")), None, [
        ("aws-s3-bucket-access-logging", M,
         "Enable server access logging for bucket 'spawn-audit-archive-bucket' with an aws.s3.BucketLogging "
         "whose targetBucket is a separate access-log bucket (Security Hub CloudTrail.7, S3.9, CIS 3.4, 45 "
         "CFR 164.312(b), PCI DSS 10.2.1.3)."),
    ]),
    ("ownership-object-writer",
     lambda s: find(s, archive("ownership")).props["rule"].update(objectOwnership="ObjectWriter"), None, [
        ("aws-s3-bucket-ownership-enforced", M,
         "Set rule.objectOwnership to BucketOwnerEnforced in an aws.s3.BucketOwnershipControls for bucket "
         "'spawn-audit-archive-bucket' (is ObjectWriter) (Security Hub S3.12, 45 CFR 164.312(a)(1), PCI DSS "
         "10.3.1, SOC 2 CC6.1)."),
    ]),
    ("bucket-acl-grant", lambda s: s.append(R("aws:s3/bucketAcl:BucketAcl", "archive-acl", {
        "bucket": "x", "acl": "log-delivery-write"}, {"bucket": [ARCHIVE]})), None, [
        ("aws-s3-bucket-ownership-enforced", M,
         "Remove the ACL settings (aws.s3.BucketAcl 'archive-acl' log-delivery-write) (Security Hub S3.12, "
         "45 CFR 164.312(a)(1), PCI DSS 10.3.1, SOC 2 CC6.1)."),
    ]),
    # "deleted by day 31": the program's 1-day noncurrent expiration; the lifetime the message states
    # leaves out the Object Lock that keeps each version 2555 days.
    ("expiration-30-days-hipaa", alone(_expire_at_30), HIPAA_ONLY, [
        ("aws-s3-bucket-lifecycle-retention", M,
         "Raise expiration days of lifecycle rule 'spawn-audit-log-retention' on bucket "
         "'spawn-audit-archive-bucket' to at least 2192 or remove the expiration: retention must be at least "
         "2192 days under hipaa (45 CFR 164.316(b)(2)(i)); is 30; log files live at least 30 days and are "
         "deleted by day 31."),
    ]),
    # The program expires noncurrent versions after 1 day because its Object Lock default retention
    # (2555 days) keeps every version to the floor. A lock below the floor (365 days) no longer excuses
    # that short noncurrent expiration.
    ("noncurrent-expiration-under-a-short-lock", _lock_at_365, None, [
        ("aws-s3-bucket-lifecycle-retention", M,
         "Raise noncurrentVersionExpiration days of lifecycle rule 'spawn-audit-log-retention' on bucket "
         "'spawn-audit-archive-bucket' to at least 2192 or remove the expiration or protect every version to "
         "the floor with an Object Lock default retention of at least 2192 days: retention must be at least "
         "2192 days under hipaa (45 CFR 164.316(b)(2)(i)); is 1; log files live at least 2555 days and are "
         "deleted by day 2556."),
    ]),
    ("glacier-before-day-92", _glacier_at_30, None, [
        ("aws-s3-bucket-lifecycle-immediate-access", M,
         "Move the GLACIER transition of lifecycle rule 'spawn-audit-log-retention' on bucket "
         "'spawn-audit-archive-bucket' to day 92 or later: the newest 92 days of logs must stay immediately "
         "available under pci-dss (PCI DSS 10.5.1); is day 30."),
    ]),
    # Without the lock the program's 1-day noncurrent expiration is no longer excused.
    ("object-lock-off", _no_object_lock, None, [
        ("aws-s3-bucket-lifecycle-retention", M,
         "Raise noncurrentVersionExpiration days of lifecycle rule 'spawn-audit-log-retention' on bucket "
         "'spawn-audit-archive-bucket' to at least 2192 or remove the expiration or protect every version to "
         "the floor with an Object Lock default retention of at least 2192 days: retention must be at least "
         "2192 days under hipaa (45 CFR 164.316(b)(2)(i)); is 1; log files live at least 2555 days and are "
         "deleted by day 2556."),
        ("aws-s3-bucket-object-lock", A,
         "Enable S3 Object Lock on bucket 'spawn-audit-archive-bucket' (an "
         "aws.s3.BucketObjectLockConfiguration with a default retention no longer than the expiration) "
         "(Security Hub S3.15, 45 CFR 164.312(c)(1), PCI DSS 10.3.2)."),
    ]),
    ("no-expiration-without-mfa-delete", _no_expiration, None, [
        ("aws-s3-bucket-mfa-delete", A,
         "Enable MFA Delete on bucket 'spawn-audit-archive-bucket' (versioningConfiguration.mfaDelete "
         "Enabled, set by the root user) (Security Hub S3.20, CIS 2.1.2, 45 CFR 164.312(c)(1))."),
    ]),
    ("key-rotation-off", set_prop(KEY_R, "enableKeyRotation", False), None, [
        ("aws-kms-key-rotation", M,
         "Set enableKeyRotation to true (Security Hub KMS.4, CIS 3.6, 45 CFR 164.312(a)(2)(iv), PCI DSS "
         "3.7.4, "
         "SOC 2 CC6.1)."),
    ]),
    ("log-group-retention-30", set_prop(LOG_GROUP_R, "retentionInDays", 30), None, [
        ("aws-cloudwatch-log-group-retention", M,
         "Set retentionInDays of log group 'spawn-audit-delivery-log-group' to at least 2192 (or 0, never "
         "expire): retention must be at least 2192 days under hipaa (45 CFR 164.316(b)(2)(i)); is 30."),
    ]),
    ("log-group-kms-removed", set_prop(LOG_GROUP_R, "kmsKeyId", None), None, [
        ("aws-cloudwatch-log-group-kms-encryption", A,
         "Set kmsKeyId on log group 'spawn-audit-delivery-log-group' to a KMS key (45 CFR 164.312(a)(2)(iv), "
         "PCI DSS 10.3.2, SOC 2 CC6.1)."),
    ]),
    ("topic-kms-removed", set_prop(DELIVERY, "kmsMasterKeyId", None), None, [
        ("aws-sns-topic-kms-encryption", A,
         "Set kmsMasterKeyId on the topic to a KMS key (Security Hub SNS.1, 45 CFR 164.312(a)(2)(iv), "
         "SOC 2 CC6.1)."),
    ]),
    ("root-usage-filter-removed", remove(metric_filter("root-account-usage")), None, [
        ("aws-cloudwatch-stack-monitoring-alarms", M,
         "Add a metric filter for CIS 4.3 (Root account usage) with the prescribed pattern on log group "
         "'spawn-audit-delivery-log-group', an alarm on its metric and an alarm action to an SNS topic with "
         "a subscription (Security Hub CloudWatch.1, CIS 4.3, 45 CFR 164.308(a)(1)(ii)(D), PCI DSS 10.4.1.1, "
         "SOC 2 CC7.2, SOC 2 CC7.3)."),
    ]),
    ("root-usage-alarm-removed", remove(alarm("root-account-usage")), None, [
        ("aws-cloudwatch-stack-monitoring-alarms", M,
         "Add an aws.cloudwatch.MetricAlarm on metric SpawnAudit/RootAccountUsage of metric filter "
         "'spawn-audit-alarms-root-account-usage-filter' so CIS 4.3 (Root account usage) is acted on "
         "(Security Hub CloudWatch.1, CIS 4.3, 45 CFR 164.308(a)(1)(ii)(D), PCI DSS 10.4.1.1, SOC 2 CC7.2, "
         "SOC 2 CC7.3)."),
    ]),
    ("spawn-role-alarm-without-actions", set_prop(alarm("spawn-iam-role-change"), "alarmActions", []), None, [
        ("aws-cloudwatch-stack-monitoring-alarms", M,
         "Add to alarmActions of alarm 'spawn-audit-alarms-spawn-iam-role-change-alarm' the full ARN of an "
         "SNS topic of this stack (a topic of the same name in another account or region does not count) so "
         "spawn control spawn-iam-role-change (Changes to spawn IAM roles) is acted on (45 CFR "
         "164.308(a)(1)(ii)(D), PCI DSS 10.4.1.1, SOC 2 CC7.2, SOC 2 CC7.3)."),
    ]),
    ("vpc-alarm-actions-disabled", set_prop(alarm("vpc-changes"), "actionsEnabled", False), None, [
        ("aws-cloudwatch-stack-monitoring-alarms", M,
         "Set actionsEnabled to true on alarm 'spawn-audit-alarms-vpc-changes-alarm' so CIS 4.14 (VPC "
         "changes) is acted on (Security Hub CloudWatch.14, CIS 4.14, 45 CFR 164.308(a)(1)(ii)(D), PCI DSS "
         "10.4.1.1, SOC 2 CC7.2, SOC 2 CC7.3)."),
    ]),
]


@pytest.mark.parametrize("mutate,config,expected", [n[1:] for n in NEGATIVES], ids=[n[0] for n in NEGATIVES])
def test_one_change_negative(mutate, config, expected):
    assert preview(mutate, config).summary() == expected


def test_violations_on_bucket_rules_carry_the_bucket_urn():
    result = preview(remove(archive("public-access-block")))
    assert [d.urn for d in result.diagnostics] == [find(compliant_stack(), ARCHIVE).urn]


def test_subscription_removed_flags_every_control_it_served():
    result = preview(remove(ALERTS_EMAIL))
    assert len(result.diagnostics) == 17
    assert {d.level for d in result.diagnostics} == {M}
    assert result.diagnostics[0].message.startswith(
        "Add an aws.sns.TopicSubscription to topic 'spawn-audit-alarms-topic', which alarm "
        "'spawn-audit-alarms-unauthorized-api-calls-alarm' notifies so CIS 4.1 (Unauthorized API calls) is "
        "acted on")


# --- profile arithmetic ------------------------------------------------------------------------------

def test_configured_retention_floor_above_profile_is_attributed_to_config():
    config = {"aws-s3-bucket-lifecycle-retention": {"profiles": ["hipaa"], "minRetentionDays": 3653}}
    # The program's Object Lock (2555 days) is below this floor too, so it no longer excuses the 1-day
    # noncurrent expiration.
    assert preview(config=config).summary() == [
        ("aws-s3-bucket-lifecycle-retention", M,
         "Raise expiration days of lifecycle rule 'spawn-audit-log-retention' on bucket "
         "'spawn-audit-archive-bucket' to at least 3653 or remove the expiration: retention must be at least "
         "3653 days under pack config minRetentionDays; is 2555; log files live at least 2555 days and are "
         "deleted by day 2556."),
        ("aws-s3-bucket-lifecycle-retention", M,
         "Raise noncurrentVersionExpiration days of lifecycle rule 'spawn-audit-log-retention' on bucket "
         "'spawn-audit-archive-bucket' to at least 3653 or remove the expiration or protect every version to "
         "the floor with an Object Lock default retention of at least 3653 days: retention must be at least "
         "3653 days under pack config minRetentionDays; is 1; log files live at least 2555 days and are "
         "deleted by day 2556."),
    ]


def test_soc2_floor_follows_audit_period():
    config = {"aws-s3-bucket-lifecycle-retention": {"profiles": ["soc2"], "auditPeriodDays": 730}}
    result = preview(alone(_expire_at_30), config)
    assert result.summary() == [
        ("aws-s3-bucket-lifecycle-retention", M,
         "Raise expiration days of lifecycle rule 'spawn-audit-log-retention' on bucket "
         "'spawn-audit-archive-bucket' to at least 820 or remove the expiration: retention must be at least "
         "820 days under soc2 (SOC 2 CC7.2, audit period + 90 days); is 30; log files live at least 30 days "
         "and are deleted by day 31."),
    ]


def test_log_group_retention_in_sandbox_keeps_one_year_baseline():
    config = json.loads((matrix.POLICY_DIR / "config" / "sandbox.json").read_text())
    assert preview(alone(set_prop(LOG_GROUP_R, "retentionInDays", 90)), config).summary() == [
        ("aws-cloudwatch-log-group-retention", M,
         "Set retentionInDays of log group 'spawn-audit-delivery-log-group' to at least 365 (or 0, never "
         "expire): retention must be at least 365 days under the sandbox profile: the one-year baseline for "
         "trail log groups (Security Hub CloudWatch.16, 365 days); is 90."),
    ]


@pytest.mark.parametrize("days", [0, None])
def test_log_group_never_expire_complies(days):
    assert preview(set_prop(LOG_GROUP_R, "retentionInDays", days)).summary() == []


def test_excluded_control_is_not_required():
    config = {"aws-cloudwatch-stack-monitoring-alarms": {"excludedControls": ["root-account-usage"]}}
    assert preview(remove(metric_filter("root-account-usage")), config).summary() == []


def _metric_math(expression):
    # The program's alarm is already metric math over the two filters' metrics, returning
    # "FILL(launches, 0) - FILL(managed, 0)"; only the returned expression changes.
    def mutate(stack):
        returned = find(stack, alarm("spawn-unmanaged-launch")).props["metricQueries"][-1]
        assert returned["id"] == "unmanaged" and returned["returnData"] is True
        returned["expression"] = expression
    return mutate


def test_metric_math_alarm_satisfies_unmanaged_launch_control():
    assert preview(_metric_math("launches - managed")).summary() == []


def test_metric_math_that_ignores_the_filter_metric_does_not_count():
    # The returned expression no longer refers to the filter's metric, so the alarm does not watch it.
    assert preview(_metric_math("managed * 0")).summary() == [(
        "aws-cloudwatch-stack-monitoring-alarms", "mandatory",
        "Add an aws.cloudwatch.MetricAlarm on metric SpawnAudit/SpawnLaunches of metric filter "
        "'spawn-audit-alarms-spawn-unmanaged-launch-launches-filter' so spawn control spawn-unmanaged-launch "
        "(EC2 launches without the spawn:managed tag) is acted on (45 CFR 164.308(a)(1)(ii)(D), PCI DSS "
        "10.4.1.1, SOC 2 CC7.2, SOC 2 CC7.3).")]


# The stack's account is read from its trails' CloudWatch Logs ARNs; without a trail the alarms topic's
# policy, which lets CloudWatch publish only with aws:SourceAccount of the program's account, is reported
# as open to any account (the pack cannot tell that account is the stack's own).
TOPIC_POLICY_WITHOUT_ACCOUNT = (
    "aws-sns-topic-policy-no-outside-access", M,
    "Remove or narrow the statements of topic policy 'spawn-audit-alarms-topic-policy' of topic "
    "'spawn-audit-alarms-topic' that let anyone outside the stack's account (which its trails do not name) "
    "publish to, subscribe to or administer the topic; only this account's principals and roles, and AWS "
    "services acting for this account (aws:SourceArn or aws:SourceAccount), may (45 CFR "
    "164.308(a)(1)(ii)(D), PCI DSS 10.4.1.1, SOC 2 CC7.2, SOC 2 CC7.3). Found: publish to (sns:Publish: "
    "service cloudwatch.amazonaws.com acting for any account (no aws:SourceArn or aws:SourceAccount of this "
    "account), through statement 'AllowAccountCloudWatchAlarmsPublish').")


def test_no_trail_is_not_applicable_unless_required():
    stack = [r for r in compliant_stack() if r.name != TRAIL_R]
    result = Pack().configure(engine_config()).analyze_stack(stack)
    assert result.summary() == [TOPIC_POLICY_WITHOUT_ACCOUNT]
    assert result.not_applicable["aws-cloudtrail-stack-security-trail"] == \
        "the stack declares no CloudTrail trail"
    assert result.not_applicable["aws-s3-bucket-public-access-block"] == \
        "no bucket in this stack receives CloudTrail logs"
    required = configured(
        {"aws-cloudtrail-stack-security-trail": {"requireTrail": True}}).analyze_stack(stack)
    assert required.summary() == [
        ("aws-cloudtrail-stack-security-trail", M,
         "Declare an aws.cloudtrail.Trail that is multi-region, records all management events and validates "
         "its log files; the stack has none (Security Hub CloudTrail.1, CloudTrail.4, CIS 3.1, 3.2, "
         "45 CFR 164.312(b), 45 CFR 164.312(c)(1), PCI DSS 10.2.1, PCI DSS 10.3.4, SOC 2 CC7.2)."),
        TOPIC_POLICY_WITHOUT_ACCOUNT,
    ]


def test_unrelated_bucket_and_log_group_are_not_judged():
    extra = [
        R("aws:s3/bucket:Bucket", "website", {"bucket": "spawn-website"}),
        R("aws:cloudwatch/logGroup:LogGroup", "lambda-logs",
          {"name": "/aws/lambda/fn", "retentionInDays": 7}),
    ]
    assert preview(lambda s: s.extend(extra)).summary() == []


def test_kms_key_out_of_rotation_scope():
    asymmetric = set_prop(KEY_R, "customerMasterKeySpec", "RSA_2048")

    def no_rotation(stack):
        asymmetric(stack)
        find(stack, KEY_R).props["enableKeyRotation"] = False
        find(stack, KEY_R).props["keyUsage"] = "SIGN_VERIFY"
    assert preview(no_rotation).summary() == []


def test_kms_paired_policies_use_topic_and_log_group():
    config = for_all({"requireKms": True})

    def strip(stack):
        del find(stack, LOG_GROUP_R).props["kmsKeyId"]
        del find(stack, DELIVERY).props["kmsMasterKeyId"]
    names = [d[:2] for d in preview(strip, config).summary()]
    assert names == [
        ("aws-sns-topic-kms-encryption", A),
        ("aws-sns-topic-kms-encryption-required", M),
        ("aws-cloudwatch-log-group-kms-encryption", A),
        ("aws-cloudwatch-log-group-kms-encryption-required", M),
    ]


def test_log_group_found_through_dependency_when_arn_unknown():
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    def via_dependency(stack):
        trail = find(stack, TRAIL_R)
        trail.props["cloudWatchLogsGroupArn"] = UNKNOWN_STRING_VALUE
        trail.deps["cloudWatchLogsGroupArn"] = [LOG_GROUP_R]
        find(stack, LOG_GROUP_R).props["retentionInDays"] = 30
    result = preview(via_dependency)
    # With the log group's ARN unknown, the stack's account is too, so whether the alarms notify this
    # stack's topic (by full ARN) waits for known values: the engine's advisory, never a failure.
    assert [(d.policy, d.level) for d in result.diagnostics] == [
        ("aws-cloudwatch-log-group-retention", M), ("aws-cloudwatch-stack-monitoring-alarms", A)]
    assert "during preview" in result.diagnostics[1].message


def test_bucket_found_through_bucket_policy_dependency():
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    def via_policy(stack):
        trail = find(stack, TRAIL_R)
        trail.props["s3BucketName"] = UNKNOWN_STRING_VALUE
        trail.deps["s3BucketName"] = [archive("policy")]
        stack.remove(find(stack, archive("public-access-block")))
    result = preview(via_policy)
    assert [(d.policy, d.urn.rsplit("::", 1)[1]) for d in result.diagnostics] == [
        ("aws-s3-bucket-public-access-block", ARCHIVE)]

