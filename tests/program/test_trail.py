"""The trail: flags that are never off, CloudWatch Logs wiring, selectors, options and ordering."""

from __future__ import annotations

from program_support import ACCOUNT, ok, one

from offline_preview.runner import ProgramRun

TRAIL = "aws:cloudtrail/trail:Trail"


def test_secure_flags_are_always_on(dev: ProgramRun, prod: ProgramRun) -> None:
    for run in (dev, prod):
        trail = one(run, TRAIL).inputs
        assert (trail["isMultiRegionTrail"], trail["includeGlobalServiceEvents"],
                trail["enableLogFileValidation"], trail["enableLogging"]) == (True, True, True, True)
        assert trail["isOrganizationTrail"] is False
        assert "eventSelectors" not in trail  # advanced selectors only; AWS refuses both at once


def test_trail_writes_to_the_archive_with_the_key(prod: ProgramRun) -> None:
    trail = one(prod, TRAIL).inputs
    assert trail["name"] == "spawn-audit"
    assert trail["s3BucketName"] == f"spawn-audit-logs-{ACCOUNT}-prod"
    assert trail["kmsKeyId"] == f"arn:aws:mock:us-east-1:{ACCOUNT}:spawn-audit-kms-key"
    assert "kmsKeyId" not in one(ok("dev"), TRAIL).inputs


def test_cloudwatch_logs_group_arn_has_the_star_suffix_and_names_the_group(prod: ProgramRun) -> None:
    trail = one(prod, TRAIL).inputs
    group = one(prod, "aws:cloudwatch/logGroup:LogGroup", "spawn-audit-delivery-log-group").inputs["name"]
    assert trail["cloudWatchLogsGroupArn"] == f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:*"
    role = one(prod, "aws:iam/role:Role").inputs["name"]
    assert trail["cloudWatchLogsRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{role}"


def test_trail_depends_on_bucket_policy_key_role_policy_and_log_group(prod: ProgramRun) -> None:
    trail = one(prod, TRAIL)
    for type_, name in [
        ("aws:s3/bucketPolicy:BucketPolicy", "spawn-audit-archive-bucket-policy"),
        ("aws:kms/key:Key", "spawn-audit-kms-key"),
        ("aws:iam/rolePolicy:RolePolicy", "spawn-audit-delivery-role-policy"),
        ("aws:cloudwatch/logGroup:LogGroup", "spawn-audit-delivery-log-group"),
    ]:
        assert one(prod, type_, name).urn in trail.dependencies, name


def test_advanced_event_selectors(prod: ProgramRun) -> None:
    selectors = one(prod, TRAIL).inputs["advancedEventSelectors"]
    assert selectors == [
        {"name": "Management events (read and write)",
         "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]},
        {"name": "spawn DynamoDB tables (data events)", "fieldSelectors": [
            {"field": "eventCategory", "equals": ["Data"]},
            {"field": "resources.type", "equals": ["AWS::DynamoDB::Table"]},
            {"field": "resources.ARN",
             "equals": [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/spawn-sweeps"]},
        ]},
        {"name": "spawn Lambda functions (data events)", "fieldSelectors": [
            {"field": "eventCategory", "equals": ["Data"]},
            {"field": "resources.type", "equals": ["AWS::Lambda::Function"]},
            {"field": "resources.ARN",
             "equals": [f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:sweep-orchestrator"]},
        ]},
    ]


def test_s3_artifact_selector_and_no_data_selectors_when_none_configured() -> None:
    run = ok("prod", {"dataEventS3Buckets": ["spawn-artifacts", "spawn-results"]})
    s3 = one(run, TRAIL).inputs["advancedEventSelectors"][-1]
    assert s3["fieldSelectors"] == [
        {"field": "eventCategory", "equals": ["Data"]},
        {"field": "resources.type", "equals": ["AWS::S3::Object"]},
        # The engine name is startsWiths (the provider's schema pluralises list fields).
        {"field": "resources.ARN",
         "startsWiths": ["arn:aws:s3:::spawn-artifacts/", "arn:aws:s3:::spawn-results/"]},
    ]
    bare = ok("prod", {"dataEventDynamodbTables": [], "dataEventLambdaFunctions": []})
    assert [s["name"] for s in one(bare, TRAIL).inputs["advancedEventSelectors"]] == \
        ["Management events (read and write)"]


def test_insights_and_organization_trail_options() -> None:
    trail = one(ok("prod", {"insights": True}), TRAIL).inputs
    assert trail["insightSelectors"] == [{"insightType": "ApiCallRateInsight"},
                                         {"insightType": "ApiErrorRateInsight"}]
    assert "insightSelectors" not in one(ok("prod"), TRAIL).inputs
    org = one(ok("prod", {"organizationTrail": True, "organizationId": "o-a1b2c3d4e5"}), TRAIL).inputs
    assert org["isOrganizationTrail"] is True


def test_sns_delivery_notification_topic() -> None:
    run = ok("prod", {"trailSnsNotification": True})
    trail = one(run, TRAIL)
    assert trail.inputs["snsTopicName"] == "spawn-audit-log-delivery"
    topic = one(run, "aws:sns/topic:Topic", "spawn-audit-trail-delivery-topic")
    assert topic.inputs["name"] == "spawn-audit-log-delivery"
    assert topic.inputs["kmsMasterKeyId"] == f"arn:aws:mock:us-east-1:{ACCOUNT}:spawn-audit-kms-key"
    policy = one(run, "aws:sns/topicPolicy:TopicPolicy", "spawn-audit-trail-delivery-topic-policy")
    assert policy.urn in trail.dependencies
    assert "snsTopicName" not in one(ok("prod"), TRAIL).inputs
