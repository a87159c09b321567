"""For every mandatory policy of the real pack, one change that the offline preview catches: exit 1,
the policy named as a mandatory violation, the fix in its message, and no other mandatory policy (or
exactly the ones the change legitimately trips as well).

The baseline is the repository's own program, recorded once: the prod stack declaring hipaa, pci-dss
and soc2 together (``--config-path --config 'complianceProfiles[0]=hipaa' ...``), which passes the pack
under its default config and under each shipped profile config. Each case changes one resource of that
recorded run (one input set or removed, one resource dropped or added, through ``recorded.Changes``)
before the pack sees it, so no second, hand-built audit program has to be kept in step with the real
one. A policy that only applies when pack config asks (the ``-required`` KMS twins, ``requireTrail``)
gets that config as well, in a file of its own. One more change is made to the prod stack as it ships:
``--config-path --config 'complianceProfiles[0]=soc2'`` (soc2 in place of hipaa), the one-line config
change the README shows.

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
from preview_helpers import REPO, run_cli_in_process
from recorded import Changes

sys.path.insert(0, str(REPO / "policy"))
from audit_policies.pack import ALL_POLICIES  # noqa: E402
from pulumi_policy import EnforcementLevel  # noqa: E402
from spawn_compliance import monitoring  # noqa: E402

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
    """One named change to the recorded stack and what the preview must report for it."""

    name: str
    change: Callable[[Changes], None]  # the one change, made to the recorded run
    policy: str  # the mandatory policy it trips
    fix: str  # a distinctive fragment of that policy's message: the fix
    also: frozenset[str] = field(default_factory=frozenset)  # other mandatory policies it trips
    pack_config: str | None = None  # JSON for --policy-pack-config, when the policy is gated on config


# Logical names in the program (components/): the stack name, then component and resource.
TRAIL = "spawn-audit-trail-trail"
BUCKET = "spawn-audit-archive-bucket"
KEY = "spawn-audit-kms-key"
LOG_GROUP = "spawn-audit-delivery-log-group"
TOPIC = "spawn-audit-alarms-topic"
WORKGROUP = "spawn-audit-analytics-workgroup"
ALARMS = "spawn-audit-alarms"
ACCOUNT = "123456789012"  # the example account of Pulumi.prod.yaml
OTHER_ACCOUNT = "999988887777"


def _set(name: str, *path: str | int, value: object) -> Callable[[Changes], None]:
    return lambda stack: stack.set(name, *path, value=value)


def _unset(name: str, *path: str | int) -> Callable[[Changes], None]:
    return lambda stack: stack.unset(name, *path)


def _drop(name: str) -> Callable[[Changes], None]:
    return lambda stack: stack.drop(name)


def _statements(name: str, key: str, edit: Callable[[list], None]) -> Callable[[Changes], None]:
    return lambda stack: stack.edit_document(name, key, edit)


def _without(sid: str) -> Callable[[list], None]:
    def edit(statements: list) -> None:
        kept = [s for s in statements if s.get("Sid") != sid]
        assert len(kept) == len(statements) - 1, f"no statement {sid}"
        statements[:] = kept
    return edit


def _write_only_management_events(stack: Changes) -> None:
    # The management selector with readOnly = false: write events only.
    stack.set(TRAIL, "advancedEventSelectors", 0, "fieldSelectors",
              value=[{"field": "eventCategory", "equals": ["Management"]},
                     {"field": "readOnly", "equals": ["false"]}])


def _no_cloudwatch_logs(stack: Changes) -> None:
    stack.unset(TRAIL, "cloudWatchLogsGroupArn")
    stack.unset(TRAIL, "cloudWatchLogsRoleArn")


def _log_export(stack: Changes) -> None:
    group = stack.resource(LOG_GROUP)
    stack.add(LOG_GROUP, "trail-log-export",
              type="aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter",
              inputs={"name": "export", "logGroup": group.inputs["name"], "filterPattern": "",
                      "destinationArn": f"arn:aws:logs:us-east-1:{OTHER_ACCOUNT}:destination:collector"},
              property_dependencies={"logGroup": [group.urn]})


def _second_public_access_block(stack: Changes) -> None:
    stack.add(f"{BUCKET}-public-access-block", f"{BUCKET}-public-access-block-2",
              inputs={"restrictPublicBuckets": False})


# Every trail rule is also one of the criteria of the stack's "security trail" rule, so breaking one
# on the only trail trips both.
TRAIL_RULE = frozenset({SECURITY_TRAIL})

CASES = [
    Case("log-file-validation-off", _set(TRAIL, "enableLogFileValidation", value=False),
         "aws-cloudtrail-trail-log-file-validation", "Set enableLogFileValidation to true", TRAIL_RULE),
    Case("not-multi-region", _set(TRAIL, "isMultiRegionTrail", value=False),
         "aws-cloudtrail-trail-multi-region", "Set isMultiRegionTrail to true", TRAIL_RULE),
    Case("no-global-events", _set(TRAIL, "includeGlobalServiceEvents", value=False),
         "aws-cloudtrail-trail-global-service-events", "Set includeGlobalServiceEvents to true", TRAIL_RULE),
    Case("write-only-management-events", _write_only_management_events,
         "aws-cloudtrail-trail-management-events",
         f"on trail '{TRAIL}': add an advanced event selector on eventCategory Management without readOnly "
         "or eventSource filters: remove its readOnly field selector", TRAIL_RULE),
    Case("logging-off", _set(TRAIL, "enableLogging", value=False),
         "aws-cloudtrail-trail-logging-enabled", "Set enableLogging to true", TRAIL_RULE),
    Case("no-cloudwatch-role", _unset(TRAIL, "cloudWatchLogsRoleArn"), "aws-cloudtrail-trail-cloudwatch-logs",
         "Set cloudWatchLogsRoleArn so events reach CloudWatch Logs through a role", TRAIL_RULE),
    # Without the log group ARN no log group receives the trail's events, so the alarms have nothing
    # to watch either (the role ARN goes with it: CloudTrail refuses one without the other).
    Case("no-cloudwatch-logs", _no_cloudwatch_logs, "aws-cloudtrail-trail-cloudwatch-logs",
         "Set cloudWatchLogsGroupArn and cloudWatchLogsRoleArn", TRAIL_RULE | {MONITORING}),
    Case("no-trail-kms", _unset(TRAIL, "kmsKeyId"), "aws-cloudtrail-trail-kms-encryption-required",
         "Set kmsKeyId to a customer managed KMS key",
         pack_config=_enable("aws-cloudtrail-trail-kms-encryption-required", "requireKms")),
    # The pack learns the stack's account from its trails' ARNs; with no trail, the alarm topic's policy
    # (CloudWatch may publish for aws:SourceAccount 123456789012) cannot be shown to stay in the account,
    # and the pack fails closed on it.
    Case("no-trail", _drop(TRAIL), SECURITY_TRAIL, "Declare an aws.cloudtrail.Trail that is multi-region",
         frozenset({"aws-sns-topic-policy-no-outside-access"}),
         pack_config=_enable(SECURITY_TRAIL, "requireTrail")),
    Case("bucket-public-access", _set(f"{BUCKET}-public-access-block", "restrictPublicBuckets", value=False),
         "aws-s3-bucket-public-access-block",
         f"Set restrictPublicBuckets to true on the public access block of bucket '{BUCKET}'"),
    Case("no-bucket-encryption", _drop(f"{BUCKET}-encryption"), "aws-s3-bucket-encryption",
         f"Add default encryption to bucket '{BUCKET}'"),
    Case("bucket-sse-s3",
         _set(f"{BUCKET}-encryption", "rules", value=[
             {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}, "bucketKeyEnabled": False}]),
         "aws-s3-bucket-encryption", f"Set sseAlgorithm of bucket '{BUCKET}' to aws:kms or aws:kms:dsse",
         pack_config=_enable("aws-s3-bucket-encryption", "requireKms")),
    Case("no-versioning",
         _set(f"{BUCKET}-versioning", "versioningConfiguration", "status", value="Suspended"),
         "aws-s3-bucket-versioning",
         f"Enable versioning on bucket '{BUCKET}' with an aws.s3.BucketVersioning"),
    Case("no-tls-deny", _statements(f"{BUCKET}-policy", "policy", _without("DenyInsecureTransport")),
         "aws-s3-bucket-tls-only", "Condition Bool aws:SecureTransport false"),
    Case("org-wide-log-write",
         _statements(f"{BUCKET}-policy", "policy", lambda statements: statements.append({
             "Sid": "OrganizationWrite", "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::spawn-audit-logs-{ACCOUNT}-prod/*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorgid"}}})),
         "aws-s3-bucket-policy-no-outside-access",
         "s3:PutObject: every principal of organization o-exampleorgid, "
         "through statement 'OrganizationWrite'"),
    Case("no-read-deny", _statements(f"{BUCKET}-policy", "policy", _without("DenyLogReadsExceptAuditors")),
         "aws-s3-bucket-reads-limited-to-auditors",
         "Action s3:GetObject and s3:GetObjectVersion, Resource the bucket's objects"),
    Case("key-cross-account-decrypt",
         _statements(KEY, "policy", lambda statements: statements.append({
             "Sid": "OtherAccountDecrypt", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}, "Action": "kms:Decrypt",
             "Resource": "*"})),
         "aws-kms-key-policy-no-outside-access",
         f"kms:Decrypt: principals of account {OTHER_ACCOUNT}, through statement 'OtherAccountDecrypt'"),
    Case("key-disabled", _set(KEY, "isEnabled", value=False), "aws-kms-key-enabled",
         "Set isEnabled to true (or remove it; it defaults to true)"),
    Case("log-export-other-account", _log_export, "aws-cloudwatch-log-group-no-outside-export",
         f"Point subscription filter 'trail-log-export' on log group '{LOG_GROUP}' at a destination of "
         f"account {ACCOUNT}"),
    Case("topic-public-publish",
         _statements(f"{TOPIC}-policy", "policy", lambda statements: statements.append({
             "Sid": "AnyonePublish", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Publish",
             "Resource": f"arn:aws:sns:us-east-1:{ACCOUNT}:spawn-audit-security-alarms"})),
         "aws-sns-topic-policy-no-outside-access",
         "sns:Publish: every principal (*), through statement 'AnyonePublish'"),
    Case("no-access-logging", _drop(f"{BUCKET}-logging"), "aws-s3-bucket-access-logging",
         f"Enable server access logging for bucket '{BUCKET}'"),
    Case("acl-ownership", _set(f"{BUCKET}-ownership", "rule", "objectOwnership", value="ObjectWriter"),
         "aws-s3-bucket-ownership-enforced", "Set rule.objectOwnership to BucketOwnerEnforced"),
    Case("short-retention", _set(f"{BUCKET}-lifecycle", "rules", 0, "expiration", "days", value=30),
         "aws-s3-bucket-lifecycle-retention",
         f"Raise expiration days of lifecycle rule 'spawn-audit-log-retention' on bucket '{BUCKET}' "
         "to at least 2192"),
    Case("glacier-day-30", _set(f"{BUCKET}-lifecycle", "rules", 0, "transitions", 0, "days", value=30),
         "aws-s3-bucket-lifecycle-immediate-access",
         f"Move the GLACIER transition of lifecycle rule 'spawn-audit-log-retention' on bucket '{BUCKET}' "
         "to day 92 or later"),
    Case("key-rotation-off", _set(KEY, "enableKeyRotation", value=False), "aws-kms-key-rotation",
         "Set enableKeyRotation to true"),
    Case("log-group-retention-30", _set(LOG_GROUP, "retentionInDays", value=30),
         "aws-cloudwatch-log-group-retention",
         f"Set retentionInDays of log group '{LOG_GROUP}' to at least 2192"),
    Case("no-log-group-kms", _unset(LOG_GROUP, "kmsKeyId"),
         "aws-cloudwatch-log-group-kms-encryption-required",
         f"Set kmsKeyId on log group '{LOG_GROUP}' to a KMS key",
         pack_config=_enable("aws-cloudwatch-log-group-kms-encryption-required", "requireKms")),
    Case("no-subscription", _drop(f"{ALARMS}-email-0"), MONITORING,
         f"Add an aws.sns.TopicSubscription to topic '{TOPIC}'"),
    Case("alarm-missing-root-account-usage", _drop(f"{ALARMS}-root-account-usage-alarm"), MONITORING,
         f"Add an aws.cloudwatch.MetricAlarm on metric {monitoring.METRIC_NAMESPACE}/RootAccountUsage of "
         f"metric filter '{ALARMS}-root-account-usage-filter'"),
    Case("filter-missing-vpc-changes", _drop(f"{ALARMS}-vpc-changes-filter"), MONITORING,
         "Add a metric filter for CIS 4.14 (VPC changes)"),
    Case("second-public-access-block", _second_public_access_block, "aws-s3-bucket-single-configuration",
         f"Keep one public access block for bucket '{BUCKET}' and remove the others: "
         f"'{BUCKET}-public-access-block' (BucketPublicAccessBlock) and "
         f"'{BUCKET}-public-access-block-2' (BucketPublicAccessBlock) all set it"),
    Case("unprotected-log-bucket", lambda stack: setattr(stack.resource(BUCKET), "protect", False),
         "aws-cloudtrail-stack-evidence-protected",
         f"Set the Pulumi resource option protect=True on '{BUCKET}'"),
    Case("alarm-threshold-million", _set(f"{ALARMS}-vpc-changes-alarm", "threshold", value=1_000_000),
         MONITORING,
         f"Make alarm '{ALARMS}-vpc-changes-alarm' fire on one matching event (value 1): set "
         "comparisonOperator GreaterThanOrEqualToThreshold with threshold at most 1 "
         "(is GreaterThanOrEqualToThreshold 1000000)"),
    Case("alarm-other-account-topic",
         _set(f"{ALARMS}-vpc-changes-alarm", "alarmActions",
              value=[f"arn:aws:sns:us-east-1:{OTHER_ACCOUNT}:spawn-audit-security-alarms"]),
         MONITORING,
         f"Add to alarmActions of alarm '{ALARMS}-vpc-changes-alarm' the full ARN of an SNS topic of this "
         "stack"),
    Case("athena-not-enforced",
         _set(WORKGROUP, "configuration", "enforceWorkgroupConfiguration", value=False),
         "aws-athena-workgroup-enforce-configuration",
         "Set configuration.enforceWorkgroupConfiguration to true"),
    Case("athena-results-unencrypted",
         _unset(WORKGROUP, "configuration", "resultConfiguration", "encryptionConfiguration"),
         "aws-athena-workgroup-results-encrypted",
         "Set configuration.resultConfiguration.encryptionConfiguration.encryptionOption to"),
    Case("athena-results-bucket-public", _drop("spawn-audit-analytics-results-public-access-block"),
         "aws-athena-workgroup-results-bucket-protected",
         "Add an aws.s3.BucketPublicAccessBlock for bucket 'spawn-audit-analytics-results'"),
    Case("no-topic-kms", _unset(TOPIC, "kmsMasterKeyId"), "aws-sns-topic-kms-encryption-required",
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


PROD_BROKEN = ("--config-path", "--config", "complianceProfiles[0]=soc2")
# The baseline: prod declaring every profile the pack knows.
ALL_PROFILES = ("--config-path", "--config", "complianceProfiles[0]=hipaa", "--config",
                "complianceProfiles[1]=pci-dss", "--config", "complianceProfiles[2]=soc2")
BY_NAME = {c.name: c for c in CASES}


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``preview(case_name, pack_config=...)``: the result of previewing the baseline with that case's
    change (none for ``None``), and ``preview(prod=...)`` of the prod stack as it ships; each is made
    once, on first use. ``pack_config`` is JSON or ``@`` and a shipped profile config's name."""
    config_dir = tmp_path_factory.mktemp("pack-config")
    made: dict[object, subprocess.CompletedProcess[str]] = {}

    def run_changed(name: str | None, pack_config: str | None) -> subprocess.CompletedProcess[str]:
        args = ["preview", "--stack", "prod", "--cwd", str(REPO), "--policy-pack", str(POLICY_PACK),
                *ALL_PROFILES]
        if pack_config is not None and pack_config.startswith("@"):
            args += ["--policy-pack-config", str(POLICY_PACK / "config" / f"{pack_config[1:]}.json")]
        elif pack_config is not None:
            path = config_dir / f"{name}.json"
            path.write_text(pack_config, encoding="utf-8")
            args += ["--policy-pack-config", str(path)]
        return run_cli_in_process(*args, change=BY_NAME[name].change if name else None)

    def run_prod(extra: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        return run_cli_in_process("preview", "--stack", "prod", "--cwd", str(REPO), "--policy-pack", "policy",
                                  "--policy-pack-config", "policy/config/hipaa.json", *extra)

    def get(name: str | None = None, *, pack_config: str | None = None,
            prod: tuple[str, ...] | None = None) -> subprocess.CompletedProcess[str]:
        key: object = ("prod", prod) if prod is not None else (name, pack_config)
        if key not in made:
            made[key] = run_prod(prod) if prod is not None else run_changed(name, pack_config)
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
        f"{policy} is mandatory but no case in {Path(__file__).name} breaks it: add a Case with the one "
        f"change to the recorded stack that it catches"
    )


def test_cases_name_mandatory_policies() -> None:
    for case in CASES:
        assert {case.policy, *case.also} <= set(MANDATORY), case
        assert case.policy not in case.also, case
    assert len({c.name for c in CASES}) == len(CASES)


# --- the compliant baseline ---------------------------------------------------------------------------

@pytest.mark.parametrize("profile", [None, *PROFILE_CONFIGS])
def test_baseline_passes(preview, profile: str | None) -> None:
    result = preview(pack_config=None if profile is None else f"@{profile}")
    assert result.returncode == 0, _shown(result)
    assert "Previewing update (prod)" in result.stdout
    assert mandatory_policies(result) == set(), _shown(result)
    assert "[mandatory]" not in result.stdout
    assert "Policy summary: passed: 0 mandatory" in result.stdout


def test_a_change_to_a_resource_the_run_lacks_is_an_error() -> None:
    # A misspelt name in a case fails loudly rather than previewing the unchanged baseline.
    with pytest.raises(KeyError, match="no resource named 'spawn-audit-no-such-thing'"):
        run_cli_in_process("preview", "--stack", "prod", "--cwd", str(REPO), "--policy-pack",
                           str(POLICY_PACK), change=_drop("spawn-audit-no-such-thing"))


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
    """The gated policies are what the pack config switches on: without it the same change trips only
    what it trips anyway (nothing, or ``also``)."""
    result = preview(case.name)
    assert result.returncode == (1 if case.also else 0), _shown(result)
    assert mandatory_policies(result) == set(case.also), _shown(result)


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
