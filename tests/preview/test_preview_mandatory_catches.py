"""For every mandatory policy of the real pack, one change that the offline preview catches: exit 1,
the policy named as a mandatory violation, the fix in its message, and no other mandatory policy (or
exactly the ones the change legitimately trips as well).

The changes are made to ``fixtures/breakable``, a small CloudTrail program that passes the pack under
hipaa + pci-dss + soc2 (the pack's default without a config file); its ``breaks`` config names one
deviation each. A policy that only applies when pack config asks (the ``-required`` KMS twins,
``requireTrail``) gets that config as well, in a file of its own. One more change is made to the
repository's real prod stack: ``--config-path --config 'complianceProfiles[0]=soc2'`` (soc2 in place of
hipaa), the one-line config change the README shows.

Every preview is the command's own ``preview`` (arguments, config overrides, the engine's config
steps, rendering, exit code) run in the test's process with the real pack served in-process
(``preview_helpers.run_cli_in_process``): what is tested is the policies' outcome, not the process
or the gRPC transport, which ``test_preview_real_stacks`` and ``test_preview_cli`` run for real.
Each preview is made once, when a test first asks for it.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from preview_helpers import FIXTURES, REPO, run_cli_in_process

sys.path.insert(0, str(REPO / "policy"))
from audit_policies.pack import ALL_POLICIES  # noqa: E402
from pulumi_policy import EnforcementLevel  # noqa: E402
from spawn_compliance import monitoring  # noqa: E402

BREAKABLE = FIXTURES / "breakable"
POLICY_PACK = REPO / "policy"
PROFILE_CONFIGS = ("hipaa", "pci-dss", "soc2")

MANDATORY = sorted(p.name for p in ALL_POLICIES if p.enforcement_level == EnforcementLevel.MANDATORY)

SECURITY_TRAIL = "aws-cloudtrail-stack-security-trail"
MONITORING = "aws-cloudwatch-stack-monitoring-alarms"


def _enable(policy: str, key: str) -> str:
    """Pack config that switches on one policy's gate (every other policy keeps its defaults)."""
    return json.dumps({policy: {key: True}})


@dataclass(frozen=True)
class Case:
    """One named deviation of ``fixtures/breakable`` and what the preview must report for it."""

    name: str  # the value put in `breaks`
    policy: str  # the mandatory policy it trips
    fix: str  # a distinctive fragment of that policy's message: the fix
    also: frozenset[str] = field(default_factory=frozenset)  # other mandatory policies it trips
    pack_config: str | None = None  # JSON for --policy-pack-config, when the policy is gated on config


# Every trail rule is also one of the criteria of the stack's "security trail" rule, so breaking one
# on the only trail trips both.
TRAIL_RULE = frozenset({SECURITY_TRAIL})

CASES = [
    Case("log-file-validation-off", "aws-cloudtrail-trail-log-file-validation",
         "Set enableLogFileValidation to true", TRAIL_RULE),
    Case("not-multi-region", "aws-cloudtrail-trail-multi-region",
         "Set isMultiRegionTrail to true", TRAIL_RULE),
    Case("no-global-events", "aws-cloudtrail-trail-global-service-events",
         "Set includeGlobalServiceEvents to true", TRAIL_RULE),
    Case("write-only-management-events", "aws-cloudtrail-trail-management-events",
         "set readWriteType to All (is WriteOnly)", TRAIL_RULE),
    Case("logging-off", "aws-cloudtrail-trail-logging-enabled", "Set enableLogging to true", TRAIL_RULE),
    Case("no-cloudwatch-role", "aws-cloudtrail-trail-cloudwatch-logs",
         "Set cloudWatchLogsRoleArn so events reach CloudWatch Logs through a role", TRAIL_RULE),
    # Without the log group ARN no log group receives the trail's events, so the alarms have nothing
    # to watch either.
    Case("no-cloudwatch-logs", "aws-cloudtrail-trail-cloudwatch-logs",
         "Set cloudWatchLogsGroupArn and cloudWatchLogsRoleArn", TRAIL_RULE | {MONITORING}),
    Case("no-trail-kms", "aws-cloudtrail-trail-kms-encryption-required",
         "Set kmsKeyId to a customer managed KMS key",
         pack_config=_enable("aws-cloudtrail-trail-kms-encryption-required", "requireKms")),
    Case("no-trail", SECURITY_TRAIL, "Declare an aws.cloudtrail.Trail that is multi-region",
         pack_config=_enable(SECURITY_TRAIL, "requireTrail")),
    Case("bucket-public-access", "aws-s3-bucket-public-access-block",
         "Set restrictPublicBuckets to true on the public access block of bucket 'log-bucket'"),
    Case("no-bucket-encryption", "aws-s3-bucket-encryption", "Add default encryption to bucket 'log-bucket'"),
    Case("bucket-sse-s3", "aws-s3-bucket-encryption",
         "Set sseAlgorithm of bucket 'log-bucket' to aws:kms or aws:kms:dsse",
         pack_config=_enable("aws-s3-bucket-encryption", "requireKms")),
    Case("no-versioning", "aws-s3-bucket-versioning",
         "Enable versioning on bucket 'log-bucket' with an aws.s3.BucketVersioning"),
    Case("no-tls-deny", "aws-s3-bucket-tls-only", "Condition Bool aws:SecureTransport false"),
    Case("org-wide-log-write", "aws-s3-bucket-policy-no-outside-access",
         "s3:PutObject: every principal of organization o-exampleorgid, "
         "through statement 'OrganizationWrite'"),
    Case("no-read-deny", "aws-s3-bucket-reads-limited-to-auditors",
         "Action s3:GetObject and s3:GetObjectVersion, Resource the bucket's objects"),
    Case("key-cross-account-decrypt", "aws-kms-key-policy-no-outside-access",
         "kms:Decrypt: principals of account 999988887777, through statement 'OtherAccountDecrypt'"),
    Case("key-disabled", "aws-kms-key-enabled", "Set isEnabled to true (or remove it; it defaults to true)"),
    Case("log-export-other-account", "aws-cloudwatch-log-group-no-outside-export",
         "Point subscription filter 'trail-log-export' on log group 'trail-log-group' at a destination"),
    Case("topic-public-publish", "aws-sns-topic-policy-no-outside-access",
         "sns:Publish: every principal (*), through statement 'AnyonePublish'"),
    Case("no-access-logging", "aws-s3-bucket-access-logging",
         "Enable server access logging for bucket 'log-bucket'"),
    Case("acl-ownership", "aws-s3-bucket-ownership-enforced",
         "Set rule.objectOwnership to BucketOwnerEnforced"),
    Case("short-retention", "aws-s3-bucket-lifecycle-retention",
         "Raise expiration days of lifecycle rule 'audit-log-retention' on bucket 'log-bucket' "
         "to at least 2192"),
    Case("glacier-day-30", "aws-s3-bucket-lifecycle-immediate-access",
         "Move the GLACIER transition of lifecycle rule 'audit-log-retention' on bucket 'log-bucket' "
         "to day 92 or later"),
    Case("key-rotation-off", "aws-kms-key-rotation", "Set enableKeyRotation to true"),
    Case("log-group-retention-30", "aws-cloudwatch-log-group-retention",
         "Set retentionInDays of log group 'trail-log-group' to at least 2192"),
    Case("no-log-group-kms", "aws-cloudwatch-log-group-kms-encryption-required",
         "Set kmsKeyId on log group 'trail-log-group' to a KMS key",
         pack_config=_enable("aws-cloudwatch-log-group-kms-encryption-required", "requireKms")),
    Case("no-subscription", MONITORING, "Add an aws.sns.TopicSubscription to topic 'alarm-topic'"),
    Case("alarm-missing-root-account-usage", MONITORING,
         "Add an aws.cloudwatch.MetricAlarm on metric "
         f"{monitoring.METRIC_NAMESPACE}/RootAccountUsage of metric filter 'filter-root-account-usage'"),
    Case("filter-missing-vpc-changes", MONITORING, "Add a metric filter for CIS 4.14 (VPC changes)"),
    Case("second-public-access-block", "aws-s3-bucket-single-configuration",
         "Keep one public access block for bucket 'log-bucket' and remove the others: 'log-bucket-pab' "
         "(BucketPublicAccessBlock) and 'log-bucket-pab-2' (BucketPublicAccessBlock) all set it"),
    Case("unprotected-log-bucket", "aws-cloudtrail-stack-evidence-protected",
         "Set the Pulumi resource option protect=True on 'log-bucket'"),
    Case("alarm-threshold-million", MONITORING,
         "Make alarm 'alarm-vpc-changes' fire on one matching event (value 1): set comparisonOperator "
         "GreaterThanOrEqualToThreshold with threshold at most 1 (is GreaterThanOrEqualToThreshold 1000000)"),
    Case("alarm-other-account-topic", MONITORING,
         "Add to alarmActions of alarm 'alarm-vpc-changes' the full ARN of an SNS topic of this stack"),
    Case("athena-not-enforced", "aws-athena-workgroup-enforce-configuration",
         "Set configuration.enforceWorkgroupConfiguration to true"),
    Case("athena-results-unencrypted", "aws-athena-workgroup-results-encrypted",
         "Set configuration.resultConfiguration.encryptionConfiguration.encryptionOption to"),
    Case("athena-results-bucket-public", "aws-athena-workgroup-results-bucket-protected",
         "Add an aws.s3.BucketPublicAccessBlock for bucket 'athena-results'"),
    Case("no-topic-kms", "aws-sns-topic-kms-encryption-required",
         "Set kmsMasterKeyId on the topic to a KMS key",
         pack_config=_enable("aws-sns-topic-kms-encryption-required", "requireKms")),
]
GATED = [c for c in CASES if c.pack_config]


# --- running the previews ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Violation:
    level: str
    policy: str
    text: str  # the lines under the head line: the policy description and the message


_HEAD = re.compile(r"^ {8}- \[(?P<level>[a-z]+)\]  (?P<policy>\S+)")


def violations(stdout: str) -> list[Violation]:
    """The violations in the ``Policies:`` section of the text report, as `pulumi preview` lays it out."""
    found: list[Violation] = []
    head: re.Match[str] | None = None
    body: list[str] = []
    for line in stdout.splitlines():
        match = _HEAD.match(line)
        if head is not None and (match or not line.startswith(" " * 10)):
            found.append(Violation(head["level"], head["policy"], "\n".join(body)))
            head, body = None, []
        if match:
            head = match
        elif head is not None:
            body.append(line.strip())
    if head is not None:
        found.append(Violation(head["level"], head["policy"], "\n".join(body)))
    return found


def mandatory_policies(result: subprocess.CompletedProcess[str]) -> set[str]:
    return {v.policy for v in violations(result.stdout) if v.level == "mandatory"}


def _shown(result: subprocess.CompletedProcess[str]) -> str:
    policies = result.stdout.split("Policies:", 1)[-1]
    return f"exit {result.returncode}\n{policies[-6000:]}\n{result.stderr[-3000:]}"


# A preview of the breakable fixture: (breaks, pack config JSON or a shipped profile config's name).
Key = tuple[tuple[str, ...], str | None]

PROD_BROKEN = ("--config-path", "--config", "complianceProfiles[0]=soc2")


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``preview(*breaks, pack_config=...)``: the result of previewing the breakable fixture, and
    ``preview(prod=...)`` of the real prod stack; each is made once, on first use."""
    config_dir = tmp_path_factory.mktemp("pack-config")
    made: dict[object, subprocess.CompletedProcess[str]] = {}

    def run_breakable(key: Key) -> subprocess.CompletedProcess[str]:
        breaks, pack_config = key
        args = ["preview", "--stack", "test", "--cwd", str(BREAKABLE), "--policy-pack", str(POLICY_PACK)]
        if pack_config is not None and pack_config.startswith("@"):
            args += ["--policy-pack-config", str(POLICY_PACK / "config" / f"{pack_config[1:]}.json")]
        elif pack_config is not None:
            path = config_dir / f"{'-'.join(breaks)}.json"
            path.write_text(pack_config, encoding="utf-8")
            args += ["--policy-pack-config", str(path)]
        if breaks:
            args.append("--config-path")
            args += [a for i, b in enumerate(breaks) for a in ("--config", f"breaks[{i}]={b}")]
        return run_cli_in_process(*args)

    def run_prod(extra: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        return run_cli_in_process("preview", "--stack", "prod", "--cwd", str(REPO), "--policy-pack", "policy",
                                  "--policy-pack-config", "policy/config/hipaa.json", *extra)

    def get(*breaks: str, pack_config: str | None = None,
            prod: tuple[str, ...] | None = None) -> subprocess.CompletedProcess[str]:
        key: object = ("prod", prod) if prod is not None else (tuple(breaks), pack_config)
        if key not in made:
            made[key] = run_prod(prod) if prod is not None else run_breakable((tuple(breaks), pack_config))
        return made[key]

    return get


# --- the pack's mandatory policies all have a catch ---------------------------------------------------

def test_the_pack_has_mandatory_policies() -> None:
    # Guards the enumeration itself: an empty list would make the parametrized test below vacuous.
    assert "aws-kms-key-rotation" in MANDATORY and SECURITY_TRAIL in MANDATORY, MANDATORY
    assert "aws-cloudtrail-trail-kms-encryption" not in MANDATORY  # the advisory twin


@pytest.mark.parametrize("policy", MANDATORY)
def test_every_mandatory_policy_has_a_break_case(policy: str) -> None:
    assert policy in {c.policy for c in CASES}, (
        f"{policy} is mandatory but no case in {Path(__file__).name} breaks it: add a named deviation "
        f"to fixtures/breakable/__main__.py and a Case here"
    )


def test_cases_name_mandatory_policies() -> None:
    # A misspelt break name is caught by the fixture itself (exit 2, see below), not here.
    for case in CASES:
        assert {case.policy, *case.also} <= set(MANDATORY), case
        assert case.policy not in case.also, case
    assert len({c.name for c in CASES}) == len(CASES)


# --- the compliant baseline ---------------------------------------------------------------------------

@pytest.mark.parametrize("profile", [None, *PROFILE_CONFIGS])
def test_breakable_baseline_passes(preview, profile: str | None) -> None:
    result = preview(pack_config=None if profile is None else f"@{profile}")
    assert result.returncode == 0, _shown(result)
    assert "Previewing update (test)" in result.stdout
    assert mandatory_policies(result) == set(), _shown(result)
    assert "[mandatory]" not in result.stdout
    assert "Policy summary: passed: 0 mandatory" in result.stdout


def test_unknown_break_is_a_program_error(preview) -> None:
    result = preview("no-such-break")
    assert result.returncode == 2, _shown(result)
    assert "unknown breaks ['no-such-break']" in result.stdout + result.stderr
    assert "[mandatory]" not in result.stdout


# --- one change, one catch ----------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_one_change_is_caught(preview, case: Case) -> None:
    result = preview(case.name, pack_config=case.pack_config)
    assert result.returncode == 1, _shown(result)
    assert mandatory_policies(result) == {case.policy, *case.also}, _shown(result)
    found = [v for v in violations(result.stdout) if v.level == "mandatory" and v.policy == case.policy]
    assert any(case.fix in v.text for v in found), (case.fix, _shown(result))
    assert "Policy summary: FAILED" in result.stdout


@pytest.mark.parametrize("case", GATED, ids=lambda c: c.name)
def test_gated_change_passes_without_its_pack_config(preview, case: Case) -> None:
    """The gated policies are what the pack config switches on: without it the same change passes."""
    result = preview(case.name)
    assert result.returncode == 0, _shown(result)
    assert mandatory_policies(result) == set(), _shown(result)


# --- the real prod stack: one line of stack config -----------------------------------------------------

def test_the_readme_shows_this_config_line() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "--policy-pack-config policy/config/hipaa.json " + shlex.join(PROD_BROKEN) in readme


def test_prod_passes_and_one_config_line_fails_it(preview) -> None:
    unchanged = preview(prod=())
    assert unchanged.returncode == 0, _shown(unchanged)
    assert mandatory_policies(unchanged) == set(), _shown(unchanged)

    broken = preview(prod=PROD_BROKEN)
    assert broken.returncode == 1, _shown(broken)
    assert mandatory_policies(broken) == {"aws-s3-bucket-lifecycle-retention",
                                          "aws-cloudwatch-log-group-retention"}, _shown(broken)
    def texts(policy: str) -> list[str]:
        return [v.text for v in violations(broken.stdout) if v.level == "mandatory" and v.policy == policy]

    # soc2 alone keeps the archive auditPeriodDays + 90 = 455 days and the log group 545 (a CloudWatch
    # Logs value), both against hipaa's 2192-day floor, which the pack config still enforces.
    assert any("Raise expiration days of lifecycle rule" in t and "to at least 2192" in t
               and "is 455; log files live at least 455 days" in t
               and "Enforced profiles: hipaa (pack config), soc2" in t
               for t in texts("aws-s3-bucket-lifecycle-retention")), _shown(broken)
    assert any("Set retentionInDays of log group" in t and "to at least 2192" in t and "is 545." in t
               for t in texts("aws-cloudwatch-log-group-retention")), _shown(broken)
