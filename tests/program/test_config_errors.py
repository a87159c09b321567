"""Bad config fails with one ConfigError, naming key, value and what is allowed, before any resource.

Every case changes one key of a compliant baseline (the prod stack, or the prod stack under pci-dss
or soc2), and the baselines themselves are proven compliant first.
"""

from __future__ import annotations

from typing import Any

import pytest
from program_support import PCI_BASELINE, SOC2_BASELINE, ok, run_stack

CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("unknown-profile", "prod", {"complianceProfiles": ["hippa"]},
     'spawn-audit:complianceProfiles = ["hippa"] contains unknown profile "hippa"; allowed: hipaa, '
     'pci-dss, soc2 (or [] for a sandbox)'),
    ("audit-period-zero", "prod", {"auditPeriodDays": 0},
     "spawn-audit:auditPeriodDays = 0 is not a number of days above 0; use 1 or more (default 365)"),
    ("audit-period-negative", "prod", {"auditPeriodDays": -5},
     "spawn-audit:auditPeriodDays = -5 is not a number of days above 0; use 1 or more (default 365)"),
    ("audit-period-beyond-log-retention", "prod", {**SOC2_BASELINE, "auditPeriodDays": 3600},
     "spawn-audit:auditPeriodDays = 3600 makes the soc2 retention 3690 days, longer than CloudWatch Logs "
     "can keep the trail's log group (3653); use at most 3563"),
    ("retention-below-hipaa-floor", "prod", {"archiveRetentionDays": 30},
     "spawn-audit:archiveRetentionDays = 30 is below the hipaa floor of 2192 days (45 CFR 164.316(b)(2)(i)); "
     "use 2192 or more, or 0 for the profile default (2555)"),
    ("retention-one-day-below-hipaa-floor", "prod", {"archiveRetentionDays": 2191},
     "spawn-audit:archiveRetentionDays = 2191 is below the hipaa floor of 2192 days "
     "(45 CFR 164.316(b)(2)(i)); use 2192 or more, or 0 for the profile default (2555)"),
    ("retention-negative", "prod", {"archiveRetentionDays": -1},
     "spawn-audit:archiveRetentionDays = -1 is negative; use a number of days, or 0 for the profile "
     "default (2555)"),
    ("retention-below-pci-floor", "prod", {**PCI_BASELINE, "archiveRetentionDays": 300},
     "spawn-audit:archiveRetentionDays = 300 is below the pci-dss floor of 365 days (PCI DSS 10.5.1); "
     "use 365 or more, or 0 for the profile default (365)"),
    ("retention-below-soc2-floor", "prod", {**SOC2_BASELINE, "archiveRetentionDays": 454},
     "spawn-audit:archiveRetentionDays = 454 is below the soc2 floor of 455 days (SOC 2 CC7.2, "
     "audit period + 90 days); use 455 or more, or 0 for the profile default (455)"),
    ("transition-at-expiration", "prod", {"archiveTransitionDays": 2555},
     "spawn-audit:archiveTransitionDays = 2555 is at or after the expiration on day 2555 "
     "(archiveRetentionDays); use a value below 2555, or 0 for the default"),
    ("transition-after-expiration", "prod", {"archiveTransitionDays": 3000},
     "spawn-audit:archiveTransitionDays = 3000 is at or after the expiration on day 2555 "
     "(archiveRetentionDays); use a value below 2555, or 0 for the default"),
    ("transition-inside-pci-window", "prod", {**PCI_BASELINE, "archiveTransitionDays": 91},
     "spawn-audit:archiveTransitionDays = 91 moves logs to GLACIER, which needs a restore, inside the "
     "pci-dss immediately-available window of 92 days (PCI DSS 10.5.1); use 92 or more, a class "
     "that needs no restore (STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR), or 0 for the "
     "default (92)"),
    ("invalid-storage-class", "prod", {"archiveStorageClass": "GLACIR"},
     'spawn-audit:archiveStorageClass = "GLACIR" is not an S3 archive storage class; allowed: STANDARD_IA, '
     "ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE"),
    ("ia-transition-before-day-30", "prod",
     {"archiveStorageClass": "STANDARD_IA", "archiveTransitionDays": 29},
     "spawn-audit:archiveTransitionDays = 29 is below the 30-day minimum S3 requires before a transition "
     "to STANDARD_IA; use 30 or more"),
    ("log-group-below-hipaa-minimum", "prod", {"logGroupRetentionDays": 400},
     "spawn-audit:logGroupRetentionDays = 400 is below the hipaa minimum of 2192 days for the trail's log "
     "group; use one of 2192, 2557, 2922, 3288, 3653, or 0 for the default (2557)"),
    ("log-group-not-a-cloudwatch-value", "prod", {"logGroupRetentionDays": 2555},
     "spawn-audit:logGroupRetentionDays = 2555 is not a retention CloudWatch Logs accepts; allowed: 2192, "
     "2557, 2922, 3288, 3653, or 0 for the default (2557)"),
    ("log-group-below-a-year-in-sandbox", "dev", {"logGroupRetentionDays": 30},
     "spawn-audit:logGroupRetentionDays = 30 is below the minimum of 365 days for the trail's log group; "
     "use one of 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, or 0 for the default (365)"),
    ("unknown-encryption", "prod", {"encryption": "aes256"},
     'spawn-audit:encryption = "aes256" is not an encryption mode; allowed: kms, sse-s3'),
    ("access-logging-off-under-hipaa", "prod", {"accessLogging": False},
     "spawn-audit:accessLogging = false is not allowed under hipaa (access to the audit logs must itself "
     "be logged; hipaa: 45 CFR 164.312(b)); use true"),
    # PCI DSS v4.0.1 10.2.1.3: "audit logs capture all access to audit logs" (10.2.1 is logging in general).
    ("access-logging-off-under-pci-dss", "prod", {**PCI_BASELINE, "accessLogging": False},
     "spawn-audit:accessLogging = false is not allowed under pci-dss (access to the audit logs must itself "
     "be logged; pci-dss: PCI DSS 10.2.1.3); use true"),
    ("access-log-retention-below-floor", "prod", {"accessLogRetentionDays": 30},
     "spawn-audit:accessLogRetentionDays = 30 is below the hipaa floor of 2192 days "
     "(45 CFR 164.316(b)(2)(i)); use 2192 or more, or 0 for the archive's retention (2555)"),
    ("object-lock-mode-lowercase", "prod", {"objectLockMode": "governance"},
     'spawn-audit:objectLockMode = "governance" is not an S3 Object Lock mode; allowed: "" (off), '
     "GOVERNANCE, COMPLIANCE"),
    ("object-lock-beyond-expiration", "prod", {"objectLockRetentionDays": 3000},
     "spawn-audit:objectLockRetentionDays = 3000 is beyond the expiration on day 2555 "
     "(archiveRetentionDays); use at most 2555, or 0 for the expiration day"),
    ("object-lock-days-without-mode", "dev", {"objectLockRetentionDays": 10},
     'spawn-audit:objectLockRetentionDays = 10 has no effect while objectLockMode is ""; set objectLockMode '
     "to GOVERNANCE or COMPLIANCE, or use 0"),
    ("force-destroy-under-hipaa", "prod", {"forceDestroy": True},
     "spawn-audit:forceDestroy = true is not allowed under hipaa: pulumi destroy would delete retained audit "
     "logs; use false"),
    ("trail-name-double-separator", "prod", {"trailName": "spawn--audit"},
     "spawn-audit:trailName = \"spawn--audit\" is not a usable trail name; use letters, digits, '_' or '-', "
     "starting and ending with a letter or digit, no two separators in a row (CloudTrail CreateTrail)"),
    ("bucket-prefix-uppercase", "prod", {"bucketNamePrefix": "Spawn_Logs"},
     'spawn-audit:bucketNamePrefix = "Spawn_Logs" gives the bucket name "Spawn_Logs-123456789012-prod", '
     "which is not an S3 bucket name; use lowercase letters, digits and '-', starting and ending with a "
     "letter or digit (the prefix may have at most 38 characters)"),
    ("log-group-name-with-space", "prod", {"logGroupName": "bad name"},
     'spawn-audit:logGroupName = "bad name" is not a CloudWatch Logs group name; use 1 to 512 of '
     "A-Z a-z 0-9 . _ - / #"),
    ("app-log-group-is-trail-group", "prod", {"appAuditLogGroupName": "/aws/cloudtrail/spawn"},
     'spawn-audit:appAuditLogGroupName = "/aws/cloudtrail/spawn" is the trail\'s log group; use a different '
     "name"),
    ("auditor-is-a-user", "prod", {"auditorRoleArns": ["arn:aws:iam::123456789012:user/alice"]},
     'spawn-audit:auditorRoleArns = ["arn:aws:iam::123456789012:user/alice"] contains '
     '"arn:aws:iam::123456789012:user/alice", which is not an IAM role ARN; expected '
     "arn:<partition>:iam::<12-digit account>:role/<name>"),
    ("auditor-arn-short-account", "prod", {"auditorRoleArns": ["arn:aws:iam::1234:role/SecurityAuditor"]},
     'spawn-audit:auditorRoleArns = ["arn:aws:iam::1234:role/SecurityAuditor"] contains '
     '"arn:aws:iam::1234:role/SecurityAuditor", which is not an IAM role ARN; expected '
     "arn:<partition>:iam::<12-digit account>:role/<name>"),
    ("auditor-in-another-account", "prod", {"auditorRoleArns": ["arn:aws:iam::999988887777:role/Auditor"]},
     'spawn-audit:auditorRoleArns = ["arn:aws:iam::999988887777:role/Auditor"] names '
     '"arn:aws:iam::999988887777:role/Auditor", a role of account 999988887777; allowed: roles of this '
     "stack's account 123456789012 (the log key and bucket grant nothing to another account, so that role "
     "could not read the logs)"),
    ("break-glass-in-another-account", "prod", {"breakGlassRoleArn": "arn:aws:iam::999988887777:role/Bg"},
     'spawn-audit:breakGlassRoleArn = "arn:aws:iam::999988887777:role/Bg" names '
     '"arn:aws:iam::999988887777:role/Bg", a role of account 999988887777; allowed: roles of this '
     "stack's account 123456789012 (the log key and bucket grant nothing to another account, so that role "
     "could not read the logs)"),
    ("pci-without-auditors", "prod", {**PCI_BASELINE, "auditorRoleArns": []},
     "spawn-audit:auditorRoleArns = [] leaves nobody to read the logs, and pci-dss denies reads to every "
     "other principal (PCI DSS 10.3.1); list at least one IAM role ARN of account 123456789012"),
    ("break-glass-not-an-arn", "prod", {"breakGlassRoleArn": "admin"},
     'spawn-audit:breakGlassRoleArn = "admin" is not an IAM role ARN; expected arn:<partition>:iam::'
     "<12-digit account>:role/<name>; or use \"\" so that nobody may delete log objects"),
    ("email-without-at", "prod", {"alarmEmails": ["security-alerts.example.com"]},
     'spawn-audit:alarmEmails = ["security-alerts.example.com"] contains "security-alerts.example.com", '
     "which is not an e-mail address (name@domain)"),
    ("email-without-domain-dot", "prod", {"alarmEmails": ["security@localhost"]},
     'spawn-audit:alarmEmails = ["security@localhost"] contains "security@localhost", which is not an e-mail '
     "address (name@domain)"),
    ("endpoint-plain-http", "prod", {"alarmHttpsEndpoints": ["http://hooks.example.com/alarm"]},
     "spawn-audit:alarmHttpsEndpoints entry 1 of 1 is not an https:// URL with a host name; use "
     "https://<host>/<path> (the value is not shown: an endpoint may carry a token)"),
    ("unknown-disabled-alarm", "prod", {"disabledAlarms": ["no-such-alarm"]},
     'spawn-audit:disabledAlarms = ["no-such-alarm"] contains unknown alarm "no-such-alarm"; allowed: '
     "unauthorized-api-calls, console-signin-without-mfa, root-account-usage, iam-policy-changes, "
     "cloudtrail-config-changes, console-authentication-failures, cmk-disable-or-scheduled-deletion, "
     "s3-bucket-policy-changes, aws-config-changes, security-group-changes, nacl-changes, "
     "network-gateway-changes, route-table-changes, vpc-changes, organizations-changes, "
     "spawn-unmanaged-launch, spawn-iam-role-change"),
    ("soc2-without-subscription", "prod", {**SOC2_BASELINE, "alarmEmails": []},
     "spawn-audit:alarmEmails = [] and spawn-audit:alarmHttpsEndpoints = [] leave the alarms without a "
     "subscribed destination, which soc2 requires (SOC 2 CC7.2, automated monitoring); add at least one "
     "e-mail address or HTTPS endpoint"),
    ("soc2-with-disabled-alarm", "prod", {**SOC2_BASELINE, "disabledAlarms": ["vpc-changes"]},
     'spawn-audit:disabledAlarms = ["vpc-changes"] switches alarms off, which soc2 does not allow (SOC 2 '
     "CC7.2: every alarm exists and notifies); use []"),
    ("organization-trail-without-id", "prod", {"organizationTrail": True},
     'spawn-audit:organizationTrail = true needs spawn-audit:organizationId (o-...), which is ""; set it to '
     "the organization's id"),
    ("malformed-organization-id", "prod", {"organizationId": "o-ABC"},
     'spawn-audit:organizationId = "o-ABC" is not an AWS Organizations id; expected o- and 10 to 32 '
     "lowercase letters or digits"),
    ("dynamodb-table-too-short", "prod", {"dataEventDynamodbTables": ["x"]},
     'spawn-audit:dataEventDynamodbTables = ["x"] contains "x", which is not a DynamoDB table name '
     "(3 to 255 of A-Z a-z 0-9 _ . -)"),
    ("lambda-name-with-space", "prod", {"dataEventLambdaFunctions": ["sweep orchestrator"]},
     'spawn-audit:dataEventLambdaFunctions = ["sweep orchestrator"] contains "sweep orchestrator", which is '
     "not a Lambda function name (1 to 64 of A-Z a-z 0-9 _ -)"),
    ("artifact-bucket-uppercase", "prod", {"dataEventS3Buckets": ["Spawn_Artifacts"]},
     'spawn-audit:dataEventS3Buckets = ["Spawn_Artifacts"] contains "Spawn_Artifacts", which is not an S3 '
     "bucket name; use lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"),
    ("artifact-bucket-is-log-bucket", "prod", {"dataEventS3Buckets": ["spawn-audit-logs-123456789012-prod"]},
     'spawn-audit:dataEventS3Buckets = ["spawn-audit-logs-123456789012-prod"] contains this stack\'s own log '
     'bucket "spawn-audit-logs-123456789012-prod"; list only spawn\'s artifact buckets'),
    ("unprotected-evidence-under-hipaa", "prod", {"protectResources": False},
     "spawn-audit:protectResources = false is not allowed under hipaa: pulumi destroy could delete the "
     "trail, its buckets, key and log groups, the audit evidence; use true"),
    ("kms-deletion-window-too-short", "prod", {"kmsDeletionWindowDays": 5},
     "spawn-audit:kmsDeletionWindowDays = 5 is outside the 7 to 30 days AWS KMS accepts; use 7 to 30"),
    ("kms-deletion-window-too-long", "prod", {"kmsDeletionWindowDays": 31},
     "spawn-audit:kmsDeletionWindowDays = 31 is outside the 7 to 30 days AWS KMS accepts; use 7 to 30"),
]


@pytest.mark.parametrize(("stack", "overrides"), [
    ("prod", {}), ("dev", {}), ("prod", PCI_BASELINE), ("prod", SOC2_BASELINE),
    ("prod", {"archiveStorageClass": "STANDARD_IA"}),
], ids=["prod", "dev", "prod-pci-dss", "prod-soc2", "prod-standard-ia"])
def test_baselines_are_accepted(stack: str, overrides: dict[str, Any]) -> None:
    assert ok(stack, overrides).resources


@pytest.mark.parametrize(("stack", "overrides", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_config_fails_before_any_resource(stack: str, overrides: dict[str, Any], message: str) -> None:
    run = run_stack(stack, overrides)
    assert type(run.error).__name__ == "ConfigError", run.error_traceback
    assert str(run.error) == message
    assert run.resources == []


def test_every_problem_is_reported_at_once() -> None:
    run = run_stack("prod", {"encryption": "aes256", "kmsDeletionWindowDays": 5})
    assert str(run.error).splitlines() == [
        'spawn-audit:encryption = "aes256" is not an encryption mode; allowed: kms, sse-s3',
        "spawn-audit:kmsDeletionWindowDays = 5 is outside the 7 to 30 days AWS KMS accepts; use 7 to 30",
    ]
    assert run.resources == []


def test_problems_of_every_concern_are_reported_in_reading_order() -> None:
    # One bad value per concern of the config; the lifecycle day counts are all parsed before any rule
    # about them, so the malformed objectLockRetentionDays comes before archiveRetentionDays' floor.
    run = run_stack("prod", {
        "objectLockRetentionDays": 99999, "archiveRetentionDays": 30, "archiveStorageClass": "glacier",
        "encryption": "aes256", "accessLogging": False, "objectLockMode": "LEGAL_HOLD", "forceDestroy": True,
        "trailName": "ab", "auditorRoleArns": ["x"], "alarmEmails": ["security"], "organizationTrail": True,
        "dataEventS3Buckets": ["UPPER"], "kmsDeletionWindowDays": 5,
    })
    assert type(run.error).__name__ == "ConfigError", run.error_traceback
    assert str(run.error).splitlines() == [
        "spawn-audit:objectLockRetentionDays = 99999 is too large; use at most 36500",
        "spawn-audit:archiveRetentionDays = 30 is below the hipaa floor of 2192 days "
        "(45 CFR 164.316(b)(2)(i)); use 2192 or more, or 0 for the profile default (2555)",
        'spawn-audit:archiveStorageClass = "glacier" is not an S3 archive storage class; '
        "allowed: STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE",
        'spawn-audit:encryption = "aes256" is not an encryption mode; allowed: kms, sse-s3',
        "spawn-audit:accessLogging = false is not allowed under hipaa (access to the audit logs must "
        "itself be logged; hipaa: 45 CFR 164.312(b)); use true",
        'spawn-audit:objectLockMode = "LEGAL_HOLD" is not an S3 Object Lock mode; '
        'allowed: "" (off), GOVERNANCE, COMPLIANCE',
        "spawn-audit:forceDestroy = true is not allowed under hipaa: pulumi destroy would delete "
        "retained audit logs; use false",
        'spawn-audit:trailName = "ab" is 2 characters long; use 3 to 48',
        'spawn-audit:auditorRoleArns = ["x"] contains "x", which is not an IAM role ARN; expected '
        "arn:<partition>:iam::<12-digit account>:role/<name>",
        'spawn-audit:alarmEmails = ["security"] contains "security", which is not an e-mail address '
        "(name@domain)",
        'spawn-audit:organizationTrail = true needs spawn-audit:organizationId (o-...), which is ""; '
        "set it to the organization's id",
        'spawn-audit:dataEventS3Buckets = ["UPPER"] contains "UPPER", which is not an S3 bucket name; use '
        "lowercase letters, digits, '.' and '-', starting and ending with a letter or digit",
        "spawn-audit:kmsDeletionWindowDays = 5 is outside the 7 to 30 days AWS KMS accepts; use 7 to 30",
    ]
    assert run.resources == []


@pytest.mark.parametrize("overrides", [
    {"archiveRetentionDays": 2192},  # exactly the HIPAA floor
    {"logGroupRetentionDays": 2192},  # exactly the log-group minimum under hipaa
    {"objectLockRetentionDays": 2555},  # exactly the expiration day
    {"archiveTransitionDays": 2554},  # the day before expiration
    {**PCI_BASELINE, "archiveTransitionDays": 92},  # the first day after PCI's 3 months
    {**PCI_BASELINE, "archiveStorageClass": "GLACIER_IR", "archiveTransitionDays": 30},  # no restore needed
    {"breakGlassRoleArn": "arn:aws:iam::123456789012:role/audit/BreakGlass"},  # a role with a path
], ids=["hipaa-floor", "log-group-minimum", "lock-at-expiration", "transition-day-before-expiration",
        "pci-day-92", "pci-glacier-ir-early", "role-with-path"])
def test_boundary_values_are_accepted(overrides: dict[str, Any]) -> None:
    assert ok("prod", overrides).resources
