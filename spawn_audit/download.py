"""``download``: copy a range of the CloudTrail archive to a local directory, keeping the signatures.

``aws s3 sync`` copies object bodies only, and a digest's signature lives in its S3 object metadata
(``x-amz-meta-signature``, ``x-amz-meta-signature-algorithm``; AWS CloudTrail User Guide,
"CloudTrail digest file structure"), so a synced copy can never be verified offline. This command
writes each digest's user metadata beside it as ``<digest>.metadata.json`` and lays files out under
their S3 keys, which is what ``verify`` reads.

What is copied for ``--start``/``--end``: every digest whose hour overlaps the range (key time in
``(start, end + 1 h + 15 min]``), every log file named in the range (key time in
``[start - 1 h, end]``), and every log file the copied digests list, wherever it is. Parallel
(threads; each transfer waits on the network) and resumable: an object already present with the
same size (and, for single-part uploads, the same MD5 as its ETag) is skipped; each file is written
to ``<name>.part`` and renamed, so an interrupted run never leaves a truncated file under a real key.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from spawn_audit import digest as fmt
from spawn_audit.errors import EXIT_ERROR, EXIT_OK, UsageError
from spawn_audit.verify import parse_time_arg

DIGEST_SLACK = timedelta(hours=1, minutes=15)
_ACCOUNT = re.compile(r"^\d{12}$")
_ORG = re.compile(r"^o-[a-z0-9]{10,32}$")


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    etag: str
    bucket: str


@dataclass
class Result:
    listed: int = 0
    downloaded: int = 0
    skipped: int = 0
    bytes: int = 0
    digests: int = 0
    log_files: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"objects": self.listed, "downloaded": self.downloaded, "skippedComplete": self.skipped,
                "bytesDownloaded": self.bytes, "digests": self.digests, "logFiles": self.log_files,
                "failed": [{"key": k, "error": e} for k, e in self.failed]}


def _client(endpoint_url: str | None, jobs: int) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint_url,
                        config=Config(max_pool_connections=max(10, jobs), retries={"mode": "standard"}))


def _prefixes(s3: Any, bucket: str, prefix: str) -> list[str]:
    out: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        out += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return out


def _objects(s3: Any, bucket: str, prefix: str) -> Iterable[S3Object]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield S3Object(item["Key"], int(item["Size"]), str(item.get("ETag", "")).strip('"'), bucket)


def account_roots(s3: Any, bucket: str, prefix: str, accounts: set[str]) -> list[str]:
    """``[<prefix>]AWSLogs/[<org>/]<account>/`` for each account in the bucket (or those asked for)."""
    roots = []
    for entry in _prefixes(s3, bucket, f"{prefix}AWSLogs/"):
        name = entry.rstrip("/").rsplit("/", 1)[-1]
        if _ORG.match(name):
            candidates = _prefixes(s3, bucket, entry)
        else:
            candidates = [entry]
        for root in candidates:
            account = root.rstrip("/").rsplit("/", 1)[-1]
            if _ACCOUNT.match(account) and (not accounts or account in accounts):
                roots.append(root)
    return roots


def _days(start: datetime, end: datetime) -> list[str]:
    day, days = start.date(), []
    while day <= end.date():
        days.append(f"{day:%Y/%m/%d}/")
        day += timedelta(days=1)
    return days


def plan(s3: Any, bucket: str, prefix: str, accounts: set[str], regions: set[str], start: datetime,
         end: datetime) -> list[S3Object]:
    """Digests and log files of the range (without the log files digests list elsewhere)."""
    wanted: list[S3Object] = []
    roots = account_roots(s3, bucket, prefix, accounts)
    if not roots:
        where = f"s3://{bucket}/{prefix}AWSLogs/"
        raise UsageError(f"--bucket {bucket}: no CloudTrail logs under {where}"
                         + (f" for --account {', '.join(sorted(accounts))}" if accounts else ""))
    seen: set[str] = set()
    for root in roots:
        for kind, lo, hi in (("CloudTrail-Digest", start, end + DIGEST_SLACK),
                             ("CloudTrail", start - timedelta(hours=1), end)):
            found = [p.rstrip("/").rsplit("/", 1)[-1] for p in _prefixes(s3, bucket, f"{root}{kind}/")]
            seen.update(found)
            for region in sorted(r for r in found if not regions or r in regions):
                for day in _days(lo, hi):
                    for obj in _objects(s3, bucket, f"{root}{kind}/{region}/{day}"):
                        when = fmt.key_time(obj.key)
                        if when is None:
                            continue
                        in_range = lo < when <= hi if kind == "CloudTrail-Digest" else lo <= when <= hi
                        if in_range:
                            wanted.append(obj)
    absent = sorted(regions - seen)
    if absent:
        # Like an unknown --account: a region the bucket has no folder for is a mistake.
        there = ", ".join(sorted(seen)) or "none"
        raise UsageError(f"--region {', '.join(absent)}: no CloudTrail logs or digests under "
                         f"s3://{bucket}/{prefix}AWSLogs/; regions there: {there}")
    return wanted


def _local(root: Path, key: str) -> Path:
    path = (root / key).resolve()
    if not path.is_relative_to(root.resolve()) or key.startswith("/"):
        raise ValueError(f"key {key!r} would be written outside --to")
    return path


def _complete(path: Path, obj: S3Object, is_digest: bool) -> bool:
    """An earlier run already wrote this object in full."""
    try:
        if path.stat().st_size != obj.size:
            return False
    except FileNotFoundError:
        return False
    if is_digest and not path.with_name(path.name + fmt.METADATA_SUFFIX).exists():
        return False
    if obj.etag and "-" not in obj.etag:
        # A single-part upload's ETag is the MD5 of its bytes (S3 API reference, Object ETag);
        # a multipart ETag is not, and the size alone decides.
        md5 = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(fmt.CHUNK), b""):
                md5.update(chunk)
        return md5.hexdigest() == obj.etag
    return True


def _fetch(s3: Any, root: Path, obj: S3Object) -> tuple[str, int]:
    """('skipped'|'downloaded', bytes written)."""
    path = _local(root, obj.key)
    is_digest = bool(fmt.DIGEST_KEY.match(obj.key))
    if _complete(path, obj, is_digest):
        return "skipped", 0
    response = s3.get_object(Bucket=obj.bucket, Key=obj.key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    size = 0
    with open(tmp, "wb") as f:
        for chunk in response["Body"].iter_chunks(fmt.CHUNK):
            f.write(chunk)
            size += len(chunk)
    if is_digest:
        # boto3 returns user metadata without the x-amz-meta- prefix; keep all of it.
        fmt.write_metadata(path, dict(response.get("Metadata") or {}))
    os.replace(tmp, path)
    return "downloaded", size


def _progress(total: int) -> Callable[[Result], None]:
    if not sys.stderr.isatty():
        return lambda result: None

    def show(result: Result) -> None:
        done = result.downloaded + result.skipped + len(result.failed)
        print(f"\rdownload: {done}/{total} objects, {result.bytes / 1e6:.1f} MB", end="",
              file=sys.stderr, flush=True)
    return show


def _run_all(s3: Any, root: Path, objects: list[S3Object], jobs: int, result: Result) -> None:
    show = _progress(len(objects))

    def one(obj: S3Object) -> tuple[S3Object, str, int]:
        try:
            status, size = _fetch(s3, root, obj)
        except Exception as exc:  # noqa: BLE001 - every failure is reported by key, the rest continue
            return obj, f"error: {exc}", 0
        return obj, status, size

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for obj, status, size in pool.map(one, objects):
            if status == "downloaded":
                result.downloaded += 1
                result.bytes += size
            elif status == "skipped":
                result.skipped += 1
            else:
                result.failed.append((obj.key, status.removeprefix("error: ")))
            show(result)
    if sys.stderr.isatty() and objects:
        print(file=sys.stderr)


def download(bucket: str, to: Path, start: datetime, end: datetime, *, prefix: str = "",
             accounts: Iterable[str] = (), regions: Iterable[str] = (), endpoint_url: str | None = None,
             jobs: int = 16, s3: Any = None) -> Result:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        s3 = s3 or _client(endpoint_url, jobs)
    except ValueError as exc:  # botocore: "Invalid endpoint: ..."
        raise UsageError(f"--endpoint-url {endpoint_url}: {exc}; use a URL such as "
                         f"https://s3.us-east-1.amazonaws.com") from None
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    result = Result()
    try:
        objects = plan(s3, bucket, prefix, set(accounts), set(regions), start, end)
    except (BotoCoreError, ClientError) as exc:
        raise UsageError(f"--bucket {bucket}: could not list objects: {exc}") from None
    try:  # only once the listing worked: a mistake creates nothing
        to.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--to {to}: cannot create the directory ({exc.strerror or exc})") from None
    _run_all(s3, to, objects, jobs, result)

    # Log files the copied digests list but the key-time window did not include (late deliveries,
    # files of the hour before the range): fetch them too, so that verify can check every one.
    have = {o.key for o in objects}
    extra: dict[str, str] = {}
    for obj in objects:
        if fmt.DIGEST_KEY.match(obj.key):
            try:
                body, _, _ = fmt.read_digest(_local(to, obj.key))
            except (fmt.DigestError, OSError, ValueError):
                continue  # verify reports it
            for entry in body.get("logFiles") or []:
                key = entry.get("s3Object") if isinstance(entry, dict) else None
                if key and key not in have:
                    extra[key] = str(entry.get("s3Bucket") or bucket)
    more: list[S3Object] = []
    for key, source in sorted(extra.items()):
        try:
            head = s3.head_object(Bucket=source, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                continue  # deleted at the source: verify reports it as log-file-deleted
            result.failed.append((key, str(exc)))
            continue
        except BotoCoreError as exc:  # a connection or credential failure: this key failed, go on
            result.failed.append((key, str(exc)))
            continue
        more.append(S3Object(key, int(head["ContentLength"]), str(head.get("ETag", "")).strip('"'), source))
    _run_all(s3, to, more, jobs, result)
    every = objects + more
    result.listed = len(every)
    result.digests = sum(1 for o in every if fmt.DIGEST_KEY.match(o.key))
    result.log_files = len(every) - result.digests
    return result


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(name, help="copy log files and digests of a range, with digest signatures",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--bucket", required=True, help="the trail's S3 bucket")
    p.add_argument("--prefix", default="", help="the trail's S3 key prefix, if any")
    p.add_argument("--account", action="append", default=[], help="only this account (repeatable)")
    p.add_argument("--region", action="append", default=[], help="only this region (repeatable)")
    p.add_argument("--start", required=True, help="range start, ISO 8601 UTC")
    p.add_argument("--end", required=True, help="range end, ISO 8601 UTC")
    p.add_argument("--to", required=True, type=Path, metavar="DIR", help="local directory (created)")
    p.add_argument("--endpoint-url", help="S3 endpoint (for an S3-compatible stand-in)")
    p.add_argument("--jobs", type=int, default=16, help="parallel transfers (default 16)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    return p


def run(args: argparse.Namespace) -> int:
    start = parse_time_arg("--start", args.start)
    end = parse_time_arg("--end", args.end)
    if start >= end:
        raise UsageError(f"--start {args.start} is not before --end {args.end}")
    if args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: use 1 or more")
    if args.to.exists() and not args.to.is_dir():
        raise UsageError(f"--to {args.to}: exists and is not a directory")
    result = download(args.bucket, args.to, start, end, prefix=args.prefix, accounts=args.account,
                      regions=args.region, endpoint_url=args.endpoint_url, jobs=args.jobs)
    if args.format == "json":
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(f"{result.listed} objects ({result.digests} digests, {result.log_files} log files): "
              f"{result.downloaded} downloaded ({result.bytes / 1e6:.1f} MB), {result.skipped} already "
              f"complete, {len(result.failed)} failed")
    for key, error in result.failed:
        print(f"error: {key}: {error}", file=sys.stderr)
    return EXIT_ERROR if result.failed else EXIT_OK
