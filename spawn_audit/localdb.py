"""Run catalog queries with DuckDB (embedded, no server) over a local copy of the CloudTrail archive.

The copy is laid out as in S3: ``DIR/AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/``
with gzipped files of the form ``{"Records": [...]}``. Files are chosen from their path by the date
range *before* anything is read, so a one-day question reads one day.

Three facts shape the reader:
- DuckDB's JSON reader refuses objects above ``maximum_object_size`` (16 MB by default); a CloudTrail
  file is one object (its ``Records`` array), and busy accounts write larger ones. The limit is set
  from the gzip trailer (ISIZE: the uncompressed size) of the largest selected file.
- JSON keys are matched case-sensitively in an explicit schema, so the schema lists CloudTrail's
  own keys (``eventName``, ``userIdentity``...) from ``spawn_audit.catalog.schema`` and the view
  renames them to the lowercase columns of Athena's table, so one query text runs on both engines.
- Each ``(account, region, day)`` directory can be materialised once as Parquet in a cache
  directory, keyed on the names, sizes and modification times of its files; a later query on an
  overlapping range reads the Parquet instead of re-parsing JSON (``benchmarks/query_throughput.py``
  measures both).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import struct
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import sqlglot

from spawn_audit.catalog import APP_AUDIT_TABLE, DATABASE_TABLE, CatalogQuery, schema

DEFAULT_OBJECT_LIMIT = 16 * 1024 * 1024  # DuckDB's default maximum_object_size
_ACCOUNT = re.compile(r"^\d{12}$")
_ORG = re.compile(r"^o-[a-z0-9]{10,32}$")
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
_LOG_FILE = re.compile(r"\.json(?:\.gz)?$")
CACHE_VERSION = "1"
GZIP_MAGIC = b"\x1f\x8b"
GZIP_MINIMUM_SIZE = 18  # header + trailer


class ArchiveError(Exception):
    """The logs directory cannot be used (missing, not laid out as in S3)."""


@dataclass(frozen=True)
class DayDir:
    """One partition of the archive: every log file of one account, region and day."""

    account: str
    region: str
    day: dt.date
    path: Path
    files: tuple[Path, ...]

    @property
    def day_text(self) -> str:
        return self.day.strftime("%Y/%m/%d")

    def signature(self) -> str:
        h = hashlib.sha256(f"{CACHE_VERSION}\n{self.path.resolve()}\n".encode())
        for f in self.files:
            st = f.stat()
            h.update(f"{f.name}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
        return h.hexdigest()[:32]


def _dirs(path: Path) -> Iterator[Path]:
    try:
        with os.scandir(path) as it:
            for entry in it:
                if entry.is_dir():
                    yield Path(entry.path)
    except FileNotFoundError:
        return


def _account_dirs(awslogs: Path) -> Iterator[tuple[str, Path]]:
    for d in _dirs(awslogs):
        if _ACCOUNT.match(d.name):
            yield d.name, d
        elif _ORG.match(d.name):  # organisation trail: AWSLogs/<org-id>/<account>/CloudTrail/...
            for a in _dirs(d):
                if _ACCOUNT.match(a.name):
                    yield a.name, a


def select_days(logs: Path, start: dt.date | None, end: dt.date | None) -> list[DayDir]:
    """The day directories in [start, end], found from the directory names alone."""
    awslogs = logs / "AWSLogs"
    if not awslogs.is_dir():
        raise ArchiveError(f"{logs} has no AWSLogs/ directory (expected the layout of the S3 archive)")
    lo = start or dt.date.min
    hi = end or dt.date.max
    out: list[DayDir] = []
    for account, adir in _account_dirs(awslogs):
        for rdir in _dirs(adir / "CloudTrail"):
            if not _REGION.match(rdir.name):
                continue
            for ydir in _dirs(rdir):
                if not ydir.name.isdigit() or not lo.year <= int(ydir.name) <= hi.year:
                    continue
                for mdir in _dirs(ydir):
                    for ddir in _dirs(mdir):
                        try:
                            day = dt.date(int(ydir.name), int(mdir.name), int(ddir.name))
                        except ValueError:
                            continue
                        if not lo <= day <= hi:
                            continue
                        files = tuple(sorted(p for p in ddir.iterdir()
                                             if p.is_file() and _LOG_FILE.search(p.name)))
                        if files:
                            out.append(DayDir(account, rdir.name, day, ddir, files))
    out.sort(key=lambda d: (d.day, d.account, d.region))
    return out


def uncompressed_size(path: Path) -> int:
    """A gzip member's ISIZE trailer (size mod 2**32; CloudTrail files are far below 4 GiB)."""
    if path.suffix != ".gz":
        return path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(2)
        size = fh.seek(0, os.SEEK_END)
        # RFC 1952: a member starts with the magic bytes 1f 8b and has at least a 10-byte header and
        # an 8-byte trailer; anything else (an empty or truncated download, a plain-text file) would
        # otherwise fail with an OS error or an engine message far from the file's name.
        if head != GZIP_MAGIC or size < GZIP_MINIMUM_SIZE:
            raise ArchiveError(f"{path} is not a gzip file ({size} bytes); CloudTrail log files ending "
                               f"in .gz are gzip-compressed")
        fh.seek(-4, os.SEEK_END)
        return struct.unpack("<I", fh.read(4))[0]


# --- schema -> DuckDB ----------------------------------------------------------------------------


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _duck_type(t: schema.Type) -> str:
    if isinstance(t, schema.Struct):
        return "STRUCT(" + ", ".join(f"{_q(f.key)} {_duck_type(f.type)}" for f in t.fields) + ")"
    if isinstance(t, schema.Array):
        return _duck_type(t.item) + "[]"
    return {"map": "MAP(VARCHAR, VARCHAR)", "json": "JSON", "bigint": "BIGINT"}.get(t, "VARCHAR")


def _remap(expr: str, t: schema.Type, depth: int = 0) -> str:
    """An expression that renames CloudTrail's keys to the table's lowercase names."""
    if isinstance(t, schema.Struct):
        parts = ", ".join(f"{_q(f.name)} := {_remap(f'{expr}.{_q(f.key)}', f.type, depth)}" for f in t.fields)
        return f"CASE WHEN {expr} IS NULL THEN NULL ELSE struct_pack({parts}) END"
    if isinstance(t, schema.Array):
        var = f"x{depth}"
        return f"list_transform({expr}, lambda {var}: {_remap(var, t.item, depth + 1)})"
    if t == "json":
        return f"CAST({expr} AS VARCHAR)"
    return expr


def _json_structure(t: schema.Type) -> str:
    """A ``from_json`` structure: CloudTrail's exact keys, each with its DuckDB type."""
    if isinstance(t, schema.Struct):
        return "{" + ",".join(json.dumps(f.key) + ":" + _json_structure(f.type) for f in t.fields) + "}"
    if isinstance(t, schema.Array):
        return "[" + _json_structure(t.item) + "]"
    return json.dumps(_duck_type(t))


def record_structure() -> str:
    return _json_structure(schema.Struct(schema.COLUMNS))


def _partition_select(day: DayDir | None) -> str:
    if day is not None:
        return f"'{day.account}' AS account, '{day.region}' AS region, '{day.day_text}' AS day"
    pattern = r"AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4}/\d{2}/\d{2})/"
    return ", ".join(
        f"regexp_extract(replace(filename, '\\', '/'), '{pattern}', {i}) AS {name}"
        for i, name in enumerate(schema.PARTITION_COLUMNS, start=1)
    )


def json_select(files: list[Path], object_limit: int, day: DayDir | None = None) -> str:
    """SELECT of the table's columns straight from CloudTrail JSON files.

    Each file is read as one JSON value, its ``Records`` array split into one JSON text per
    record, and each record converted with ``from_json`` against CloudTrail's exact keys. Asking
    ``read_json`` for the whole ``Records`` list as one typed column gives the same rows but,
    measured on DuckDB 2.0, about eight times slower for files of thousands of records.
    """
    listing = "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
    cols = "".join(f"{_remap(f'r.{_q(c.key)}', c.type)} AS {c.name}, " for c in schema.COLUMNS)
    structure = record_structure().replace("'", "''")
    return (
        f"SELECT {cols}{_partition_select(day)} FROM ("
        f"SELECT from_json(record, '{structure}') AS r, filename FROM ("
        f"SELECT unnest(json_extract(json, '$.Records[*]')) AS record, filename "
        f"FROM read_json_objects({listing}, format='unstructured', maximum_object_size={object_limit}, "
        f"filename=true)))"
    )


def to_duckdb(query: CatalogQuery) -> str:
    """The catalog's Athena SQL as DuckDB SQL."""
    return sqlglot.transpile(query.sql, read="athena", write="duckdb")[0]


# --- running ---------------------------------------------------------------------------------------


Progress = Callable[[str], None]


def stderr_progress() -> Progress | None:
    """A progress printer when stderr is a terminal, else None."""
    if not sys.stderr.isatty():
        return None

    def show(message: str) -> None:
        sys.stderr.write(f"\r\x1b[K{message}")
        sys.stderr.flush()

    return show


@dataclass
class RunStats:
    days: int = 0
    files: int = 0
    bytes_read: int = 0  # compressed bytes of JSON read (0 when every day came from the cache)
    cached_days: int = 0
    materialised_days: int = 0
    seconds: float = 0.0


def _object_limit(files: list[Path]) -> int:
    biggest = max((uncompressed_size(f) for f in files), default=0)
    return max(DEFAULT_OBJECT_LIMIT, biggest + 1024 * 1024)


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET preserve_insertion_order = false")
    return con


def _load_app_audit(con: duckdb.DuckDBPyConnection, app_log: Path) -> None:
    cols = "{" + ", ".join(f"'{f.key}': '{_duck_type(f.type)}'" for f in schema.APP_AUDIT_COLUMNS) + "}"
    path = str(app_log).replace("'", "''")
    names = ", ".join(f"{_q(f.key)} AS {_q(f.name)}" for f in schema.APP_AUDIT_COLUMNS)
    con.execute(f"CREATE VIEW {APP_AUDIT_TABLE} AS SELECT {names} FROM "
                f"read_json('{path}', columns={cols}, format='newline_delimited')")


def prepare(con: duckdb.DuckDBPyConnection, days: list[DayDir], cache_dir: Path | None,
            progress: Progress | None = None) -> RunStats:
    """Create the ``cloudtrail_logs`` view over the selected days (materialising them if caching)."""
    stats = RunStats(days=len(days), files=sum(len(d.files) for d in days))
    if not days:
        cols = ", ".join(f"CAST(NULL AS {_duck_type(c.type) if c.type != 'json' else 'VARCHAR'}) AS {c.name}"
                         for c in schema.COLUMNS)
        parts = ", ".join(f"CAST(NULL AS VARCHAR) AS {p}" for p in schema.PARTITION_COLUMNS)
        con.execute(f"CREATE VIEW {DATABASE_TABLE} AS SELECT {cols}, {parts} WHERE false")
        return stats
    if cache_dir is None:
        files = [f for d in days for f in d.files]
        stats.bytes_read = sum(f.stat().st_size for f in files)
        if progress:
            progress(f"reading {len(files)} files, {stats.bytes_read / 1e6:.1f} MB gzipped, "
                     f"{len(days)} day(s)")
        select = json_select(files, _object_limit(files))
        con.execute(f"CREATE VIEW {DATABASE_TABLE} AS {select}")
        return stats
    cache_dir.mkdir(parents=True, exist_ok=True)
    parquet: list[str] = []
    for i, day in enumerate(days, start=1):
        target = cache_dir / f"{day.signature()}.parquet"
        if target.exists():
            stats.cached_days += 1
        else:
            if progress:
                progress(f"materialising {day.account} {day.region} {day.day_text} ({i}/{len(days)})")
            files = list(day.files)
            stats.bytes_read += sum(f.stat().st_size for f in files)
            partial = target.with_suffix(f".{os.getpid()}.tmp")
            con.execute(f"COPY ({json_select(files, _object_limit(files), day)}) TO "
                        f"'{str(partial).replace(chr(39), chr(39) * 2)}' (FORMAT parquet, COMPRESSION zstd)")
            os.replace(partial, target)  # atomic: a crashed run never leaves a half file behind
            stats.materialised_days += 1
        parquet.append("'" + str(target).replace("'", "''") + "'")
    con.execute(f"CREATE VIEW {DATABASE_TABLE} AS SELECT * FROM read_parquet([{', '.join(parquet)}])")
    return stats


def run(query: CatalogQuery, params: dict[str, str], logs: Path, start: dt.date | None, end: dt.date | None,
        *, cache_dir: Path | None, app_log: Path | None = None,
        progress: Progress | None = None) -> tuple[list[str], list[tuple], RunStats]:
    """Run one catalog query; returns column names, rows and what was read."""
    began = time.perf_counter()
    days = select_days(logs, start, end)
    con = _connect()
    try:
        duck_sql = to_duckdb(query)
        stats = prepare(con, days, cache_dir, progress)
        if query.uses_app_audit:
            if app_log is None:
                raise ArchiveError(f"query {query.name} joins spawn's application audit log; "
                                   f"pass --app-log FILE")
            _load_app_audit(con, app_log)
        if progress:
            progress(f"running {query.name}")
        cursor = con.execute(duck_sql, [params[p] for p in query.parameters])
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        con.close()
        if progress:
            progress("")
    stats.seconds = time.perf_counter() - began
    return columns, rows, stats

