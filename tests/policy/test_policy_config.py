"""Pack config: engine-style defaults and validation, and the pack's own defence against bad config.

The engine validates ``--policy-pack-config`` against each policy's schema before calling the pack
(reproduced by ``engine_config`` with jsonschema). The pack must still defend itself when config
reaches it unvalidated (another engine, an org policy group, a direct gRPC client): each bad value
becomes a violation at the policy's level naming the key, the value and what is allowed.
"""

from __future__ import annotations

import json

import jsonschema
import pytest
from audit_policies import matrix
from policy_fixtures import archive, compliant_stack, find, undeclared
from policy_harness import POLICIES, Pack, R, engine_config
from pulumi.runtime import proto

LFV = "aws-cloudtrail-trail-log-file-validation"
RETENTION = "aws-s3-bucket-lifecycle-retention"
BAD_TRAIL = R("aws:cloudtrail/trail:Trail", "trail", {
    "s3BucketName": "b", "isMultiRegionTrail": True, "cloudWatchLogsGroupArn": "arn",
    "cloudWatchLogsRoleArn": "r"})


def raw(policy: str, props: dict, level=proto.MANDATORY) -> Pack:
    """Send config straight to the pack, as no validating engine would."""
    return Pack().configure({policy: (level, props)})


@pytest.mark.parametrize("props,message", [
    ({"profiles": ["gdpr"], "auditPeriodDays": 365},
     "Invalid pack config for aws-cloudtrail-trail-log-file-validation: profiles contains \"gdpr\"; allowed: "
     "hipaa, pci-dss, soc2."),
    ({"profiles": ["hipaa"], "auditPeriodDays": 0},
     "Invalid pack config for aws-cloudtrail-trail-log-file-validation: auditPeriodDays is 0; allowed: a "
     "whole number, at least 1."),
    ({"profiles": ["hipaa"], "auditPeriodDays": 90.5},
     "Invalid pack config for aws-cloudtrail-trail-log-file-validation: auditPeriodDays is 90.5; allowed: a "
     "whole number, at least 1."),
    ({"profiles": "hipaa"},
     "Invalid pack config for aws-cloudtrail-trail-log-file-validation: profiles is \"hipaa\"; allowed: a "
     "list "
     "of hipaa, pci-dss, soc2."),
    ({"profiles": ["hipaa", "hipaa"]},
     "Invalid pack config for aws-cloudtrail-trail-log-file-validation: profiles lists a value twice "
     "([\"hipaa\", \"hipaa\"]); each value may appear once."),
    ({"profile": ["hipaa"]},
     "Invalid pack config for aws-cloudtrail-trail-log-file-validation: unknown key \"profile\"; allowed: "
     "profiles, auditPeriodDays."),
])
def test_invalid_resource_policy_config_is_a_mandatory_violation(props, message):
    result = raw(LFV, props).analyze(BAD_TRAIL)
    assert result.of(LFV) and [(d.level, d.message) for d in result.of(LFV)] == [("mandatory", message)]
    # Values the schema describes are rejected by the engine before the pack runs. An unknown key
    # passes the Pulumi engine's validation (it does not forbid extra properties), so the pack's own
    # report above is what stops it there; the offline preview refuses it as a config error (exit 2).
    with pytest.raises(jsonschema.ValidationError):
        engine_config({LFV: props})


def test_negative_days_in_stack_policy_config():
    result = raw(RETENTION, {"minRetentionDays": -1}).analyze_stack(compliant_stack())
    assert result.summary() == [
        (RETENTION, "mandatory", "Invalid pack config for aws-s3-bucket-lifecycle-retention: "
                                 "minRetentionDays is "
                                 "-1; allowed: a whole number, at least 0."),
    ]
    with pytest.raises(jsonschema.ValidationError):
        engine_config({RETENTION: {"minRetentionDays": -1}})


def test_pack_applies_schema_defaults_when_no_config_arrives():
    """Without Configure the SDK passes no config: the pack's own defaults are the strict ones."""
    result = Pack().analyze(BAD_TRAIL)
    assert [(d.level, d.message) for d in result.of(LFV)] == [
        ("mandatory",
         "Set enableLogFileValidation to true (Security Hub CloudTrail.4, CIS 3.2, 45 CFR 164.312(c)(1), "
         "PCI DSS 10.3.4, SOC 2 CC7.2).")]


def test_engine_level_override_is_respected():
    config = engine_config({LFV: "advisory"})
    result = Pack().configure(config).analyze(BAD_TRAIL)
    assert [d.level for d in result.of(LFV)] == ["advisory"]


def test_disabled_policy_does_not_run():
    result = Pack().configure(engine_config({LFV: {"enforcementLevel": "disabled"}})).analyze(BAD_TRAIL)
    assert result.of(LFV) == []


def test_numbers_cross_the_protocol_as_floats():
    stack = undeclared(compliant_stack())  # soc2 alone: the recorded stack declares hipaa as well
    find(stack, archive("lifecycle")).props["rules"][0]["expiration"]["days"] = 400
    config = engine_config({RETENTION: {"profiles": ["soc2"], "auditPeriodDays": 300}})
    assert Pack().configure(config).analyze_stack(stack).of(RETENTION) == []


@pytest.mark.parametrize("stem", sorted(matrix.EXAMPLE_PROFILES))
def test_example_configs_match_the_schemas(stem):
    document = json.loads((matrix.POLICY_DIR / "config" / f"{stem}.json").read_text())
    engine_config(document)  # raises jsonschema.ValidationError like the engine would
    with_profiles = {name for name, p in POLICIES.items()
                     if p.config_schema and "profiles" in p.config_schema.properties}
    assert set(document) == with_profiles
    assert {tuple(entry["profiles"]) for entry in document.values()} == {tuple(matrix.EXAMPLE_PROFILES[stem])}
