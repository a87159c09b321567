"""Build a CloudTrail archive signed with a test key: log files, hourly digest chains, a backfill digest.

The layout, fields and signature are CloudTrail's (AWS CloudTrail User Guide, "CloudTrail digest
file structure" and "Validating CloudTrail log file integrity with a custom implementation"); the
key is an RSA key generated here, because CloudTrail's private keys are, rightly, nobody's. The
archive is written the way ``download`` writes it (each digest's S3 user metadata beside it in
``<digest>.metadata.json``), and ``objects`` holds the same content for an upload to an S3 stand-in.
Used by the tests and by the verification benchmark.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from spawn_audit import digest as fmt

ACCOUNT = "123456789012"
TRAIL = "spawn-audit-prod"
HOME = "us-east-1"
BUCKET = "spawn-audit-prod-logs"
# Digest hours start when validation started, not on the clock hour.
START = datetime(2026, 11, 27, 17, 1, 31, tzinfo=UTC)
HOUR = timedelta(hours=1)


@functools.cache
def private_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    """One key per test session (and per size)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def public_der(key: rsa.RSAPrivateKey) -> bytes:
    # PKCS#1 RSAPublicKey, as CloudTrail's ListPublicKeys returns it.
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def list_public_keys_response(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The shape of ``aws cloudtrail list-public-keys`` output (Value in base64)."""
    der = public_der(key)
    return {"PublicKeyList": [{
        "Value": base64.b64encode(der).decode(),
        "ValidityStartTime": "2026-01-01T00:00:00Z",
        "ValidityEndTime": "2027-12-31T00:00:00Z",
        "Fingerprint": fmt.fingerprint(der),
    }]}


@dataclass
class Archive:
    root: Path
    key: rsa.RSAPrivateKey
    account: str = ACCOUNT
    trail: str = TRAIL
    bucket: str = BUCKET
    regions: tuple[str, ...] = ()
    # key -> (stored bytes, S3 user metadata or None)
    objects: dict[str, tuple[bytes, dict[str, str] | None]] = field(default_factory=dict)
    chains: dict[str, list[str]] = field(default_factory=dict)  # region -> hourly digest keys, oldest first
    logs: dict[str, list[str]] = field(default_factory=dict)  # region -> log file keys
    backfill: list[str] = field(default_factory=list)

    def path(self, key: str) -> Path:
        return self.root / key

    def write_public_keys(self, path: Path) -> Path:
        path.write_text(json.dumps(list_public_keys_response(self.key)))
        return path

    def digest_body(self, key: str) -> dict[str, Any]:
        return json.loads(gzip.decompress(self.path(key).read_bytes()))

    def rewrite_digest(self, key: str, body: dict[str, Any], *, resign: bool) -> None:
        """Replace a digest's content; ``resign`` signs it with the test key (a forger holding the key)."""
        data = json.dumps(body).encode()
        self.path(key).write_bytes(gzip.compress(data))
        if resign:
            signature = fmt.sign(self.key, fmt.signing_string(body, hashlib.sha256(data).hexdigest()))
            fmt.write_metadata(self.path(key), {fmt.META_SIGNATURE: signature,
                                                fmt.META_ALGORITHM: fmt.SIGNATURE_ALGORITHM})

    def delete(self, key: str) -> None:
        self.path(key).unlink()
        meta = self.path(key).with_name(self.path(key).name + fmt.METADATA_SUFFIX)
        meta.unlink(missing_ok=True)

    def move(self, key: str, new_key: str) -> None:
        target = self.path(new_key)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.path(key).rename(target)
        meta = self.path(key).with_name(self.path(key).name + fmt.METADATA_SUFFIX)
        if meta.exists():
            meta.rename(target.with_name(target.name + fmt.METADATA_SUFFIX))


def _log_file(region: str, when: datetime, index: int, events: int, pad: int) -> bytes:
    records = [{
        "eventVersion": "1.11", "eventTime": fmt.format_time(when - timedelta(seconds=30 * i)),
        "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "awsRegion": region,
        "sourceIPAddress": "198.51.100.7", "userAgent": "spawn/1.0",
        "userIdentity": {"type": "AssumedRole",
                         "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/spawn-launcher/s"},
        "requestParameters": {"instanceType": "c7i.large", "sweep": f"sweep-{index}-{i}", "pad": "x" * pad},
        "eventID": hashlib.md5(f"{region}{when}{index}{i}".encode()).hexdigest(),
        "recipientAccountId": ACCOUNT,
    } for i in range(events)]
    return gzip.compress(json.dumps({"Records": records}).encode(), compresslevel=6, mtime=0)


def build_archive(root: Path, *, regions: tuple[str, ...] = ("us-east-1", "eu-west-1"), hours: int = 4,
                  files_per_hour: int = 2, empty_hours: tuple[int, ...] = (), restart_at: int | None = None,
                  backfill: bool = True, events: int = 3, pad: int = 0, key: rsa.RSAPrivateKey | None = None,
                  start: datetime = START, prefix: str = "", write: bool = True) -> Archive:
    """An intact, signed archive: per region ``hours`` hourly digests, each listing its log files.

    ``empty_hours``: hours whose digest lists no log file (CloudTrail still delivers it).
    ``restart_at``: the hour whose digest starts a new chain (null previous fields), as after
    logging or validation was turned off and on again.
    """
    key = key or private_key()
    fingerprint = fmt.fingerprint(public_der(key))
    archive = Archive(root=root, key=key, regions=regions)
    base = f"{prefix}AWSLogs/{ACCOUNT}"

    def put(k: str, data: bytes, meta: dict[str, str] | None = None) -> None:
        archive.objects[k] = (data, meta)

    def make_digest(region: str, begin: datetime, end: datetime, logs: list[tuple[str, bytes]],
                    previous: tuple[str, str, str] | None, is_backfill: bool, delivered: datetime) -> tuple:
        k = fmt.digest_key(prefix, ACCOUNT, region, TRAIL, HOME, delivered, backfill=is_backfill)
        body = {
            "awsAccountId": ACCOUNT,
            "digestStartTime": fmt.format_time(begin), "digestEndTime": fmt.format_time(end),
            "digestS3Bucket": BUCKET, "digestS3Object": k,
            "digestPublicKeyFingerprint": fingerprint, "digestSignatureAlgorithm": fmt.SIGNATURE_ALGORITHM,
            "newestEventTime": fmt.format_time(end - timedelta(minutes=2)),
            "oldestEventTime": fmt.format_time(begin + timedelta(minutes=1)),
            "previousDigestS3Bucket": BUCKET if previous else None,
            "previousDigestS3Object": previous[0] if previous else None,
            "previousDigestHashValue": previous[1] if previous else None,
            "previousDigestHashAlgorithm": "SHA-256" if previous else None,
            "previousDigestSignature": previous[2] if previous else None,
            "logFiles": [{
                "s3Bucket": BUCKET, "s3Object": lk,
                "hashValue": hashlib.sha256(gzip.decompress(data)).hexdigest(), "hashAlgorithm": "SHA-256",
                "newestEventTime": fmt.format_time(end - timedelta(minutes=3)),
                "oldestEventTime": fmt.format_time(begin + timedelta(minutes=2)),
            } for lk, data in logs],
        }
        data = json.dumps(body).encode()
        sha = hashlib.sha256(data).hexdigest()
        signature = fmt.sign(key, fmt.signing_string(body, sha))
        put(k, gzip.compress(data, mtime=0), {fmt.META_SIGNATURE: signature,
                                               fmt.META_ALGORITHM: fmt.SIGNATURE_ALGORITHM})
        return k, sha, signature

    counter = 0
    for region in regions:
        archive.chains[region], archive.logs[region] = [], []
        previous = None
        for h in range(hours):
            begin = start + h * HOUR
            end = begin + HOUR
            logs = []
            for i in range(0 if h in empty_hours else files_per_hour):
                counter += 1
                when = begin + (i + 1) * HOUR / (files_per_hour + 1)
                lk = (f"{base}/CloudTrail/{region}/{when:%Y/%m/%d}/{ACCOUNT}_CloudTrail_{region}_"
                      f"{when:%Y%m%dT%H%MZ}_{counter:016X}.json.gz")
                data = _log_file(region, when, counter, events, pad)
                put(lk, data)
                logs.append((lk, data))
                archive.logs[region].append(lk)
            if h == restart_at:
                previous = None
            previous = make_digest(region, begin, end, logs, previous, False, end)
            archive.chains[region].append(previous[0])
    if backfill and regions and hours > 1:
        # A log file delivered late for the first hour, recorded by a backfill digest.
        region = regions[0]
        begin = start
        when = begin + timedelta(minutes=50)
        counter += 1
        lk = (f"{base}/CloudTrail/{region}/{when:%Y/%m/%d}/{ACCOUNT}_CloudTrail_{region}_"
              f"{when:%Y%m%dT%H%MZ}_{counter:016X}.json.gz")
        data = _log_file(region, when, counter, events, pad)
        put(lk, data)
        archive.logs[region].append(lk)
        k, _, _ = make_digest(region, begin, begin + HOUR, [(lk, data)], None, True,
                              start + hours * HOUR - timedelta(minutes=10))
        archive.backfill.append(k)
    if write:
        for k, (data, meta) in archive.objects.items():
            path = root / k
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            if meta is not None:
                fmt.write_metadata(path, meta)
    return archive
