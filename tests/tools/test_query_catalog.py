"""Every catalog query, run by DuckDB over a generated archive, equals a plain-Python computation.

The expected rows are computed from the generated events themselves (no SQL, no DuckDB), with the
partition (account, region, day) each event's file was written under. The archive holds a file
above DuckDB's 16 MB object limit, an organisation-trail prefix, digest files and lowercase
look-alike keys.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import cloudtrail_archive as ca
import pytest

from spawn_audit import catalog, localdb
from spawn_audit.__main__ import main
from spawn_audit.catalog import schema

QUERIES = catalog.load()
BIG_DAY = ca.DAYS[1]  # the padded file's day
USER = ca.USERS[0]


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> ca.Archive:
    root = tmp_path_factory.mktemp("archive")
    arc = ca.generate(root / "logs", big_file_bytes=17 * 1024 * 1024)
    ca.write_app_log(arc, root / "app-audit.jsonl")
    return arc


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


# --- the independent computation ------------------------------------------------------------------


def _in(part: dict, start: str, end: str, account: str | None = None, region: str | None = None) -> bool:
    return (start <= part["day"] <= end and (account is None or part["account"] == account)
            and (region is None or part["region"] == region))


def _events(archive: ca.Archive, start="0000/00/00", end="9999/99/99", account=None, region=None):
    return [e for part, e in archive.events if _in(part, start, end, account, region)]


def _managed(e: dict) -> bool:
    specs = ((e.get("requestParameters") or {}).get("tagSpecificationSet") or {}).get("items") or []
    return any(tag.get("key") == "spawn:managed" for spec in specs for tag in spec.get("tags") or [])


def _launch(e: dict) -> bool:
    return e.get("eventSource") == "ec2.amazonaws.com" and e.get("eventName") == "RunInstances"


def _arn(e: dict) -> str | None:
    return (e.get("userIdentity") or {}).get("arn")


def _by_time(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda r: (r[0], r[-1]))


def expected(name: str, archive: ca.Archive, **where) -> list[tuple]:
    events = _events(archive, **where)
    if name == "launches-by-user":
        counts = Counter(_arn(e) for e in events if _launch(e))
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if name == "launches-by-instance-type":
        counts = Counter((e["requestParameters"]["instanceType"], _arn(e)) for e in events
                         if _launch(e) and _managed(e))
        return sorted(((t, u, n) for (t, u), n in counts.items()), key=lambda r: (-r[2], r[0], r[1]))
    if name == "untagged-launches":
        return _by_time([(e["eventTime"], _arn(e), e["awsRegion"], e["requestParameters"]["instanceType"],
                          e.get("errorCode"), e["eventID"])
                         for e in events if _launch(e) and not _managed(e)])
    if name == "user-operations":
        sources = {"ec2.amazonaws.com", "iam.amazonaws.com", "dynamodb.amazonaws.com",
                   "lambda.amazonaws.com", "s3.amazonaws.com"}
        return _by_time([(e["eventTime"], e["eventSource"], e["eventName"], e["awsRegion"],
                          e.get("errorCode"), e["eventID"])
                         for e in events if _arn(e) == USER and e["eventSource"] in sources])
    if name == "spawn-role-changes":
        return _by_time([(e["eventTime"], _arn(e), e["eventName"], e["requestParameters"]["roleName"],
                          e.get("errorCode"), e["eventID"]) for e in events
                         if e["eventSource"] == "iam.amazonaws.com"
                         and e["eventName"] in ca.ROLE_CHANGE_EVENTS
                         and e["requestParameters"]["roleName"].startswith("spawn-")])
    if name == "console-signins-without-mfa":
        return _by_time([(e["eventTime"], _arn(e), e["sourceIPAddress"], e["awsRegion"], e["eventID"])
                         for e in events if e["eventName"] == "ConsoleLogin"
                         and e["userIdentity"]["type"] == "IAMUser"
                         and (e.get("responseElements") or {}).get("ConsoleLogin") == "Success"
                         and (e.get("additionalEventData") or {}).get("MFAUsed") != "Yes"])
    if name == "root-activity":
        return _by_time([(e["eventTime"], e["eventSource"], e["eventName"], e["sourceIPAddress"],
                          e["awsRegion"], e.get("errorCode"), e["eventID"]) for e in events
                         if e["userIdentity"]["type"] == "Root" and "invokedBy" not in e["userIdentity"]
                         and e.get("eventType") != "AwsServiceEvent"])
    if name == "correlate-app-audit":
        def ts(text: str) -> dt.datetime:
            return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
        launches: dict[tuple, list[dict]] = {}
        for e in events:
            if _launch(e):
                key = (_arn(e), e["awsRegion"], e["requestParameters"]["instanceType"])
                launches.setdefault(key, []).append(e)
        rows = []
        for a in archive.app_records:
            if a["operation"] != "launch_instances":
                continue
            for e in launches.get((a["user_id"], a["region"], a["instance_type"]), []):
                if abs((ts(a["timestamp"]) - ts(e["eventTime"])).total_seconds()) <= 300:
                    rows.append((a["correlation_id"], a["timestamp"], e["eventTime"], a["user_id"],
                                 e["awsRegion"], a["instance_type"], e.get("errorCode"), e["eventID"]))
        return sorted(rows, key=lambda r: (r[1], r[0], r[2], r[7]))
    raise AssertionError(f"no reference computation for {name}")


def _run(name, archive, *, start=None, end=None, account=None, region=None, cache_dir=None):
    params = dict(catalog.COMMON_DEFAULTS, user=USER)
    if start:
        params["start"] = start.strftime("%Y/%m/%d")
    if end:
        params["end"] = end.strftime("%Y/%m/%d")
    if account:
        params["account"] = account
    if region:
        params["region"] = region
    return localdb.run(QUERIES[name], params, archive.root, start, end, cache_dir=cache_dir,
                       app_log=archive.app_log)


# --- the tests -------------------------------------------------------------------------------------


def test_catalog_has_the_documented_queries():
    assert set(QUERIES) == {
        "launches-by-user", "launches-by-instance-type", "user-operations", "untagged-launches",
        "spawn-role-changes", "console-signins-without-mfa", "root-activity", "correlate-app-audit"}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_query_filters_on_the_partition_columns(name):
    sql = QUERIES[name].sql
    prefix = "c." if QUERIES[name].uses_app_audit else ""
    for clause in (f"{prefix}day BETWEEN ? AND ?", f"{prefix}account LIKE ?", f"{prefix}region LIKE ?"):
        assert clause in sql
    assert QUERIES[name].parameters[:4] == ("start", "end", "account", "region")


def test_role_changes_cover_the_alarms_events_and_every_role_change():
    from spawn_compliance import monitoring

    sql = QUERIES["spawn-role-changes"].sql
    assert all(f"'{event}'" in sql for event in monitoring.SPAWN_ROLE_EVENTS)
    assert set(ca.SPAWN_ROLE_EVENTS) == set(monitoring.SPAWN_ROLE_EVENTS)
    assert all(f"'{event}'" in sql for event in ca.ROLE_CHANGE_EVENTS)


def test_role_changes_include_a_deleted_spawn_role(archive, cache):
    deleted = [e for _, e in archive.events if e["eventName"] == "DeleteRole"
               and e["requestParameters"]["roleName"].startswith("spawn-")]
    assert deleted
    _, rows, _ = localdb.run(QUERIES["spawn-role-changes"], dict(catalog.COMMON_DEFAULTS), archive.root,
                             None, None, cache_dir=cache)
    assert {r[-1] for r in rows if r[2] == "DeleteRole"} == {e["eventID"] for e in deleted}


def test_the_archive_exercises_what_the_reader_must_get_right(archive):
    assert max(localdb.uncompressed_size(f) for f in archive.files) > localdb.DEFAULT_OBJECT_LIMIT
    assert any("eventname" in e for _, e in archive.events)  # lowercase look-alike keys
    assert {p["account"] for p, _ in archive.events} == set(ca.ACCOUNTS)
    assert any(_launch(e) and _managed(e) for _, e in archive.events)
    assert any(_launch(e) and not _managed(e) for _, e in archive.events)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_equals_the_python_computation(name, archive, cache):
    """Through the Parquet cache: every day, the big file included, is materialised once."""
    want = expected(name, archive)
    assert want, f"the generated archive gives {name} nothing to find"
    columns, rows, _ = _run(name, archive, cache_dir=cache)
    assert rows == want


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_direct_json_read_on_a_date_range_equals_the_python_computation(name, archive):
    """Straight from the gzipped JSON (no cache), one day after the big file's."""
    day = ca.DAYS[2]
    _, rows, stats = _run(name, archive, start=day, end=day)
    assert rows == expected(name, archive, start=f"{day:%Y/%m/%d}", end=f"{day:%Y/%m/%d}")
    # Only that day's directories were opened: 2 accounts x 3 regions.
    assert stats.days == len(ca.ACCOUNTS) * len(ca.REGIONS)
    assert stats.files == stats.days * 2


def test_big_file_is_read_directly(archive):
    _, rows, stats = _run("launches-by-user", archive, start=BIG_DAY, end=BIG_DAY,
                          account=ca.ACCOUNTS[0], region="us-east-1")
    day = f"{BIG_DAY:%Y/%m/%d}"
    assert rows == expected("launches-by-user", archive, start=day, end=day, account=ca.ACCOUNTS[0],
                            region="us-east-1")
    assert stats.bytes_read > 0


def test_account_and_region_filters(archive, cache):
    _, rows, _ = _run("untagged-launches", archive, account=ca.ACCOUNTS[1], region="eu-west-1",
                      cache_dir=cache)
    assert rows == expected("untagged-launches", archive, account=ca.ACCOUNTS[1], region="eu-west-1")
    assert rows and all(r[2] == "eu-west-1" for r in rows)


def test_select_days_uses_paths_only(archive, tmp_path):
    days = localdb.select_days(archive.root, ca.DAYS[3], ca.DAYS[3])
    assert {d.day for d in days} == {ca.DAYS[3]}
    assert all("CloudTrail-Digest" not in str(f) for d in days for f in d.files)
    # An organisation trail's files sit under AWSLogs/<org-id>/<account>/.
    assert any(ca.ORG_ID in str(d.path) and d.account == ca.ACCOUNTS[1] for d in days)
    with pytest.raises(localdb.ArchiveError):
        localdb.select_days(tmp_path, None, None)


def test_cache_is_reused_and_refreshed_when_a_file_changes(tmp_path):
    arc = ca.generate(tmp_path / "logs", events_per_file=5, files_per_day=1, days=ca.DAYS[:1])
    cache = tmp_path / "cache"
    first = _run("launches-by-user", arc, cache_dir=cache)
    second = _run("launches-by-user", arc, cache_dir=cache)
    assert first[1] == second[1] == expected("launches-by-user", arc)
    assert (first[2].materialised_days, second[2].cached_days, second[2].bytes_read) == (6, 6, 0)
    # A new file in one day invalidates that day only.
    extra = [ca._run_instances(__import__("random").Random(1), ca.DAYS[0], "us-east-1", ca.ACCOUNTS[0])]
    path = ca.day_dir(arc.root, ca.ACCOUNTS[0], "us-east-1", ca.DAYS[0]) / "extra.json.gz"
    ca.write_file(path, extra)
    arc.events.append(({"account": ca.ACCOUNTS[0], "region": "us-east-1", "day": f"{ca.DAYS[0]:%Y/%m/%d}"},
                       extra[0]))
    third = _run("launches-by-user", arc, cache_dir=cache)
    assert (third[2].materialised_days, third[2].cached_days) == (1, 5)
    assert third[1] == expected("launches-by-user", arc)


def test_view_exposes_the_athena_columns(archive):
    con = localdb._connect()
    day = localdb.select_days(archive.root, ca.DAYS[0], ca.DAYS[0])[:1]
    localdb.prepare(con, day, None)
    columns = [r[0] for r in con.execute(f"DESCRIBE {catalog.DATABASE_TABLE}").fetchall()]
    assert columns == [c.name for c in schema.COLUMNS] + list(schema.PARTITION_COLUMNS)
    arn, mfa = con.execute("SELECT useridentity.arn, useridentity.sessioncontext.attributes.mfaauthenticated "
                           f"FROM {catalog.DATABASE_TABLE} LIMIT 1").fetchone()
    assert arn.startswith("arn:aws:") and mfa is None
    params = con.execute(f"SELECT requestparameters FROM {catalog.DATABASE_TABLE} "
                         "WHERE eventname = 'RunInstances' LIMIT 1").fetchone()[0]
    assert "instanceType" in json.loads(params)  # JSON text, as Athena's string column
    con.close()


# --- the command line ------------------------------------------------------------------------------


def test_cli_json_and_csv(archive, cache, capsys):
    day = ca.DAYS[0].isoformat()
    assert main(["query", "launches-by-user", "--logs", str(archive.root), "--start", day, "--end", day,
                 "--format", "json", "--cache-dir", str(cache)]) == 0
    out = json.loads(capsys.readouterr().out)
    d = f"{ca.DAYS[0]:%Y/%m/%d}"
    assert out == [{"user_arn": u, "launches": n}
                   for u, n in expected("launches-by-user", archive, start=d, end=d)]
    assert main(["query", "launches-by-user", "--logs", str(archive.root), "--start", day, "--end", day,
                 "--format", "csv", "--cache-dir", str(cache)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "user_arn,launches" and len(lines) == len(out) + 1


def test_cli_table_and_app_log(archive, cache, capsys):
    assert main(["query", "correlate-app-audit", "--logs", str(archive.root), "--cache-dir", str(cache),
                 "--app-log", str(archive.app_log)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["correlation_id", "app_time", "eventtime", "user_arn", "awsregion",
                                "instance_type", "errorcode", "eventid"]
    assert set(lines[1]) == {"-", " "}
    assert len(lines) == 2 + len(expected("correlate-app-audit", archive))


@pytest.mark.parametrize(("argv", "message"), [
    (["query", "nope", "--logs", "."], "error: query 'nope' is not in the catalog; choose one of: "),
    (["query", "launches-by-user", "--logs", ".", "--start", "2026-13-01"],
     "error: --start '2026-13-01' is not a date; use YYYY-MM-DD"),
    (["query", "launches-by-user", "--logs", ".", "--start", "2026-02-01", "--end", "2026-01-01"],
     "error: --start 2026-02-01 is after --end 2026-01-01"),
    (["query", "user-operations", "--logs", "."], "error: query user-operations needs --user"),
    (["query", "launches-by-user"], "error: give --logs DIR (a local copy of the archive) or --athena"),
    (["query", "launches-by-user", "--logs", "does-not-exist"],
     "error: --logs 'does-not-exist' is not a directory"),
    (["query", "launches-by-user", "--logs", ".", "--account", "12"],
     "error: --account '12' is not a 12-digit AWS account id"),
    (["query", "launches-by-user", "--logs", ".", "--region", "us-east-%"],
     "error: --region 'us-east-%' is not a region name such as us-east-1"),
    (["query", "launches-by-user", "--athena"], "error: --athena needs --workgroup and --database"),
    (["queries", "nope"], "error: query 'nope' is not in the catalog"),
])
def test_cli_user_mistakes(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err


def test_cli_logs_without_awslogs(tmp_path, capsys):
    assert main(["query", "launches-by-user", "--logs", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: --logs: {tmp_path} has no AWSLogs/ directory (expected the " \
                                      "layout of the S3 archive)\n"


def test_cli_correlation_needs_the_app_log(archive, capsys):
    assert main(["query", "correlate-app-audit", "--logs", str(archive.root)]) == 2
    assert "give --app-log FILE" in capsys.readouterr().err


def test_queries_lists_the_catalog(capsys):
    assert main(["queries", "--format", "json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [q["name"] for q in listing] == sorted(QUERIES)
    assert all(q["parameters"][:4] == ["start", "end", "account", "region"] for q in listing)
    assert main(["queries", "untagged-launches", "--dialect", "duckdb"]) == 0
    assert "->>" in capsys.readouterr().out


@pytest.mark.parametrize("content", [b"", b"\x1f\x8b", b"not gzip at all\n"],
                         ids=["empty", "truncated", "text"])
def test_cli_log_file_that_is_not_gzip(tmp_path, capsys, content):
    day = ca.day_dir(tmp_path, ca.ACCOUNTS[0], "us-east-1", ca.DAYS[0])
    day.mkdir(parents=True)
    bad = day / f"{ca.ACCOUNTS[0]}_CloudTrail_us-east-1_20260126T0000Z_bad.json.gz"
    bad.write_bytes(content)
    assert main(["query", "launches-by-user", "--logs", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"error: --logs: {bad} is not a gzip file ({len(content)} bytes); "
                                       "CloudTrail log files ending in .gz are gzip-compressed\n")


def test_cli_cache_dir_that_is_a_file(archive, tmp_path, capsys):
    not_a_dir = tmp_path / "cache"
    not_a_dir.write_text("")
    argv = ["query", "launches-by-user", "--logs", str(archive.root), "--cache-dir", str(not_a_dir)]
    assert main(argv) == 2
    assert capsys.readouterr().err == (f"error: --cache-dir {str(not_a_dir)!r} is not a directory and cannot "
                                       "be created: File exists\n")
