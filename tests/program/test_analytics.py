"""The recorded stacks' Athena analytics: table with projection, workgroup, results bucket, named queries."""

from __future__ import annotations

from typing import Any

import pytest
from program_support import ACCOUNT, ok, one, run_stack, statements

from offline_preview.runner import ProgramRun
from spawn_audit import catalog
from spawn_audit.catalog import schema

TABLE = "aws:glue/catalogTable:CatalogTable"
WORKGROUP = "aws:athena/workgroup:Workgroup"
NAMED_QUERY = "aws:athena/namedQuery:NamedQuery"
ARCHIVE = f"spawn-audit-logs-{ACCOUNT}-prod"
RESULTS = f"spawn-audit-logs-athena-{ACCOUNT}-prod"
ORG = {"organizationTrail": True, "organizationId": "o-a1b2c3d4e5"}


def _table(run: ProgramRun) -> dict[str, Any]:
    return one(run, TABLE, "spawn-audit-analytics-cloudtrail-table").inputs


def test_cloudtrail_table_is_awss_definition_with_projection(prod: ProgramRun) -> None:
    table = _table(prod)
    assert (table["name"], table["databaseName"], table["tableType"]) == \
        ("cloudtrail_logs", "spawn_audit", "EXTERNAL_TABLE")
    sd = table["storageDescriptor"]
    assert sd["location"] == f"s3://{ARCHIVE}/AWSLogs/"
    assert sd["inputFormat"] == "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
    assert sd["outputFormat"] == "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
    assert sd["serDeInfo"] == {"serializationLibrary": "org.apache.hive.serde2.JsonSerDe"}
    columns = {c["name"]: c["type"] for c in sd["columns"]}
    for name in ("requestparameters", "responseelements", "additionaleventdata", "eventname", "eventtime"):
        assert columns[name] == "string"
    assert columns["useridentity"].startswith("struct<type:string,principalid:string,arn:string,")
    assert columns["resources"] == "array<struct<arn:string,accountid:string,type:string>>"
    assert [k["name"] for k in table["partitionKeys"]] == ["account", "region", "day"]
    p = table["parameters"]
    assert p["projection.enabled"] == "true"
    assert (p["projection.account.type"], p["projection.account.values"]) == ("enum", ACCOUNT)
    regions = p["projection.region.values"].split(",")
    assert p["projection.region.type"] == "enum" and "us-east-1" in regions
    assert all(" " not in v for k, v in p.items() if k.startswith("projection."))
    assert (p["projection.day.type"], p["projection.day.format"], p["projection.day.range"]) == \
        ("date", "yyyy/MM/dd", "2013/11/01,NOW")
    assert p["storage.location.template"] == \
        f"s3://{ARCHIVE}/AWSLogs/${{account}}/CloudTrail/${{region}}/${{day}}/"
    assert p["read_restored_glacier_objects"] == "true"
    assert not prod.by_type("aws:glue/crawler:Crawler")


def test_organization_trail_projects_member_accounts_under_the_org_prefix() -> None:
    run = ok("prod", {**ORG, "analyticsAccountIds": ["111122223333", "444455556666"]})
    table = _table(run)
    assert table["storageDescriptor"]["location"] == f"s3://{ARCHIVE}/AWSLogs/o-a1b2c3d4e5/"
    assert table["parameters"]["storage.location.template"] == \
        f"s3://{ARCHIVE}/AWSLogs/o-a1b2c3d4e5/${{account}}/CloudTrail/${{region}}/${{day}}/"
    assert table["parameters"]["projection.account.values"] == "111122223333,444455556666"


def test_explicit_regions_are_projected() -> None:
    table = _table(ok("prod", {"analyticsRegions": ["us-east-1", "eu-west-1"]}))
    assert table["parameters"]["projection.region.values"] == "us-east-1,eu-west-1"


def test_workgroup_is_enforced_encrypted_and_capped(prod: ProgramRun) -> None:
    wg = one(prod, WORKGROUP).inputs
    assert (wg["name"], wg["state"]) == ("spawn-audit", "ENABLED")
    config = wg["configuration"]
    assert config["enforceWorkgroupConfiguration"] is True
    assert config["publishCloudwatchMetricsEnabled"] is True
    assert config["engineVersion"] == {"selectedEngineVersion": "Athena engine version 3"}
    assert config["bytesScannedCutoffPerQuery"] == 100 * 1024**3
    result = config["resultConfiguration"]
    assert result["outputLocation"] == f"s3://{RESULTS}/athena-results/"
    assert result["expectedBucketOwner"] == ACCOUNT
    assert result["encryptionConfiguration"] == {
        "encryptionOption": "SSE_KMS", "kmsKeyArn": f"arn:aws:mock:us-east-1:{ACCOUNT}:spawn-audit-kms-key"}


def test_dev_workgroup_uses_sse_s3(dev: ProgramRun) -> None:
    encryption = one(dev, WORKGROUP).inputs["configuration"]["resultConfiguration"]["encryptionConfiguration"]
    assert encryption == {"encryptionOption": "SSE_S3"}


def test_cutoff_follows_config() -> None:
    wg = one(ok("prod", {"analyticsBytesScannedCutoffGb": 1}), WORKGROUP).inputs
    assert wg["configuration"]["bytesScannedCutoffPerQuery"] == 1024**3


def test_results_bucket_has_the_archives_protections(prod: ProgramRun) -> None:
    name = "spawn-audit-analytics-results"
    assert one(prod, "aws:s3/bucket:Bucket", name).inputs["bucket"] == RESULTS
    assert one(prod, "aws:s3/bucketVersioning:BucketVersioning", f"{name}-versioning").inputs[
        "versioningConfiguration"] == {"status": "Enabled"}
    sse = one(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              f"{name}-encryption").inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse["sseAlgorithm"] == "aws:kms"
    pab = one(prod, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
              f"{name}-public-access-block").inputs
    assert all(pab[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                        "restrictPublicBuckets"))
    ownership = one(prod, "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
                    f"{name}-ownership").inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    tls = statements(one(prod, "aws:s3/bucketPolicy:BucketPolicy", f"{name}-policy"))["DenyInsecureTransport"]
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} and tls["Effect"] == "Deny"
    rule = one(prod, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
               f"{name}-lifecycle").inputs["rules"][0]
    assert (rule["expiration"], rule["noncurrentVersionExpiration"]) == ({"days": 7}, {"noncurrentDays": 7})


def test_one_named_query_per_catalog_entry(prod: ProgramRun) -> None:
    queries = {r.inputs["name"]: r.inputs for r in prod.by_type(NAMED_QUERY)}
    entries = catalog.load()
    assert set(queries) == set(entries)
    for name, inputs in queries.items():
        assert inputs["query"] == entries[name].sql
        assert (inputs["workgroup"], inputs["database"]) == ("spawn-audit", "spawn_audit")
        assert inputs["description"] == entries[name].description
        assert "day BETWEEN ? AND ?" in inputs["query"]


def test_app_audit_table(prod: ProgramRun) -> None:
    table = one(prod, TABLE, "spawn-audit-analytics-app-audit-table").inputs
    assert table["name"] == "spawn_app_audit"
    assert table["storageDescriptor"]["location"] == f"s3://{ARCHIVE}/spawn-app-audit/"
    columns = [c["name"] for c in table["storageDescriptor"]["columns"]]
    assert columns == [f.name for f in schema.APP_AUDIT_COLUMNS]


def test_analytics_can_be_switched_off() -> None:
    run = ok("prod", {"analyticsEnabled": False})
    assert not [r for r in run.resources if r.type.startswith(("aws:athena", "aws:glue"))
                or r.type == "spawn-audit:analytics:AuditAnalytics"]
    assert len(run.by_type("aws:s3/bucket:Bucket")) == 2
    assert (run.outputs["athenaWorkgroupName"], run.outputs["athenaDatabaseName"],
            run.outputs["athenaResultsBucketName"]) == ("", "", "")


def _warnings(overrides: dict[str, Any]) -> list[tuple[str, str]]:
    """The program's Athena warnings, as the run recorded them (level, message)."""
    run = ok("prod", overrides)
    return [(level, m) for level, m in run.logs if "Athena skips" in m]


def test_glacier_archive_warns_that_athena_skips_old_logs() -> None:
    assert _warnings({}) == [("warning",
        "spawn-audit:archiveStorageClass is GLACIER: Athena skips objects in that class, so analytics "
        "queries see only the newest 90 days of logs (Athena User Guide, \"Query restored Amazon S3 "
        "Glacier objects\"); restore older days before querying them, or use GLACIER_IR, which Athena reads")]


@pytest.mark.parametrize("overrides", [{"archiveStorageClass": "GLACIER_IR"}, {"analyticsEnabled": False}])
def test_no_warning_when_athena_reads_the_archive_or_analytics_is_off(overrides: dict[str, Any]) -> None:
    assert _warnings(overrides) == []


def test_glue_names_follow_awss_rules() -> None:
    run = ok("prod", {"trailName": "Spawn_Audit-2"})
    assert one(run, "aws:glue/catalogDatabase:CatalogDatabase").inputs["name"] == "spawn_audit_2"
    assert one(run, WORKGROUP).inputs["name"] == "Spawn_Audit-2"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"analyticsRegions": ["eu-west-1"]},
     'spawn-audit:analyticsRegions = ["eu-west-1"] lacks "us-east-1", where CloudTrail writes IAM\'s and '
     "other global services' events; add it"),
    ({"analyticsRegions": ["us-east-1", "eu west-1"]},
     'spawn-audit:analyticsRegions = ["us-east-1", "eu west-1"] contains "eu west-1", which is not a region '
     "name (e.g. eu-west-1; no spaces)"),
    ({"analyticsBytesScannedCutoffGb": 0},
     "spawn-audit:analyticsBytesScannedCutoffGb = 0 is outside 1 to 1000000; use a whole number of GB in "
     "that range"),
    ({"analyticsResultRetentionDays": 365},
     "spawn-audit:analyticsResultRetentionDays = 365 is outside 1 to 90 days; query results are copies of "
     "log data and should not outlive their use"),
    ({"analyticsAccountIds": ["111122223333"]},
     'spawn-audit:analyticsAccountIds = ["111122223333"] is for an organization trail\'s member accounts, '
     "but spawn-audit:organizationTrail is false; use []"),
    ({**ORG, "analyticsAccountIds": ["1111"]},
     'spawn-audit:analyticsAccountIds = ["1111"] contains "1111", which is not a 12-digit account id'),
], ids=["no-us-east-1", "space", "cutoff-zero", "results-too-long", "accounts-without-org", "bad-account"])
def test_bad_analytics_config_fails_before_any_resource(overrides: dict[str, Any], message: str) -> None:
    run = run_stack("prod", overrides)
    assert type(run.error).__name__ == "ConfigError", run.error_traceback
    assert str(run.error) == message
    assert run.resources == []
