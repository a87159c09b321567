"""``verify``: prove that a local copy of a CloudTrail archive is complete and unmodified.

Walks every digest chain (one per trail and region) under a directory laid out like the S3 bucket
(as ``download`` writes it, each digest's S3 metadata beside it in ``<digest>.metadata.json``) and
checks, for the requested range: each digest's RSA signature with the public key its fingerprint
names; that each digest sits at the key it names; that each digest's previous digest exists with
the hash and signature it records; that every listed log file exists with the recorded SHA-256;
and that no hourly digest is missing, at either end of the range or several in a row.

Formats and algorithms: AWS CloudTrail User Guide, "CloudTrail digest file structure" and
"Validating CloudTrail log file integrity with a custom implementation" (see ``spawn_audit.digest``).
Control served: PCI DSS v4.0.1 10.3.4 (change detection on audit logs), HIPAA 45 CFR 164.312(c)(1)
(integrity), SOC 2 CC7.2 evidence. Which digests the range expects is documented in
docs/evidence.md ("Which digests must exist").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from spawn_audit import digest as fmt
from spawn_audit.errors import EXIT_FINDINGS, EXIT_OK, UsageError

HOUR = timedelta(hours=1)
# Digest times drift by seconds between regions and deliveries; a gap or an uncovered end shorter
# than this is not a missing digest.
TOLERANCE = timedelta(minutes=5)

# Each finding kind and what it means; the order is the order reports list them in.
KINDS: dict[str, str] = {
    "log-file-modified": "a log file's SHA-256 differs from the hash its digest recorded",
    "log-file-deleted": "a log file listed in a digest is not in the archive",
    "log-file-moved": "a log file listed in a digest is not at its key but its content is at another key",
    "digest-modified": "a digest whose signature does not verify, or that is not a readable digest",
    "digest-moved": "a digest that is not at the key it names as its own",
    "digest-missing": "an hourly digest the chain and the range require is not in the archive",
    "chain-broken": "a digest's record of its previous digest (hash or signature) does not match it",
    "chain-restart": "a chain starts again (no previous digest) inside the range: a period without evidence",
    "unknown-key": "a digest signed with a key whose fingerprint is not among the public keys",
    "unsigned": "a digest without its signature metadata (or with an unsupported algorithm)",
}


@dataclass(frozen=True)
class Finding:
    kind: str
    key: str
    detail: str
    region: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Digest:
    """One digest file found under the root."""

    key: str  # where it is
    trail_id: tuple[str, ...]  # (prefix, org, account, trail, home region)
    region: str
    backfill: bool
    body: dict[str, Any] | None = None  # None: unreadable
    sha256: str = ""
    signature: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    stated_key: str = ""

    @property
    def previous_key(self) -> str | None:
        return (self.body or {}).get("previousDigestS3Object") or None


@dataclass
class Report:
    root: str
    range_start: datetime | None
    range_end: datetime | None
    findings: list[Finding] = field(default_factory=list)
    digests: int = 0
    backfill_digests: int = 0
    log_files: int = 0
    log_bytes: int = 0
    digest_bytes: int = 0
    trails: list[dict[str, Any]] = field(default_factory=list)
    fingerprints: list[str] = field(default_factory=list)
    key_source: str = ""
    # Whether --start / --end were given; otherwise the range is the digests' own span.
    start_given: bool = False
    end_given: bool = False

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "result": "verified" if self.ok else "findings",
            "root": self.root,
            "range": {"start": _iso(self.range_start), "end": _iso(self.range_end)},
            "summary": {
                "digests": self.digests, "backfillDigests": self.backfill_digests,
                "logFiles": self.log_files, "logBytes": self.log_bytes, "digestBytes": self.digest_bytes,
                "findings": len(self.findings),
            },
            "trails": self.trails,
            "publicKeys": {"source": self.key_source, "fingerprintsUsed": self.fingerprints},
            "findings": [f.as_dict() for f in self.findings],
        }


def _iso(value: datetime | None) -> str | None:
    return fmt.format_time(value) if value else None


# --- public keys ----------------------------------------------------------------------------------


def keys_from_file(path: Path) -> dict[str, fmt.PublicKey]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--public-keys {path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"--public-keys {path}: not a readable JSON file ({exc})") from None
    try:
        keys = fmt.public_keys_from_response(data, f"--public-keys {path}")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not keys:
        raise UsageError(f"--public-keys {path}: PublicKeyList is empty; list the keys of the range "
                         f"(aws cloudtrail list-public-keys --start-time ... --end-time ...)")
    return keys


def keys_from_cloudtrail(regions: Iterable[str], start: datetime, end: datetime,
                         endpoint_url: str | None = None) -> dict[str, fmt.PublicKey]:
    """Keys valid in [start, end] from CloudTrail ``ListPublicKeys`` in each region (live AWS call)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    keys: dict[str, fmt.PublicKey] = {}
    for region in sorted(set(regions)):
        client = boto3.client("cloudtrail", region_name=region, endpoint_url=endpoint_url)
        token = None
        try:
            while True:
                kwargs: dict[str, Any] = {"StartTime": start, "EndTime": end}
                if token:
                    kwargs["NextToken"] = token
                response = client.list_public_keys(**kwargs)
                keys.update(fmt.public_keys_from_response(response, f"ListPublicKeys in {region}"))
                token = response.get("NextToken")
                if not token:
                    break
        except (BotoCoreError, ClientError, ValueError) as exc:
            raise UsageError(f"could not list CloudTrail public keys in {region}: {exc}; pass "
                             f"--public-keys FILE (aws cloudtrail list-public-keys output)") from None
    if not keys:
        raise UsageError(f"CloudTrail ListPublicKeys returned no key valid between {_iso(start)} and "
                         f"{_iso(end)} in {', '.join(sorted(set(regions)))}")
    return keys


# --- reading the archive --------------------------------------------------------------------------


def _trail_id(match: Any) -> tuple[str, ...]:
    return (match["prefix"], match["org"] or "", match["account"], match["trail"], match["home"])


def _load_digest(root: Path, key: str) -> Digest:
    match = fmt.DIGEST_KEY.match(key)
    assert match is not None
    path = root / key
    d = Digest(key=key, trail_id=_trail_id(match), region=match["region"], backfill=bool(match["backfill"]))
    meta = fmt.read_metadata(path)
    if meta is not None:
        d.signature = meta.get(fmt.META_SIGNATURE) or None
        d._algorithm = meta.get(fmt.META_ALGORITHM)  # type: ignore[attr-defined]
    try:
        d.body, d.sha256, _ = fmt.read_digest(path)
    except (fmt.DigestError, OSError) as exc:
        d._error = str(exc)  # type: ignore[attr-defined]
        d.end = fmt.parse_time(match["ts"])
        d.start = d.end - HOUR
        d.stated_key = key
        return d
    d.start = fmt.parse_time(d.body["digestStartTime"])
    d.end = fmt.parse_time(d.body["digestEndTime"])
    d.stated_key = str(d.body["digestS3Object"])
    stated = fmt.DIGEST_KEY.match(d.stated_key)
    if stated:  # a moved digest belongs to the chain it names, not to the folder it was moved to
        d.trail_id, d.region = _trail_id(stated), stated["region"]
    return d


def _check_digest(d: Digest, keys: dict[str, fmt.PublicKey], used: set[str]) -> list[Finding]:
    """The checks that need only the digest itself: readable, in place, signed, signature valid."""
    error = getattr(d, "_error", None)
    if error is not None:
        return [Finding("digest-modified", d.key, f"not a readable digest: {error}", d.region)]
    out: list[Finding] = []
    body = d.body or {}
    if d.stated_key != d.key:
        out.append(Finding("digest-moved", d.key, f"the digest names itself {d.stated_key}", d.region))
    algorithm = getattr(d, "_algorithm", None)
    if not d.signature:
        out.append(Finding("unsigned", d.key, f"no {fmt.META_SIGNATURE} in {Path(d.key).name}"
                           f"{fmt.METADATA_SUFFIX} (the S3 object metadata x-amz-meta-signature)", d.region))
        return out
    if (algorithm or body.get("digestSignatureAlgorithm")) != fmt.SIGNATURE_ALGORITHM:
        out.append(Finding("unsigned", d.key, f"signature algorithm {algorithm!r} is not "
                           f"{fmt.SIGNATURE_ALGORITHM}", d.region))
        return out
    fp = str(body.get("digestPublicKeyFingerprint") or "").lower()
    key = keys.get(fp)
    if key is None:
        out.append(Finding("unknown-key", d.key, f"public key fingerprint {fp or '(none)'} is not among "
                           f"the {len(keys)} public keys given", d.region))
        return out
    if (key.valid_from and d.end and d.end < key.valid_from - TOLERANCE) or (
            key.valid_to and d.end and d.end > key.valid_to + TOLERANCE):
        out.append(Finding("unknown-key", d.key, f"public key {fp} was not valid at {_iso(d.end)} "
                           f"({_iso(key.valid_from)} to {_iso(key.valid_to)})", d.region))
        return out
    used.add(fp)
    if not fmt.verify_signature(key.key, d.signature, fmt.signing_string(body, d.sha256)):
        out.append(Finding("digest-modified", d.key, "the signature does not verify: the digest, or its "
                           "signature metadata, was changed after CloudTrail signed it", d.region))
    return out


# --- which digests must exist ---------------------------------------------------------------------


def _expected_key(d: Digest, end: datetime) -> str:
    prefix, org, account, trail, home = d.trail_id
    return fmt.digest_key(prefix, account, d.region, trail, home, end, org=org or None)


def _missing(d: Digest, ends: list[datetime], why: str, named: str | None = None) -> list[Finding]:
    """Findings for digests that should end at ``ends``; the last may be named exactly by a successor."""
    out = []
    for i, end in enumerate(ends):
        if named and i == len(ends) - 1:
            out.append(Finding("digest-missing", named, f"{why}; named as previous digest by {d.key}",
                               d.region))
        else:
            out.append(Finding("digest-missing", _expected_key(d, end),
                               f"{why}; expected about {_iso(end)} from the hourly cadence", d.region))
    return out


def _hours(span: timedelta) -> int:
    """Hourly digests needed to cover ``span`` beyond the tolerance."""
    return max(0, math.ceil((span - TOLERANCE) / HOUR))


def check_chain(chain: list[Digest], start: datetime, end: datetime, present: set[str]) -> list[Finding]:
    """Continuity of one trail-region chain (sorted by end time) over [start, end]."""
    out: list[Finding] = []
    first, last = chain[0], chain[-1]
    assert first.start and last.end
    # Range start: the hours between the range start and the first digest need digests too.
    lead = first.start - start
    if first.body is not None and not first.previous_key:
        if lead > TOLERANCE:
            out.append(Finding("chain-restart", first.key, f"the chain starts at {_iso(first.start)}, "
                               f"{lead} after the range start, with no previous digest: no evidence "
                               f"before it", first.region))
    elif first.body is not None and _hours(lead):
        ends = [first.start - k * HOUR for k in range(_hours(lead) - 1, -1, -1)]
        named = first.previous_key if first.previous_key not in present else None
        out += _missing(first, ends, "the range start is not covered", named)
    for a, b in zip(chain, chain[1:], strict=False):
        assert a.end and b.start
        gap = b.start - a.end
        if b.body is None:
            continue  # reported as digest-modified; its links cannot be read
        if not b.previous_key:
            out.append(Finding("chain-restart", b.key, f"no previous digest although {a.key} ended at "
                               f"{_iso(a.end)}; {gap} without evidence before {_iso(b.start)}", b.region))
        elif b.previous_key == a.stated_key:
            problems = []
            if b.body.get("previousDigestHashValue") != a.sha256:
                problems.append("previousDigestHashValue is not the SHA-256 of the previous digest")
            if a.signature and b.body.get("previousDigestSignature") != a.signature:
                problems.append("previousDigestSignature is not the previous digest's signature")
            if gap > TOLERANCE:
                problems.append(f"starts {gap} after the previous digest ended")
            if problems:
                out.append(Finding("chain-broken", b.key, "; ".join(problems) + f" ({a.key})", b.region))
        elif b.previous_key in present:
            out.append(Finding("chain-broken", b.key, f"names {b.previous_key} as previous digest, which "
                               f"is not the digest before it ({a.key})", b.region))
        else:
            count = max(1, round(gap / HOUR))
            ends = [a.end + k * HOUR for k in range(1, count + 1)]
            out += _missing(b, ends, f"{count} digest(s) missing between {a.key} and {b.key}", b.previous_key)
    # Range end: hours after the last digest up to the range end need digests.
    if _hours(end - last.end):
        ends = [last.end + k * HOUR for k in range(1, _hours(end - last.end) + 1)]
        out += _missing(last, ends, f"the range end {_iso(end)} is not covered")
    return out


def _uncovered(chain: list[Digest], start: datetime, end: datetime) -> list[Finding]:
    """Every hourly digest of [start, end] for a chain that has digests only before or after it."""
    before = [d for d in chain if d.end and d.end <= start + TOLERANCE]
    ends: list[datetime] = []
    if before:  # the cadence runs on from the last digest before the range
        anchor = before[-1]
        assert anchor.end
        k = 1
        while anchor.end + (k - 1) * HOUR < end - TOLERANCE:
            if anchor.end + k * HOUR > start + TOLERANCE:
                ends.append(anchor.end + k * HOUR)
            k += 1
    else:  # and back from the first digest after it
        anchor = chain[0]
        assert anchor.start
        k = 0
        while anchor.start - k * HOUR > start + TOLERANCE:
            if anchor.start - (k + 1) * HOUR < end - TOLERANCE:
                ends.append(anchor.start - k * HOUR)
            k += 1
        ends.reverse()
    return _missing(anchor, ends, f"no digest of the range {_iso(start)} to {_iso(end)} is in the archive")


# --- log files ------------------------------------------------------------------------------------


def _inside(key: str) -> bool:
    """An S3 key that names a file under the root: relative, without ``..`` (a digest is input)."""
    parts = PurePosixPath(key).parts
    return bool(parts) and not key.startswith("/") and "\\" not in key and ".." not in parts


def _hash_file(root: Path, key: str) -> tuple[str, int] | None:
    if not _inside(key):
        return None  # never opened: reported as not in the archive
    try:
        return fmt.sha256_gzip_file(root / key)
    except FileNotFoundError:
        return None
    except (OSError, zlib.error, EOFError):
        return ("unreadable", (root / key).stat().st_size if (root / key).exists() else 0)


def parallel_map(fn: Callable[[Any], Any], items: list[Any], jobs: int,
                 progress: Callable[[int], None] | None = None) -> list[Any]:
    """``[fn(x) for x in items]`` on ``jobs`` threads, in chunks so that small files do not drown
    in per-task overhead (hashlib and zlib release the GIL while they work)."""
    if jobs <= 1 or len(items) < 2:
        out = []
        for i, item in enumerate(items, 1):
            out.append(fn(item))
            if progress:
                progress(i)
        return out
    size = max(1, min(256, len(items) // (jobs * 8) or 1))
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    out = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for result in pool.map(lambda chunk: [fn(x) for x in chunk], chunks):
            out += result
            if progress:
                progress(len(out))
    return out


def _progress(total: int, label: str) -> Callable[[int], None]:
    if not sys.stderr.isatty() or total < 200:
        return lambda done: None
    last = [0.0]

    def show(done: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] > 0.2:
            last[0] = now
            end = "\n" if done == total else ""
            print(f"\r{label}: {done}/{total}", end=end, file=sys.stderr, flush=True)
    return show


# --- the whole check ------------------------------------------------------------------------------


def verify(root: Path, keys: dict[str, fmt.PublicKey] | None = None, *, accounts: Iterable[str] = (),
           regions: Iterable[str] = (), start: datetime | None = None, end: datetime | None = None,
           jobs: int | None = None,
           key_loader: Callable[[set[str], datetime, datetime], dict[str, fmt.PublicKey]] | None = None,
           key_source: str = "") -> Report:
    """Verify the archive under ``root``; raise ``UsageError`` when there is nothing to verify."""
    if not root.is_dir():
        raise UsageError(f"DIR {root}: not a directory")
    accounts, regions = set(accounts), set(regions)
    jobs = jobs or os.cpu_count() or 1
    all_keys = sorted(fmt.iter_keys(root))
    any_digest = False
    digest_keys = []
    for key in all_keys:
        match = fmt.DIGEST_KEY.match(key)
        any_digest = any_digest or bool(match)
        if match and (not accounts or match["account"] in accounts):
            digest_keys.append(key)

    loaded = parallel_map(lambda k: _load_digest(root, k), digest_keys, jobs)
    digests = [d for d in loaded if (not regions or d.region in regions)
               and (start is None or (d.end and d.end > start + TOLERANCE))
               and (end is None or (d.start and d.start < end - TOLERANCE))]
    neighbours: list[Digest] = []
    if not digests:
        # The trail's digests before or after a requested range but none inside it: the range's
        # digests are missing (reported below), a finding rather than input the tool cannot use.
        neighbours = [d for d in loaded if (not regions or d.region in regions) and d.body is not None
                      and not d.backfill and d.key == d.stated_key]
        if start is None or end is None or not neighbours:
            raise UsageError(f"DIR {root}: no CloudTrail digest files"
                             + (" in the requested account, regions and range" if any_digest else "")
                             + "; expected AWSLogs/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/*.json.gz")
        keys = keys if keys is not None else {}  # nothing to verify a signature of

    range_start = start or min(d.start for d in digests if d.start)
    range_end = end or max(d.end for d in digests if d.end)
    if keys is None:
        assert key_loader is not None
        keys = key_loader({d.region for d in digests}, range_start - HOUR, range_end + HOUR)
    report = Report(root=str(root), range_start=range_start, range_end=range_end, key_source=key_source,
                    start_given=start is not None, end_given=end is not None)

    used: set[str] = set()
    per_digest = parallel_map(lambda d: _check_digest(d, keys, used), digests, jobs)
    for found in per_digest:
        report.findings += found
    report.fingerprints = sorted(used)
    report.digests = sum(1 for d in digests if not d.backfill)
    report.backfill_digests = sum(1 for d in digests if d.backfill)
    report.digest_bytes = sum((root / d.key).stat().st_size for d in digests)

    # Chains: one per trail and region; backfill digests stand alone (they record late log files).
    # A copy of a digest that is also at its own key is reported as digest-moved and is not a link:
    # it would stand beside the original in the chain and make the original look out of place.
    at_own_key = {d.key for d in loaded if d.key == d.stated_key}
    chains: dict[tuple[Any, ...], list[Digest]] = defaultdict(list)
    for d in digests:
        if not d.backfill and (d.key == d.stated_key or d.stated_key not in at_own_key):
            chains[(*d.trail_id, d.region)].append(d)
    present = {d.stated_key for d in loaded} | {d.key for d in loaded}
    by_trail: dict[tuple[str, ...], list[list[Digest]]] = defaultdict(list)
    for chain in chains.values():
        chain.sort(key=lambda d: (d.end, d.key))
        by_trail[chain[0].trail_id].append(chain)
    for trail_id, trail_chains in sorted(by_trail.items()):
        # Without --start/--end, the trail's range is what its regions together cover: a region
        # whose chain stops before the others is missing its newest digests.
        t_start = start or min(c[0].start for c in trail_chains)
        t_end = end or max(c[-1].end for c in trail_chains)
        for chain in sorted(trail_chains, key=lambda c: c[0].region):
            report.findings += check_chain(chain, t_start, t_end, present)
        prefix, org, account, trail, home = trail_id
        report.trails.append({
            "trail": trail, "account": account, "organization": org or None, "homeRegion": home,
            "prefix": prefix, "bucket": sorted({str(d.body.get("digestS3Bucket")) for c in trail_chains
                                                for d in c if d.body}),
            "regions": sorted(c[0].region for c in trail_chains),
            "covered": {"start": _iso(min(c[0].start for c in trail_chains)),
                        "end": _iso(max(c[-1].end for c in trail_chains))},
        })

    if neighbours:
        assert start is not None and end is not None
        near: dict[tuple[Any, ...], list[Digest]] = defaultdict(list)
        for d in neighbours:
            near[(*d.trail_id, d.region)].append(d)
        regions_of: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for chain in near.values():
            chain.sort(key=lambda d: (d.end, d.key))
            report.findings += _uncovered(chain, start, end)
            regions_of[chain[0].trail_id].append(chain[0].region)
        for trail_id, trail_regions in sorted(regions_of.items()):
            prefix, org, account, trail, home = trail_id
            report.trails.append({
                "trail": trail, "account": account, "organization": org or None, "homeRegion": home,
                "prefix": prefix,
                "bucket": sorted({str((d.body or {}).get("digestS3Bucket")) for d in neighbours
                                  if d.trail_id == trail_id}),
                "regions": sorted(trail_regions), "covered": {"start": None, "end": None},
            })

    # Log files listed by the digests of the range. A file listed by several digests is checked
    # against each record: it cannot match two different hashes.
    listed: dict[str, list[tuple[str, Digest]]] = defaultdict(list)
    for d in digests:
        for entry in (d.body or {}).get("logFiles") or []:
            if isinstance(entry, dict) and entry.get("s3Object"):
                listed[str(entry["s3Object"])].append((str(entry.get("hashValue", "")).lower(), d))
    items = sorted(listed)
    progress = _progress(len(items), "hashing log files")
    results = parallel_map(lambda k: _hash_file(root, k), items, jobs, progress)
    gone: list[str] = []
    for key, result in zip(items, results, strict=True):
        if result is None:
            gone.append(key)
            continue
        actual, size = result
        report.log_files += 1
        report.log_bytes += size
        for expected, d in listed[key]:
            if actual != expected:
                what = "not a readable gzip file" if actual == "unreadable" else f"SHA-256 {actual}"
                report.findings.append(Finding("log-file-modified", key,
                                               f"{what}; {d.key} recorded {expected}", d.region))
    if gone:
        # A log file that is not at its key may have been moved: look for its content elsewhere.
        loose = [k for k in all_keys if fmt.LOG_KEY.match(k) and k not in listed]
        hashed = dict(zip(loose, parallel_map(lambda k: _hash_file(root, k), loose, jobs), strict=True))
        elsewhere = {h[0]: k for k, h in hashed.items() if h}
        for key in gone:
            expected, d = listed[key][0]
            outside = "" if _inside(key) else "; the key leaves the archive root and was not read"
            if expected in elsewhere:
                report.findings.append(Finding("log-file-moved", key, f"listed in {d.key}; its content is "
                                               f"at {elsewhere[expected]}", d.region))
            else:
                report.findings.append(Finding("log-file-deleted", key, f"listed in {d.key}{outside}",
                                               d.region))
    order = list(KINDS)
    report.findings.sort(key=lambda f: (order.index(f.kind), f.key))
    return report


# --- output ---------------------------------------------------------------------------------------


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n:,} bytes"


def render_text(report: Report) -> str:
    lines = []
    for f in report.findings:
        lines.append(f"{f.kind}: {f.key}\n    {f.detail}")
    s = report.as_dict()["summary"]
    rng = report.as_dict()["range"]
    lines.append(f"{'VERIFIED' if report.ok else 'FINDINGS'}: {s['digests']} digests "
                 f"(+{s['backfillDigests']} backfill), {s['logFiles']} log files, {_mb(s['logBytes'])}, "
                 f"range {rng['start']} to {rng['end']}, {len(report.findings)} finding(s)")
    for t in report.trails:
        lines.append(f"  trail {t['trail']} account {t['account']} regions {', '.join(t['regions'])} "
                     f"covered {_covered(t)}")
    lines.append(f"  public keys used: {', '.join(report.fingerprints) or 'none'} ({report.key_source})")
    return "\n".join(lines) + "\n"


def _covered(trail: dict[str, Any]) -> str:
    span = trail["covered"]
    return f"{span['start']} to {span['end']}" if span["start"] else "none in the range"


def _range_source(report: Report) -> str:
    start = "--start" if report.start_given else "not given, the oldest digest's start"
    end = "--end" if report.end_given else "not given, the newest digest's end"
    return f"start: {start}; end: {end}"


def render_markdown(report: Report, generated: datetime | None = None) -> str:
    d = report.as_dict()
    s, rng = d["summary"], d["range"]
    generated = generated or datetime.now(UTC)
    verdict = ("**Verified**: every digest's signature, every digest chain and every listed log file "
               "checked out, and no hourly digest of the range is missing."
               if report.ok else f"**Not verified**: {len(report.findings)} finding(s), listed below.")
    out = [
        "# CloudTrail log file integrity verification",
        "",
        verdict,
        "",
        "| | |", "|---|---|",
    ]
    for t in report.trails:
        org = f" (organization {t['organization']})" if t["organization"] else ""
        out.append(f"| Trail | `{t['trail']}` (home region {t['homeRegion']}) |")
        out.append(f"| Account | `{t['account']}`{org} |")
        out.append(f"| Bucket | {', '.join(f'`{b}`' for b in t['bucket'])} |")
        out.append(f"| Regions | {', '.join(t['regions'])} |")
        out.append(f"| Digests cover | {_covered(t)} |")
    out += [
        f"| Range verified | {rng['start']} to {rng['end']} ({_range_source(report)}) |",
        f"| Digests | {s['digests']} hourly, {s['backfillDigests']} backfill |",
        f"| Log files | {s['logFiles']} ({_mb(s['logBytes'])} compressed) |",
        f"| Findings | {s['findings']} |",
        f"| Public keys | {report.key_source}; fingerprints used: "
        f"{', '.join(f'`{fp}`' for fp in report.fingerprints) or 'none'} |",
        f"| Report generated | {fmt.format_time(generated)} by `python -m spawn_audit verify` |",
        "",
        "## Findings",
        "",
    ]
    if report.findings:
        out += ["| Kind | S3 key | Detail |", "|---|---|---|"]
        out += [f"| {f.kind} | `{f.key}` | {f.detail.replace('|', '/')} |" for f in report.findings]
    else:
        out.append("None.")
    out += ["", "## Method", "",
            "Each digest's signature was checked with RSA PKCS#1 v1.5 / SHA-256 over the string CloudTrail "
            "signs (AWS CloudTrail User Guide, \"Validating CloudTrail log file integrity with a custom "
            "implementation\"); each log file's and previous digest's SHA-256 was compared with the value "
            "the digest records (\"CloudTrail digest file structure\"); hourly continuity was checked per "
            "region from the range start to the range end.", "",
            "Finding kinds: " + "; ".join(f"`{k}`: {v}" for k, v in KINDS.items()) + ".", ""]
    return "\n".join(out)


# --- command line ---------------------------------------------------------------------------------


def parse_time_arg(option: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {value!r}: not a time; use ISO 8601 UTC, e.g. 2026-11-01T00:00:00Z "
                         f"or 2026-11-01") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(name, help="verify a local copy of the archive: digest chains, signatures, "
                              "log file hashes, missing digests",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("dir", metavar="DIR", type=Path,
                   help="archive root laid out like the bucket (download --to)")
    p.add_argument("--public-keys", metavar="FILE", type=Path,
                   help="ListPublicKeys JSON (aws cloudtrail list-public-keys); default: ask CloudTrail")
    p.add_argument("--account", action="append", default=[], help="only this account (repeatable)")
    p.add_argument("--region", action="append", default=[], help="only this region (repeatable)")
    p.add_argument("--start", help="range start, ISO 8601 UTC (default: the oldest digest's start)")
    p.add_argument("--end", help="range end, ISO 8601 UTC (default: the newest digest's end)")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    p.add_argument("--jobs", type=int, default=None, help="worker threads (default: one per CPU)")
    p.add_argument("--endpoint-url", help="CloudTrail endpoint for the live key lookup")
    return p


def run(args: argparse.Namespace) -> int:
    start = parse_time_arg("--start", args.start) if args.start else None
    end = parse_time_arg("--end", args.end) if args.end else None
    if start and end and start >= end:
        raise UsageError(f"--start {args.start} is not before --end {args.end}")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: use 1 or more")
    if args.public_keys:
        keys, loader, source = keys_from_file(args.public_keys), None, f"file {args.public_keys.name}"
    else:
        keys, source = None, "CloudTrail ListPublicKeys"

        def loader(regions: set[str], s: datetime, e: datetime) -> dict[str, fmt.PublicKey]:
            return keys_from_cloudtrail(regions, s, e, args.endpoint_url)
    report = verify(args.dir, keys, accounts=args.account, regions=args.region, start=start, end=end,
                    jobs=args.jobs, key_loader=loader, key_source=source)
    if args.format == "json":
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(report))
    else:
        sys.stdout.write(render_text(report))
    return EXIT_OK if report.ok else EXIT_FINDINGS
