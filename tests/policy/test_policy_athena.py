"""The Athena rules through the real Analyzer protocol: a compliant baseline, then one change each.

The baseline is the recorded program (``policy_fixtures``), whose analytics component
(``components/analytics.py``) declares the Athena workgroup and its results bucket.
"""

from __future__ import annotations

import json

import pytest
from audit_policies import matrix
from policy_fixtures import RESULTS, WORKGROUP, compliant_stack, find
from policy_harness import Pack, R, configured, engine_config

M, A = "mandatory", "advisory"


def results(setting: str) -> str:
    """One setting resource of the Athena results bucket: ``results("policy")``."""
    return f"{RESULTS}-{setting}"


def stack() -> list[R]:
    return compliant_stack()


def config(s: list[R]) -> dict:
    return find(s, WORKGROUP).props["configuration"]


def preview(mutate=None, user_config=None):
    s = stack()
    if mutate:
        mutate(s)
    pack = configured(user_config) if user_config is not None else Pack().configure(engine_config())
    return pack.preview(s)


def result(s):
    return config(s)["resultConfiguration"]


CITE_ENC = "(45 CFR 164.312(a)(2)(iv), PCI DSS 10.3.2, SOC 2 CC6.1)"
CITE_BUCKET = ("(Security Hub S3.5, S3.8, S3.12, S3.14, CIS 2.1.1, 2.1.4, 45 CFR 164.312(a)(1), "
               "45 CFR 164.312(a)(2)(iv), PCI DSS 10.3.1, PCI DSS 10.3.2, SOC 2 CC6.1)")
ENCRYPTED = "aws-athena-workgroup-results-encrypted"
BUCKET = "aws-athena-workgroup-results-bucket-protected"


def test_baseline_has_no_diagnostics():
    r = preview()
    assert r.summary() == []
    assert not [n for n in r.not_applicable if n.startswith("aws-athena")]


def _set(key, value):
    def mutate(s):
        if value is None:
            config(s).pop(key)
        else:
            config(s)[key] = value
    return mutate


def _encryption(**changes):
    def mutate(s):
        enc = result(s)["encryptionConfiguration"]
        for k, v in changes.items():
            if v is None:
                enc.pop(k, None)
            else:
                enc[k] = v
    return mutate


def _remove(name):
    return lambda s: s.remove(find(s, name))


NEGATIVES = [
    ("enforce-false", _set("enforceWorkgroupConfiguration", False), None, [
        ("aws-athena-workgroup-enforce-configuration", M,
         "Set configuration.enforceWorkgroupConfiguration to true (or omit it) so clients cannot send "
         f"results elsewhere or unencrypted {CITE_ENC}; is false.")]),
    ("no-encryption", lambda s: result(s).pop("encryptionConfiguration"), None, [
        (ENCRYPTED, M, "Set configuration.resultConfiguration.encryptionConfiguration.encryptionOption to "
                       f"SSE_S3 or SSE_KMS or CSE_KMS {CITE_ENC}.")]),
    ("kms-without-key", _encryption(kmsKeyArn=None), None, [
        (ENCRYPTED, M, "Set configuration.resultConfiguration.encryptionConfiguration.kmsKeyArn to the KMS "
                       f"key that encrypts results with SSE_KMS {CITE_ENC}.")]),
    ("sse-s3-when-kms-required", _encryption(encryptionOption="SSE_S3", kmsKeyArn=None),
     {ENCRYPTED: {"requireKms": True}}, [
        (ENCRYPTED, M, "Set configuration.resultConfiguration.encryptionConfiguration.encryptionOption to "
                       "SSE_KMS or CSE_KMS (KMS is required by the profile or requireKms) "
                       f"{CITE_ENC}; is SSE_S3.")]),
    ("engine-2", lambda s: config(s)["engineVersion"].update(selectedEngineVersion="Athena engine version 2"),
     None, [
        ("aws-athena-workgroup-engine-version-3", A,
         'Set configuration.engineVersion.selectedEngineVersion to "Athena engine version 3": only it '
         "reads restored Glacier objects of the archive (45 CFR 164.308(a)(1)(ii)(D), PCI DSS 10.4.1, "
         "SOC 2 CC7.3); is Athena engine version 2.")]),
    ("metrics-off", _set("publishCloudwatchMetricsEnabled", False), None, [
        ("aws-athena-workgroup-cloudwatch-metrics", A,
         "Set configuration.publishCloudwatchMetricsEnabled to true so the workgroup's queries are measured "
         "in CloudWatch (SOC 2 CC7.2); is false.")]),
    ("no-cutoff", _set("bytesScannedCutoffPerQuery", None), None, [
        ("aws-athena-workgroup-bytes-scanned-cutoff", A,
         "Set configuration.bytesScannedCutoffPerQuery (at least 10485760 bytes) so one query over years of "
         "logs cannot scan without limit (SOC 2 A1.1).")]),
    ("results-bucket-public", _remove(results("public-access-block")), None, [
        (BUCKET, M, "Add an aws.s3.BucketPublicAccessBlock for bucket 'spawn-audit-analytics-results' with "
                    "blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets set to "
                    f"true {CITE_BUCKET}.")]),
    ("results-bucket-plain-http", _remove(results("policy")), None, [
        (BUCKET, M, "Add to the bucket policy of bucket 'spawn-audit-analytics-results' a statement with "
                    "Effect Deny, Principal *, Action s3:*, Resource the bucket and its objects, and "
                    f"Condition Bool aws:SecureTransport false {CITE_BUCKET}.")]),
    ("results-bucket-unversioned", _remove(results("versioning")), None, [
        (BUCKET, M, "Enable versioning on bucket 'spawn-audit-analytics-results' with an "
                    "aws.s3.BucketVersioning whose versioningConfiguration.status is Enabled "
                    f"{CITE_BUCKET}.")]),
    ("results-bucket-unencrypted", _remove(results("encryption")), None, [
        (BUCKET, M, "Add default encryption to bucket 'spawn-audit-analytics-results' with an "
                    "aws.s3.BucketServerSideEncryptionConfiguration whose sseAlgorithm is AES256 or aws:kms "
                    f"or aws:kms:dsse {CITE_BUCKET}.")]),
]


@pytest.mark.parametrize("mutate,user_config,expected", [n[1:] for n in NEGATIVES],
                         ids=[n[0] for n in NEGATIVES])
def test_one_change_negative(mutate, user_config, expected):
    assert preview(mutate, user_config).summary() == expected


@pytest.mark.parametrize("mutate", [
    _set("enforceWorkgroupConfiguration", None),  # omitted: the API default is true
    _encryption(encryptionOption="CSE_KMS"),
    _encryption(encryptionOption="SSE_S3", kmsKeyArn=None),  # KMS not required by default
    lambda s: config(s)["engineVersion"].update(selectedEngineVersion="AUTO"),
    # Results written to a bucket outside the stack cannot be judged, and the archive is not mistaken
    # for it.
    lambda s: result(s).update(outputLocation="s3://shared-athena-results/spawn/"),
], ids=["enforce-omitted", "cse-kms", "sse-s3", "engine-auto", "bucket-outside-stack"])
def test_compliant_variants(mutate):
    assert preview(mutate).summary() == []


def test_results_bucket_is_not_judged_as_a_log_bucket():
    """Its 7-day expiration is right for results; the trail-bucket retention rule must not see it."""
    s = stack()
    assert find(s, results("lifecycle")).props["rules"][0]["expiration"] == {"days": 7}
    assert Pack().configure(engine_config()).preview(s).summary() == []


def test_violation_is_reported_on_the_results_bucket():
    r = preview(_remove(results("public-access-block")))
    assert [d.urn for d in r.diagnostics] == [find(stack(), RESULTS).urn]


def test_sandbox_config_still_requires_encrypted_results():
    sandbox = json.loads((matrix.POLICY_DIR / "config" / "sandbox.json").read_text())
    r = preview(lambda s: result(s).pop("encryptionConfiguration"), sandbox)
    assert [d.policy for d in r.diagnostics] == [ENCRYPTED]
