"""Names the receiving AWS service accepts, numbers it accepts, keys the program declares, secrets kept.

A preview that passes must create: every derived name is checked against the service that receives
it (CloudTrail, SNS, KMS, IAM, S3, CloudWatch Logs). Each case changes one key of the compliant prod
stack; each rule also has a compliant variant written differently that passes.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from program_support import ROOT, ok, run_stack
from recorded import run_program  # shared by the tests of this process

from offline_preview.project import ProjectError, load_project, load_stack_config

CASES: list[tuple[str, dict[str, Any], str]] = [
    # SNS topic names and KMS alias names allow no '.', and both start with the trail name.
    ("trail-name-with-a-dot", {"trailName": "spawn.audit"},
     "spawn-audit:trailName = \"spawn.audit\" contains '.', which SNS topic names and KMS alias names do not "
     "allow (the trail name prefixes both); use letters, digits, '_' or '-'"),
    ("trail-name-ip-shaped", {"trailName": "10.0.0.1"},
     "spawn-audit:trailName = \"10.0.0.1\" contains '.', which SNS topic names and KMS alias names do not "
     "allow (the trail name prefixes both); use letters, digits, '_' or '-'"),
    ("trail-name-too-long-for-the-role", {"trailName": "a" * 49},
     f"spawn-audit:trailName = \"{'a' * 49}\" is 49 characters long; use 3 to 48"),
    ("bucket-prefix-xn", {"bucketNamePrefix": "xn--audit"},
     'spawn-audit:bucketNamePrefix = "xn--audit" gives the bucket name "xn--audit-123456789012-prod", which '
     "starts with 'xn--', a prefix S3 reserves (the prefix may have at most 38 characters)"),
    ("bucket-prefix-sthree", {"bucketNamePrefix": "sthree-audit"},
     'spawn-audit:bucketNamePrefix = "sthree-audit" gives the bucket name "sthree-audit-123456789012-prod", '
     "which starts with 'sthree-', a prefix S3 reserves (the prefix may have at most 38 characters)"),
    ("bucket-prefix-ends-with-hyphen", {"bucketNamePrefix": "audit-"},
     'spawn-audit:bucketNamePrefix = "audit-" gives the bucket name "audit--123456789012-prod", which does '
     "not start and end with a letter or digit (the prefix may have at most 38 characters)"),
    ("log-group-aws-prefix", {"logGroupName": "aws/cloudtrail/spawn"},
     "spawn-audit:logGroupName = \"aws/cloudtrail/spawn\" starts with 'aws/', which CloudWatch Logs "
     "reserves; start with '/' or another word"),
    ("app-log-group-aws-prefix", {"appAuditLogGroupName": "aws/spawn"},
     "spawn-audit:appAuditLogGroupName = \"aws/spawn\" starts with 'aws/', which CloudWatch Logs reserves; "
     "start with '/' or another word"),
    ("role-arn-path-without-name", {"breakGlassRoleArn": "arn:aws:iam::123456789012:role/audit/"},
     'spawn-audit:breakGlassRoleArn = "arn:aws:iam::123456789012:role/audit/" names no role after its path; '
     "expected arn:<partition>:iam::<account>:role/[<path>/]<name> with a name of 1 to 64 characters; or "
     'use "" so that nobody may delete log objects'),
    ("role-arn-other-partition", {"auditorRoleArns": ["arn:aws-cn:iam::123456789012:role/Auditor"]},
     'spawn-audit:auditorRoleArns = ["arn:aws-cn:iam::123456789012:role/Auditor"] contains '
     '"arn:aws-cn:iam::123456789012:role/Auditor", which is in partition \'aws-cn\', but this stack deploys '
     "to partition 'aws'; IAM does not accept principals from another partition"),
    ("role-name-too-long", {"auditorRoleArns": ["arn:aws:iam::123456789012:role/" + "r" * 65]},
     f'spawn-audit:auditorRoleArns = ["arn:aws:iam::123456789012:role/{"r" * 65}"] contains '
     f'"arn:aws:iam::123456789012:role/{"r" * 65}", which has a role name of 65 characters; IAM allows 1 '
     "to 64"),
    ("artifact-bucket-ip-shaped", {"dataEventS3Buckets": ["192.168.1.1"]},
     'spawn-audit:dataEventS3Buckets = ["192.168.1.1"] contains "192.168.1.1", which is formatted as an IP '
     "address; S3 refuses that"),
    ("artifact-bucket-double-dot", {"dataEventS3Buckets": ["artifacts..spawn"]},
     'spawn-audit:dataEventS3Buckets = ["artifacts..spawn"] contains "artifacts..spawn", which has two '
     "adjacent periods or a period beside a hyphen; S3 refuses both"),
    ("artifact-bucket-reserved-suffix", {"dataEventS3Buckets": ["my-bucket-s3alias"]},
     'spawn-audit:dataEventS3Buckets = ["my-bucket-s3alias"] contains "my-bucket-s3alias", which ends with '
     "'-s3alias', a suffix S3 reserves"),
    # Numbers: bounded, exact, ASCII.
    ("object-lock-a-billion-days", {"objectLockRetentionDays": 1_000_000_000},
     "spawn-audit:objectLockRetentionDays = 1000000000 is too large; use at most 36500"),
    ("retention-ten-to-the-thirty", {"archiveRetentionDays": "1" + "0" * 30},
     'spawn-audit:archiveRetentionDays = "1000000000000000000000000000000" is too large; use at most 36500'),
    ("five-thousand-digits", {"auditPeriodDays": "9" * 5000},
     'spawn-audit:auditPeriodDays = "99999999999999999999...(5000 characters)" is too large; use at most '
     "36500"),
    # HTTPS endpoints may carry a token: the value never appears in the message.
    ("endpoint-broken-ipv6", {"alarmHttpsEndpoints": ["https://[::1"]},
     "spawn-audit:alarmHttpsEndpoints entry 1 of 1 is not a well-formed URL; use https://<host>/<path> (the "
     "value is not shown: an endpoint may carry a token)"),
    ("endpoint-port-out-of-range", {"alarmHttpsEndpoints": ["https://hooks.example.com:99999/x?token=abc"]},
     "spawn-audit:alarmHttpsEndpoints entry 1 of 1 is not a well-formed URL; use https://<host>/<path> (the "
     "value is not shown: an endpoint may carry a token)"),
]


@pytest.mark.parametrize(("key", "value"), [("auditPeriodDays", "\u0661\u0662\u0663"),
                                          ("kmsDeletionWindowDays", "\uff13\uff10")],
                         ids=["arabic-indic-digits", "fullwidth-digits"])
def test_non_ascii_digits_are_not_integers(key: str, value: str) -> None:
    # As the Pulumi CLI's integer type: refused when the stack config is read, before the program runs
    # (the program's own reader refuses them as well, for a runner that does not type-check).
    with pytest.raises(ProjectError, match=f"configuration key '{key}' must be of type 'integer'"):
        run_stack("prod", {key: value})


@pytest.mark.parametrize(("overrides", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_names_and_numbers_aws_refuses_stop_the_program(overrides: dict[str, Any], message: str) -> None:
    run = run_stack("prod", overrides)
    assert type(run.error).__name__ == "ConfigError", run.error_traceback
    assert str(run.error) == message
    assert run.resources == []


# One run holds every compliant variant (they touch independent keys): each would fail alone if its
# rule were wrong, and one program run keeps the suite fast.
COMPLIANT_VARIANTS: dict[str, Any] = {
    "trailName": "spawn_audit-2",  # '_' and '-', each between letters or digits
    "bucketNamePrefix": "audit-xn-logs",  # xn- inside the name, not the reserved prefix
    "logGroupName": "/aws/cloudtrail/spawn-2",  # "/aws/..." is the usual form; only "aws/" is reserved
    "breakGlassRoleArn": "arn:aws:iam::123456789012:role/audit/ops/BreakGlass",  # nested path and a name
    "dataEventS3Buckets": ["artifacts.spawn.example"],  # dots are fine for an existing artifact bucket
    "archiveRetentionDays": 36500,  # the largest day count
    "objectLockRetentionDays": 2555,
    "alarmHttpsEndpoints": ["https://hooks.example.com:8443/alarm?token=abc"],
}


def test_compliant_variants_pass() -> None:
    run = ok("prod", COMPLIANT_VARIANTS)
    names = {r.inputs.get("name") for r in run.resources}
    assert {"spawn_audit-2", "spawn_audit-2-security-alarms", "/aws/cloudtrail/spawn-2"} <= names


def _warnings(overrides: dict[str, Any]) -> list[str]:
    # prod's GLACIER archive also draws the analytics warning (Athena skips GLACIER objects): not a
    # config-name warning.
    return [message for level, message in ok("prod", overrides).logs
            if level == "warning" and "Athena skips" not in message]


def test_misspelled_keys_get_a_did_you_mean_warning() -> None:
    assert _warnings({"archiveRetentionDay": 3000, "spawn-audt:trailName": "other"}) == [
        "spawn-audit:archiveRetentionDay is not a key this program declares and is ignored; did you mean "
        "spawn-audit:archiveRetentionDays?",
        "spawn-audt:trailName is in namespace 'spawn-audt', which no program reads, and is ignored; did you "
        "mean spawn-audit:trailName?"]


def test_declared_keys_and_other_namespaces_get_no_warning() -> None:
    assert _warnings({"archiveRetentionDays": 3000, "aws:profile": "audit", "spawnaudit-x:y": "z"}) == []


def test_the_declared_keys_are_read_from_the_project_file() -> None:
    # Imported here and forgotten after: a cached ``components`` package would shadow the one of
    # another program (the preview tests' fixture) run later in the same process.
    try:
        from components import settings

        declared = settings.declared_keys()
    finally:
        for name in [n for n in sys.modules if n == "components" or n.startswith("components.")]:
            del sys.modules[name]
    assert "archiveRetentionDays" in declared and "kmsDeletionWindowDays" in declared
    assert len(declared) == len(load_project(ROOT).config)


def _run_with_secret(key: str, value: str) -> Any:
    """The prod stack with ``key`` set and marked secret, as a ``secure:`` value decrypted by the CLI."""
    project = load_project(ROOT)
    config = load_stack_config(project, "prod")
    config.values[f"spawn-audit:{key}"] = value
    config.secret_keys.append(f"spawn-audit:{key}")
    return run_program(ROOT, "prod", stack_config=config)


def test_a_secret_value_that_is_not_an_array_is_not_echoed() -> None:
    run = _run_with_secret("alarmHttpsEndpoints", "hunter2-not-json")
    assert str(run.error) == ("spawn-audit:alarmHttpsEndpoints (a secret; value not shown) is not an array "
                              "of strings")
    assert run.resources == []


def test_a_secret_endpoint_with_a_token_is_accepted_and_never_printed() -> None:
    run = _run_with_secret("alarmHttpsEndpoints", '["https://hooks.example.com/alarm?token=s3cr3t"]')
    assert run.error is None, run.error_traceback
    assert all("s3cr3t" not in message for _, message in run.logs)
