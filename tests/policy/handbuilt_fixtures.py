"""A fully compliant stack, shaped like the inputs pulumi-aws v7 sends for each resource.

Every negative test deep-copies ``compliant_stack()`` and changes one thing. Names are Pulumi logical
names; ``deps`` are property dependencies as the engine records them (input name -> resource names).
"""

from __future__ import annotations

import json

from policy_harness import R
from spawn_compliance import monitoring

ACCOUNT = "111122223333"
REGION = "us-east-1"
BUCKET_NAME = "spawn-audit-logs-111122223333"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
LOG_GROUP_NAME = "/spawn/audit/cloudtrail"
LOG_GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP_NAME}"
ALERT_TOPIC = "spawn-audit-alerts"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/spawn-audit"
AUDITOR_ARN = f"arn:aws:iam::{ACCOUNT}:role/SecurityAuditor"

TRAIL = "aws:cloudtrail/trail:Trail"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"


def tls_policy(bucket_name: str = BUCKET_NAME) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSCloudTrailWrite", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{bucket_name}/AWSLogs/{ACCOUNT}/*",
             "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}},
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [f"arn:aws:s3:::{bucket_name}", f"arn:aws:s3:::{bucket_name}/*"],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "DenyLogReadsExceptAuditors", "Effect": "Deny", "Principal": "*",
             "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": f"arn:aws:s3:::{bucket_name}/*",
             "Condition": {"ArnNotLike": {"aws:PrincipalArn": [AUDITOR_ARN]},
                           "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}},
        ],
    })


def trail_props() -> dict:
    return {
        "name": "spawn-audit",
        "s3BucketName": BUCKET_NAME,
        "isMultiRegionTrail": True,
        "includeGlobalServiceEvents": True,
        "enableLogFileValidation": True,
        "enableLogging": True,
        "kmsKeyId": KEY_ARN,
        "cloudWatchLogsGroupArn": f"{LOG_GROUP_ARN}:*",
        "cloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/spawn-audit-cloudtrail-logs",
        "snsTopicName": "spawn-audit-delivery",
        "advancedEventSelectors": [
            {"name": "Management events (read and write)",
             "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]},
            {"name": "S3 data events",
             "fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]},
                                {"field": "resources.type", "equals": ["AWS::S3::Object"]}]},
        ],
        "tags": {"owner": "security"},
    }


def bucket_resources() -> list[R]:
    on_bucket = {"bucket": ["archive"]}
    return [
        R(BUCKET, "archive",
          {"bucket": BUCKET_NAME, "objectLockEnabled": True, "tags": {"owner": "security"}}, protect=True),
        R("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "archive-pab",
          {"bucket": BUCKET_NAME, "blockPublicAcls": True, "blockPublicPolicy": True,
           "ignorePublicAcls": True, "restrictPublicBuckets": True}, on_bucket),
        R("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          "archive-sse",
          {"bucket": BUCKET_NAME, "rules": [{"applyServerSideEncryptionByDefault": {
              "sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}, "bucketKeyEnabled": True}]},
          {"bucket": ["archive"], "rules": ["key"]}),
        R("aws:s3/bucketVersioning:BucketVersioning", "archive-versioning",
          # No mfaDelete: S3 does not support lifecycle rules on MFA Delete-enabled buckets.
          {"bucket": BUCKET_NAME, "versioningConfiguration": {"status": "Enabled"}},
          on_bucket),
        R("aws:s3/bucketPolicy:BucketPolicy", "archive-policy",
          {"bucket": BUCKET_NAME, "policy": tls_policy()}, on_bucket),
        R("aws:s3/bucketLogging:BucketLogging", "archive-logging",
          {"bucket": BUCKET_NAME, "targetBucket": "spawn-audit-access-logs", "targetPrefix": "archive/"},
          on_bucket),
        R("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "archive-ownership",
          {"bucket": BUCKET_NAME, "rule": {"objectOwnership": "BucketOwnerEnforced"}}, on_bucket),
        R("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "archive-lifecycle",
          {"bucket": BUCKET_NAME, "rules": [{
              "id": "archive", "status": "Enabled", "filter": {},
              "transitions": [{"days": 92, "storageClass": "GLACIER"}],
              "expiration": {"days": 2555},
              "noncurrentVersionExpiration": {"noncurrentDays": 2555},
          }]}, on_bucket),
        R("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "archive-object-lock",
          {"bucket": BUCKET_NAME, "objectLockEnabled": "Enabled",
           "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 365}}}, on_bucket),
    ]


def monitoring_resources() -> list[R]:
    resources = [
        R(TOPIC, "alerts", {"name": ALERT_TOPIC, "kmsMasterKeyId": KEY_ARN}, {"kmsMasterKeyId": ["key"]}),
        R(SUBSCRIPTION, "alerts-email", {"topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{ALERT_TOPIC}",
                                         "protocol": "email", "endpoint": "security@example.com"},
          {"topic": ["alerts"]}),
    ]
    for control in monitoring.ALL_CONTROLS:
        resources.append(R(FILTER, f"filter-{control.key}", {
            "name": control.metric_name, "logGroupName": LOG_GROUP_NAME, "pattern": control.filter_pattern,
            "metricTransformation": {"name": control.metric_name, "namespace": monitoring.METRIC_NAMESPACE,
                                     "value": "1"},
        }, {"logGroupName": ["log-group"]}))
        resources.append(R(ALARM, f"alarm-{control.key}", {
            "name": control.metric_name, "metricName": control.metric_name,
            "namespace": monitoring.METRIC_NAMESPACE, "statistic": "Sum", "period": 300,
            "evaluationPeriods": 1, "threshold": control.threshold,
            "comparisonOperator": "GreaterThanOrEqualToThreshold",
            "alarmActions": [f"arn:aws:sns:{REGION}:{ACCOUNT}:{ALERT_TOPIC}"],
        }, {"alarmActions": ["alerts"]}))
    return resources


def compliant_stack() -> list[R]:
    return [
        R(KEY, "key", {"description": "spawn-audit", "enableKeyRotation": True,
                       "customerMasterKeySpec": "SYMMETRIC_DEFAULT", "keyUsage": "ENCRYPT_DECRYPT"},
          protect=True),
        *bucket_resources(),
        R(LOG_GROUP, "log-group", {"name": LOG_GROUP_NAME, "retentionInDays": 2557, "kmsKeyId": KEY_ARN,
                                   "deletionProtectionEnabled": True},
          {"kmsKeyId": ["key"]}, protect=True),
        R(TOPIC, "delivery", {"name": "spawn-audit-delivery", "kmsMasterKeyId": KEY_ARN},
          {"kmsMasterKeyId": ["key"]}),
        R(TRAIL, "trail", trail_props(),
          {"s3BucketName": ["archive"], "kmsKeyId": ["key"], "snsTopicName": ["delivery"]}, protect=True),
        *monitoring_resources(),
    ]


def find(resources: list[R], name: str) -> R:
    return next(r for r in resources if r.name == name)
