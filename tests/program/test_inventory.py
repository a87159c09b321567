"""The resource inventory of both real stack files, component structure, protect flags, project files."""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections import Counter

import pytest
import yaml
from program_support import ROOT, ok

from offline_preview.runner import ProgramRun

COMMON = {
    "spawn-audit:audit_stack:AuditStack": 1,
    "spawn-audit:log_archive:LogArchive": 1,
    "spawn-audit:log_delivery:LogDelivery": 1,
    "spawn-audit:app_audit_log:AppAuditLog": 1,
    "spawn-audit:trail:AuditTrail": 1,
    "spawn-audit:alarms:SecurityAlarms": 1,
    "spawn-audit:queries:SavedQueries": 1,
    "aws:cloudtrail/trail:Trail": 1,
    "aws:cloudwatch/logGroup:LogGroup": 2,
    "aws:iam/role:Role": 1,
    "aws:iam/rolePolicy:RolePolicy": 1,
    "aws:sns/topic:Topic": 1,
    "aws:sns/topicPolicy:TopicPolicy": 1,
    # 15 CIS filters, spawn-iam-role-change, and two for spawn-unmanaged-launch's metric math.
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": 18,
    "aws:cloudwatch/metricAlarm:MetricAlarm": 17,
    # spawn's three, one per alarm, and the correlation query.
    "aws:cloudwatch/queryDefinition:QueryDefinition": 21,
    # Athena over the archive: the CloudTrail and application-audit tables, one named query per
    # catalog entry; its results bucket is counted with the buckets below.
    "spawn-audit:analytics:AuditAnalytics": 1,
    "aws:glue/catalogDatabase:CatalogDatabase": 1,
    "aws:glue/catalogTable:CatalogTable": 2,
    "aws:athena/workgroup:Workgroup": 1,
    "aws:athena/namedQuery:NamedQuery": 8,
}
DEV = {
    **COMMON,
    # The archive and the Athena results bucket.
    "aws:s3/bucket:Bucket": 2,
    "aws:s3/bucketVersioning:BucketVersioning": 2,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 2,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 2,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 2,
    "aws:s3/bucketPolicy:BucketPolicy": 2,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 2,
}
PROD = {
    **COMMON,
    "spawn-audit:kms:AuditKey": 1,
    "aws:kms/key:Key": 1,
    "aws:kms/alias:Alias": 1,
    # The archive, its access-log bucket and the Athena results bucket.
    "aws:s3/bucket:Bucket": 3,
    "aws:s3/bucketVersioning:BucketVersioning": 3,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 3,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 3,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 3,
    "aws:s3/bucketPolicy:BucketPolicy": 3,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 3,
    "aws:s3/bucketLogging:BucketLogging": 1,
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": 1,
    "aws:sns/topicSubscription:TopicSubscription": 1,
}


def _counts(run: ProgramRun) -> dict[str, int]:
    return dict(Counter(r.type for r in run.resources))


def test_dev_inventory(dev: ProgramRun) -> None:
    assert _counts(dev) == DEV


def test_prod_inventory(prod: ProgramRun) -> None:
    assert _counts(prod) == PROD


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_components_parent_their_children(stack: str) -> None:
    run = ok(stack)
    by_urn = {r.urn: r for r in run.resources}
    for record in run.resources:
        if record.type == "spawn-audit:audit_stack:AuditStack":
            assert record.parent == run.stack_urn
            continue
        parent = by_urn[record.parent]
        assert not parent.custom, record.name
        # Children are named "<parent name>-<role>".
        assert record.name.startswith(parent.name + "-"), (record.name, parent.name)
    for component in (r for r in run.resources if not r.custom):
        assert component.type.startswith("spawn-audit:"), component.type


PROTECTED = {
    "aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:cloudtrail/trail:Trail",
    "aws:cloudwatch/logGroup:LogGroup",
}


def test_prod_protects_the_evidence(prod: ProgramRun) -> None:
    protected = {r.name for r in prod.resources if r.protect}
    # Query results are short-lived copies, not evidence: their bucket is not protected.
    expected = {r.name for r in prod.resources if r.type in PROTECTED} - {"spawn-audit-analytics-results"}
    assert protected == expected
    assert {r.type for r in prod.resources if r.protect} == PROTECTED


def test_dev_protects_nothing_and_may_be_destroyed(dev: ProgramRun) -> None:
    assert [r.name for r in dev.resources if r.protect] == []
    bucket = next(r for r in dev.resources if r.type == "aws:s3/bucket:Bucket")
    assert bucket.inputs["forceDestroy"] is True


def test_prod_buckets_are_never_force_destroyed(prod: ProgramRun) -> None:
    assert [r.inputs["forceDestroy"] for r in prod.by_type("aws:s3/bucket:Bucket")] == [False, False, False]


def _resource_class(type_token: str) -> type:
    """The pulumi_aws class registered for a type token such as aws:s3/bucketPolicy:BucketPolicy."""
    _, module_path, class_name = type_token.split(":")
    return getattr(importlib.import_module(f"pulumi_aws.{module_path.split('/')[0]}"), class_name)


def _deprecated_inputs(type_token: str, inputs: dict) -> list[str]:
    """Top-level inputs whose SDK property carries pulumi-aws's deprecation marker."""
    module = sys.modules[_resource_class(type_token).__module__]
    arg_classes = [c for name, c in vars(module).items()
                   if isinstance(c, type) and name.endswith("Args") and c.__module__ == module.__name__]
    found = []
    for key in inputs:
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
        for arg_class in arg_classes:
            prop = getattr(arg_class, snake, None)
            if isinstance(prop, property) and "_pulumi_deprecated_callable" in vars(prop.fget):
                found.append(key)
    return found


def test_only_current_resource_types_and_no_deprecated_arguments() -> None:
    every_option = {"trailSnsNotification": True, "insights": True, "dataEventS3Buckets": ["spawn-artifacts"],
                    "breakGlassRoleArn": "arn:aws:iam::123456789012:role/BreakGlass"}
    run = ok("prod", every_option)
    for type_ in {r.type for r in run.resources if r.custom}:
        cls = _resource_class(type_)
        assert not cls.__name__.endswith("V2"), type_
        # Deprecated classes (the *V2 names) warn in their class body; current ones never do.
        assert f"{cls.__name__} has been deprecated" not in inspect.getsource(cls), type_
    deprecated = {(r.type, key) for r in run.resources if r.custom
                  for key in _deprecated_inputs(r.type, r.inputs)}
    assert deprecated == set()
    bucket_inputs = {k for r in run.by_type("aws:s3/bucket:Bucket") for k in r.inputs}
    # Inline bucket arguments (versioning, policy, lifecycleRules, ...) are deprecated in v7.
    assert bucket_inputs == {"bucket", "forceDestroy", "tags"}


def test_project_file_is_valid_and_declares_every_key() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "spawn-audit"
    assert project["runtime"]["name"] == "python"
    for key, declaration in project["config"].items():
        # The only types Pulumi's project schema allows; arrays must declare their items.
        assert declaration["type"] in ("string", "integer", "boolean", "array"), key
        assert declaration["type"] != "array" or declaration["items"]["type"] == "string", key
        assert declaration["description"], key
        assert "default" in declaration, key
    source = (ROOT / "components" / "settings.py").read_text()
    read = {k for k in project["config"] if f'"{k}"' in source}
    assert read == set(project["config"])


def test_stack_files_only_set_declared_keys() -> None:
    declared = set(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"])
    for stack in ("dev", "prod"):
        values = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        keys = {k.split(":", 1)[1] for k in values if k.startswith("spawn-audit:")}
        assert keys <= declared, keys - declared
        assert set(values) - {f"spawn-audit:{k}" for k in keys} == {"aws:region"}


def test_configuration_doc_covers_every_key() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    doc = (ROOT / "docs" / "configuration.md").read_text()
    assert [k for k in declared if f"`{k}`" not in doc] == []
