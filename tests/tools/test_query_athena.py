"""``query --athena`` against a local AWS API stand-in (moto's server on 127.0.0.1, started here).

What moto reproduces: the Athena API's request and response shapes, workgroups, query executions
(which record the query string, database, workgroup and execution parameters) and
``GetQueryResults``. What it does not: it never executes SQL (results are the rows the test
queues through moto's own API), it ignores the workgroup's enforced configuration, encryption and
bytes-scanned cutoff, it has no Glue partition projection, and it returns every row in one page
(pagination and failed executions are therefore checked with botocore's Stubber, which validates
requests and responses against the Athena service model). No Glue call is made by the tool.
"""

from __future__ import annotations

import json
import urllib.request

import boto3
import cloudtrail_archive as ca
import pytest
from botocore.stub import Stubber

from spawn_audit import athena, catalog
from spawn_audit.__main__ import main

REGION = "us-east-1"
WORKGROUP = "spawn-audit"
DATABASE = "spawn_audit"


@pytest.fixture
def aws_env(moto_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = boto3.client("athena", region_name=REGION, endpoint_url=moto_endpoint)
    if WORKGROUP not in [w["Name"] for w in client.list_work_groups()["WorkGroups"]]:
        client.create_work_group(Name=WORKGROUP, Configuration={
            "EnforceWorkGroupConfiguration": True,
            "ResultConfiguration": {"OutputLocation": "s3://spawn-audit-logs-athena-123456789012-prod/r/"},
        })
    return moto_endpoint, client


def _queue(endpoint: str, columns: list[tuple[str, str]], rows: list[list[str | None]]) -> None:
    header = {"Data": [{"VarCharValue": name} for name, _ in columns]}
    data = [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows]
    body = {"account_id": "123456789012", "region": REGION, "results": [{
        "rows": [header, *data],
        "column_info": [{"Name": n, "Label": n, "Type": t, "Nullable": "UNKNOWN", "CaseSensitive": True}
                        for n, t in columns],
    }]}
    request = urllib.request.Request(f"{endpoint}/moto-api/static/athena/query-results",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def test_athena_prints_the_same_json_as_the_local_engine(aws_env, capsys, tmp_path):
    """The rows Athena would return (queued in moto as Athena's strings) print exactly as locally."""
    endpoint, client = aws_env
    arc = ca.generate(tmp_path / "logs", events_per_file=30, files_per_day=1, days=ca.DAYS[:2])
    window = ["--start", "2026-01-26", "--end", "2026-01-27", "--region", "eu-west-1", "--format", "json"]
    assert main(["query", "launches-by-user", "--logs", str(arc.root), *window]) == 0
    local = capsys.readouterr().out
    rows = json.loads(local)
    assert rows
    _queue(endpoint, [("user_arn", "varchar"), ("launches", "bigint")],
           [[r["user_arn"], str(r["launches"])] for r in rows])
    assert main(["query", "launches-by-user", "--athena", "--workgroup", WORKGROUP, "--database", DATABASE,
                 *window]) == 0
    assert capsys.readouterr().out == local
    # What the server received: the catalog's SQL unchanged, bound to the workgroup and database.
    execution_id = client.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"][-1]
    execution = client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    assert execution["Query"] == catalog.load()["launches-by-user"].sql
    assert execution["QueryExecutionContext"]["Database"] == DATABASE
    assert execution["WorkGroup"] == WORKGROUP
    assert execution["ExecutionParameters"] == ["'2026/01/26'", "'2026/01/27'", "'%'", "'eu-west-1'"]


def test_athena_csv_keeps_nulls_empty(aws_env, capsys):
    endpoint, _ = aws_env
    _queue(endpoint, [("eventtime", "varchar"), ("errorcode", "varchar")],
           [["2026-01-26T00:00:00Z", None]])
    assert main(["query", "root-activity", "--athena", "--workgroup", WORKGROUP, "--database", DATABASE,
                 "--format", "csv"]) == 0
    assert capsys.readouterr().out == "eventtime,errorcode\n2026-01-26T00:00:00Z,\n"


def test_user_parameter_is_quoted_as_a_literal(aws_env, capsys):
    endpoint, client = aws_env
    _queue(endpoint, [("eventtime", "varchar")], [])
    user = "arn:aws:iam::123456789012:user/o'brien"
    assert main(["query", "user-operations", "--athena", "--workgroup", WORKGROUP, "--database", DATABASE,
                 "--user", user, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    execution_id = client.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"][-1]
    execution = client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    params = execution["ExecutionParameters"]
    assert params[-1] == "'arn:aws:iam::123456789012:user/o''brien'"


# --- what moto does not reproduce: pages, failures (botocore's Stubber checks the shapes) -----------


def _stubbed():
    client = boto3.client("athena", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def _execution(state: str, reason: str | None = None) -> dict:
    status = {"State": state}
    if reason:
        status["StateChangeReason"] = reason
    return {"QueryExecution": {"QueryExecutionId": "q-1", "Status": status,
                               "Statistics": {"DataScannedInBytes": 1024}}}


def test_results_are_read_across_pages():
    client, stub = _stubbed()
    query = catalog.load()["launches-by-user"]
    params = dict(catalog.COMMON_DEFAULTS)
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"}, {
        "QueryString": query.sql, "QueryExecutionContext": {"Database": DATABASE}, "WorkGroup": WORKGROUP,
        "ExecutionParameters": ["'0000/00/00'", "'9999/99/99'", "'%'", "'%'"]})
    stub.add_response("get_query_execution", _execution("RUNNING"), {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", _execution("SUCCEEDED"), {"QueryExecutionId": "q-1"})
    info = [{"Name": "user_arn", "Type": "varchar"}, {"Name": "launches", "Type": "bigint"}]
    stub.add_response("get_query_results", {"ResultSet": {
        "ResultSetMetadata": {"ColumnInfo": info},
        "Rows": [{"Data": [{"VarCharValue": "user_arn"}, {"VarCharValue": "launches"}]},
                 {"Data": [{"VarCharValue": "a"}, {"VarCharValue": "5"}]}]}, "NextToken": "t2"},
        {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_results", {"ResultSet": {
        "ResultSetMetadata": {"ColumnInfo": info},
        "Rows": [{"Data": [{"VarCharValue": "b"}, {"VarCharValue": "2"}]}]}},
        {"QueryExecutionId": "q-1", "NextToken": "t2"})
    with stub:
        columns, rows, stats = athena.run(query, params, workgroup=WORKGROUP, database=DATABASE,
                                          client=client, poll_seconds=0)
    stub.assert_no_pending_responses()
    assert (columns, rows) == (["user_arn", "launches"], [("a", 5), ("b", 2)])
    assert stats == {"DataScannedInBytes": 1024}


def test_failed_execution_is_an_error(monkeypatch, capsys):
    client, stub = _stubbed()
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", _execution(
        "FAILED", "Query exhausted resources: bytes scanned limit exceeded"), {"QueryExecutionId": "q-1"})
    monkeypatch.setattr(athena.boto3, "client", lambda *a, **k: client)
    with stub:
        code = main(["query", "launches-by-user", "--athena", "--workgroup", WORKGROUP,
                     "--database", DATABASE])
    assert code == 2
    assert capsys.readouterr().err == ("error: athena: query q-1 FAILED: Query exhausted resources: bytes "
                                       "scanned limit exceeded\n")


def test_no_region_is_one_error_line(monkeypatch, tmp_path, capsys):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    code = main(["query", "launches-by-user", "--athena", "--workgroup", WORKGROUP, "--database", DATABASE])
    assert code == 2
    assert capsys.readouterr().err == ("error: athena: You must specify a region. (give --aws-region REGION "
                                       "or set AWS_REGION)\n")
