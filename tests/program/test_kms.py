"""The KMS key: rotation, alias, and the key policy translated from AWS's CloudTrail documentation."""

from __future__ import annotations

from program_support import ACCOUNT, ok, one, statements

from offline_preview.runner import ProgramRun

KEY = "aws:kms/key:Key"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/spawn-audit"


def test_key_rotates_and_has_an_alias(prod: ProgramRun) -> None:
    key = one(prod, KEY).inputs
    assert key["enableKeyRotation"] is True
    assert key["deletionWindowInDays"] == 30
    alias = one(prod, "aws:kms/alias:Alias").inputs
    assert alias["name"] == "alias/spawn-audit"
    assert alias["targetKeyId"] == f"arn:aws:mock:us-east-1:{ACCOUNT}:spawn-audit-kms-key"  # the mock's ARN


def test_no_key_without_kms(dev: ProgramRun) -> None:
    assert dev.by_type(KEY) == []
    assert dev.outputs["kmsKeyArn"] == ""


def test_key_policy(prod: ProgramRun) -> None:
    policy = statements(one(prod, KEY))
    assert list(policy) == ["EnableIAMUserPermissions", "AllowCloudTrailEncryptLogs",
                            "AllowCloudTrailDescribeKey", "AllowCloudWatchLogsUse",
                            "AllowCloudWatchAlarmsUse", "AllowAuditorDecrypt"]
    assert policy["EnableIAMUserPermissions"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    encrypt = policy["AllowCloudTrailEncryptLogs"]
    assert (encrypt["Principal"], encrypt["Action"]) == ({"Service": "cloudtrail.amazonaws.com"},
                                                         "kms:GenerateDataKey*")
    assert encrypt["Condition"] == {
        "StringEquals": {"aws:SourceArn": TRAIL_ARN},
        "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"},
    }
    assert policy["AllowCloudTrailDescribeKey"]["Action"] == "kms:DescribeKey"
    logs = policy["AllowCloudWatchLogsUse"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": [
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/cloudtrail/spawn",
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/spawn/audit",
    ]}}
    alarms = policy["AllowCloudWatchAlarmsUse"]
    assert (alarms["Principal"], alarms["Action"]) == ({"Service": "cloudwatch.amazonaws.com"},
                                                       ["kms:Decrypt", "kms:GenerateDataKey*"])
    auditors = policy["AllowAuditorDecrypt"]
    assert auditors["Principal"] == {"AWS": ["arn:aws:iam::123456789012:role/SecurityAuditor"]}


# --- each least-privilege statement against the AWS statement it is translated from ---------------------

# AWS CloudTrail User Guide, "Default KMS key policy created in CloudTrail console"
# (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/default-kms-key-policy.html), statement
# "Allow principals in the account to decrypt log files" (account 111111111111 in AWS's text).
AWS_DECRYPT_LOG_FILES = {
    "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
    "Resource": "*",
    "Condition": {"StringEquals": {"kms:CallerAccount": "111111111111"},
                  "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                                 "arn:aws:cloudtrail:*:111111111111:trail/*"}},
}

# Amazon SNS Developer Guide, "Enable compatibility between event sources from AWS services and encrypted
# topics" (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html), the CloudWatch statement.
AWS_CLOUDWATCH_ENCRYPTED_TOPIC = {
    "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
}


def _for_account(value):
    """AWS's example account id replaced by the stack's."""
    import json

    return json.loads(json.dumps(value).replace("111111111111", ACCOUNT))


def test_auditor_decrypt_keeps_awss_encryption_context_and_names_the_auditors(prod: ProgramRun) -> None:
    ours = statements(one(prod, KEY))["AllowAuditorDecrypt"]
    reference = _for_account(AWS_DECRYPT_LOG_FILES)
    # Same effect, actions, resource and CloudTrail encryption-context condition; the principal narrowed
    # from every principal of the account to the auditor roles, and S3 the only way in.
    assert {k: ours[k] for k in ("Effect", "Action", "Resource")} == \
        {k: reference[k] for k in ("Effect", "Action", "Resource")}
    assert ours["Condition"]["StringLike"] == reference["Condition"]["StringLike"]
    assert ours["Condition"]["StringEquals"] == {**reference["Condition"]["StringEquals"],
                                                 "kms:ViaService": "s3.us-east-1.amazonaws.com"}
    assert ours["Principal"] == {"AWS": ["arn:aws:iam::123456789012:role/SecurityAuditor"]}


def test_cloudwatch_alarm_grant_is_awss_statement_limited_to_this_accounts_alarms(prod: ProgramRun) -> None:
    ours = statements(one(prod, KEY))["AllowCloudWatchAlarmsUse"]
    assert {k: v for k, v in ours.items() if k not in ("Sid", "Condition")} == AWS_CLOUDWATCH_ENCRYPTED_TOPIC
    assert ours["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:*"},
    }


def test_key_policy_follows_options() -> None:
    policy = statements(one(ok("prod", {"trailSnsNotification": True, "auditorRoleArns": [],
                                        "appAuditLogGroup": False}), KEY))
    assert "AllowAuditorDecrypt" not in policy
    assert policy["AllowCloudTrailSnsNotifications"]["Condition"] == {
        "StringEquals": {"aws:SourceArn": TRAIL_ARN}}
    groups = policy["AllowCloudWatchLogsUse"]["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert groups == [f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/cloudtrail/spawn"]


def test_key_policy_uses_the_configured_region() -> None:
    policy = statements(one(ok("prod", {"aws:region": "eu-west-1"}), KEY))
    assert policy["AllowCloudWatchLogsUse"]["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert policy["AllowCloudTrailEncryptLogs"]["Condition"]["StringEquals"] == {
        "aws:SourceArn": f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/spawn-audit"}
