"""``python -m spawn_audit query NAME``: run one catalog query locally (DuckDB) or in Athena.

Locally: ``--logs DIR`` is a copy of the archive laid out as in S3 (``DIR/AWSLogs/...``, e.g. from
``aws s3 sync`` or ``spawn_audit download``); ``--start``/``--end`` choose the day directories
before anything is read. ``--athena`` sends the same SQL to the stack's workgroup instead. Both
print the same shape: ``--format table`` (aligned text), ``json`` (an array of row objects, keys
in column order) or ``csv`` (a header line, then rows). Exit 0 when the query ran (whether or not
it returned rows), 2 when it could not run.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

from spawn_audit import catalog
from spawn_audit.errors import EXIT_ERROR, EXIT_OK, UsageError

FORMATS = ("table", "json", "csv")
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        name, help="run a catalog query over a local archive copy (DuckDB) or in Athena",
        description="Run one query of the catalog (python -m spawn_audit queries lists them).")
    p.add_argument("name", metavar="NAME", help="catalog query name")
    p.add_argument("--logs", metavar="DIR", type=Path,
                   help="local copy of the archive, laid out as in S3 (DIR/AWSLogs/...)")
    p.add_argument("--start", metavar="DATE", help="first day, YYYY-MM-DD (default: the oldest)")
    p.add_argument("--end", metavar="DATE", help="last day, YYYY-MM-DD, included (default: the newest)")
    p.add_argument("--account", metavar="ID", help="only this 12-digit account (default: every account)")
    p.add_argument("--region", metavar="REGION", help="only log files written under this region "
                   "(IAM and other global events are under us-east-1)")
    p.add_argument("--user", metavar="ARN", help="the user ARN, for queries that take one")
    p.add_argument("--app-log", metavar="FILE", type=Path,
                   help="spawn's application audit log as JSON lines (for correlate-app-audit, locally)")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.add_argument("--cache-dir", metavar="DIR", type=Path,
                   help="materialise each day read as Parquet here and reuse it while its files "
                   "are unchanged")
    p.add_argument("--athena", action="store_true", help="run in the stack's Athena workgroup instead")
    p.add_argument("--workgroup", metavar="NAME", help="Athena workgroup (stack output athenaWorkgroupName)")
    p.add_argument("--database", metavar="NAME", help="Glue database (stack output athenaDatabaseName)")
    p.add_argument("--aws-region", metavar="REGION",
                   help="region of the workgroup (default: the AWS profile's)")
    return p


def _date(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date; use YYYY-MM-DD") from None


def parameters(query: catalog.CatalogQuery, start: dt.date | None, end: dt.date | None,
               account: str | None, region: str | None, extra: dict[str, str | None]) -> dict[str, str]:
    """The query's parameter values; the shared ones default to 'everything'."""
    values = dict(catalog.COMMON_DEFAULTS)
    if start:
        values["start"] = start.strftime("%Y/%m/%d")
    if end:
        values["end"] = end.strftime("%Y/%m/%d")
    if account:
        values["account"] = account
    if region:
        values["region"] = region
    for name in query.extra_parameters:
        if not extra.get(name):
            raise UsageError(f"query {query.name} needs --{name.replace('_', '-')}")
        values[name] = extra[name]  # type: ignore[assignment]
    return values


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def render(columns: list[str], rows: list[tuple], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([dict(zip(columns, row, strict=True)) for row in rows], indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_text(v) for v in row] for row in rows])
        return buf.getvalue()
    cells = [columns] + [[_text(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    queries = catalog.load()
    query = queries.get(args.name)
    if query is None:
        raise UsageError(f"query {args.name!r} is not in the catalog; choose one of: {', '.join(queries)}")
    start, end = _date("--start", args.start), _date("--end", args.end)
    if start and end and start > end:
        raise UsageError(f"--start {args.start} is after --end {args.end}")
    if args.account and not (args.account.isdigit() and len(args.account) == 12):
        raise UsageError(f"--account {args.account!r} is not a 12-digit AWS account id")
    if args.region and not _REGION.match(args.region):
        raise UsageError(f"--region {args.region!r} is not a region name such as us-east-1")
    params = parameters(query, start, end, args.account, args.region, {"user": args.user})

    from spawn_audit import localdb  # noqa: PLC0415 - keeps `queries` and --help free of duckdb

    progress = localdb.stderr_progress()
    if args.athena:
        if not args.workgroup or not args.database:
            raise UsageError("--athena needs --workgroup and --database (stack outputs athenaWorkgroupName, "
                             "athenaDatabaseName)")
        from spawn_audit import athena  # noqa: PLC0415

        try:
            columns, rows, _ = athena.run(query, params, workgroup=args.workgroup, database=args.database,
                                          region=args.aws_region, progress=progress)
        except athena.AthenaError as exc:
            print(f"error: athena: {exc}", file=sys.stderr)
            return EXIT_ERROR
    else:
        if args.logs is None:
            raise UsageError("give --logs DIR (a local copy of the archive) or --athena")
        if not args.logs.is_dir():
            raise UsageError(f"--logs {str(args.logs)!r} is not a directory")
        if query.uses_app_audit and args.app_log is None:
            raise UsageError(f"query {query.name} joins spawn's application audit log; give --app-log FILE "
                             f"(JSON lines)")
        if args.app_log is not None and not args.app_log.is_file():
            raise UsageError(f"--app-log {str(args.app_log)!r} is not a file")
        if args.cache_dir is not None:
            try:
                args.cache_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(f"--cache-dir {str(args.cache_dir)!r} is not a directory and cannot be "
                                 f"created: {exc.strerror}") from None
        try:
            columns, rows, stats = localdb.run(query, params, args.logs, start, end, cache_dir=args.cache_dir,
                                               app_log=args.app_log, progress=progress)
        except localdb.ArchiveError as exc:
            raise UsageError(f"--logs: {exc}") from None
        except localdb.duckdb.Error as exc:
            print(f"error: duckdb: {exc}", file=sys.stderr)
            return EXIT_ERROR
        if progress:
            print(f"{len(rows)} row(s); {stats.files} file(s) in {stats.days} day directories, "
                  f"{stats.cached_days} from the cache; {stats.seconds:.2f} s", file=sys.stderr)
    sys.stdout.write(render(columns, rows, args.format))
    return EXIT_OK
