"""CloudTrail digest and log file formats: object keys, the signing string, keys and signatures.

Shared by ``download`` (which must keep each digest's signature, held in S3 object metadata) and
``verify``. Every format here follows the AWS CloudTrail User Guide:

* "CloudTrail digest file structure": the digest key layout
  ``AWSLogs/[<org-id>/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/
  <account>_CloudTrail-Digest_<region>_<trail>_<home-region>_<YYYYMMDDTHHMMSSZ>.json.gz``, its
  fields, ``_backfill`` digests, and the signature in the object metadata ``x-amz-meta-signature``
  (hex) with ``x-amz-meta-signature-algorithm`` (``SHA256withRSA``).
* "Validating CloudTrail log file integrity with a custom implementation": the string that is
  signed (``digestEndTime``, ``digestS3Bucket/digestS3Object``, hex SHA-256 of the uncompressed
  digest, ``previousDigestSignature`` or ``null``, joined by newlines), RSA PKCS#1 v1.5 with
  SHA-256, and public keys from ``ListPublicKeys`` whose fingerprint is the hex MD5 of the DER key.

Control served: log file integrity validation (PCI DSS v4.0.1 10.3.4, HIPAA 45 CFR 164.312(c)(1),
CIS AWS Foundations 3.2 / Security Hub CloudTrail.4) is evidence only when someone checks it.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import os
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGNATURE_ALGORITHM = "SHA256withRSA"
# S3 user metadata names (boto3 returns them without the x-amz-meta- prefix).
META_SIGNATURE = "signature"
META_ALGORITHM = "signature-algorithm"
METADATA_SUFFIX = ".metadata.json"
CHUNK = 1 << 20
WHOLE_FILE = 8 << 20

_ORG = r"(?:(?P<org>o-[a-z0-9]{10,32})/)?"
DIGEST_KEY = re.compile(
    r"^(?P<prefix>(?:.*/)?)AWSLogs/" + _ORG + r"(?P<account>\d{12})/CloudTrail-Digest/(?P<region>[a-z0-9-]+)/"
    r"(?P<y>\d{4})/(?P<m>\d\d)/(?P<d>\d\d)/(?P=account)_CloudTrail-Digest_(?P=region)_(?P<trail>.+)_"
    r"(?P<home>[a-z]{2}(?:-[a-z]+)+-\d)_(?P<ts>\d{8}T\d{6}Z)(?P<backfill>_backfill)?\.json\.gz$"
)
LOG_KEY = re.compile(
    r"^(?P<prefix>(?:.*/)?)AWSLogs/" + _ORG + r"(?P<account>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/"
    r"(?P<y>\d{4})/(?P<m>\d\d)/(?P<d>\d\d)/(?P=account)_CloudTrail_(?P=region)_(?P<ts>\d{8}T\d{4}Z)_"
    r"(?P<unique>[A-Za-z0-9]+)\.json\.gz$"
)


class DigestError(Exception):
    """A digest that cannot be read or parsed."""


def parse_time(value: str) -> datetime:
    """A digest's ``2026-11-27T17:01:31Z`` (or a key's compact ``20261127T170131Z``) as UTC."""
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y%m%dT%H%M%SZ", "%Y%m%dT%H%MZ"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"not a CloudTrail timestamp: {value!r}")


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_time(key: str) -> datetime | None:
    """The timestamp in a digest's or log file's name, or None for another key."""
    match = DIGEST_KEY.match(key) or LOG_KEY.match(key)
    return parse_time(match["ts"]) if match else None


def digest_key(prefix: str, account: str, region: str, trail: str, home_region: str, end: datetime,
               *, org: str | None = None, backfill: bool = False) -> str:
    """The key CloudTrail writes a digest to, for a digest ending at ``end``."""
    end = end.astimezone(UTC)
    org_part = f"{org}/" if org else ""
    return (f"{prefix}AWSLogs/{org_part}{account}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}/"
            f"{account}_CloudTrail-Digest_{region}_{trail}_{home_region}_{end:%Y%m%dT%H%M%SZ}"
            f"{'_backfill' if backfill else ''}.json.gz")


def signing_string(digest: dict[str, Any], digest_sha256_hex: str) -> bytes:
    """The UTF-8 string CloudTrail signs (custom implementation guide, "Recreate the data signing string")."""
    previous = digest.get("previousDigestSignature") or "null"
    return (f"{digest['digestEndTime']}\n{digest['digestS3Bucket']}/{digest['digestS3Object']}\n"
            f"{digest_sha256_hex}\n{previous}").encode()


def fingerprint(der: bytes) -> str:
    """The hex MD5 of a public key's DER bytes, as ``digestPublicKeyFingerprint`` names it."""
    return hashlib.md5(der, usedforsecurity=False).hexdigest()


def load_public_key(der: bytes) -> rsa.RSAPublicKey:
    """A DER public key, PKCS#1 ``RSAPublicKey`` or ``SubjectPublicKeyInfo`` (both load here)."""
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not a DER RSA public key: {exc}") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def verify_signature(key: rsa.RSAPublicKey, signature_hex: str, message: bytes) -> bool:
    if not isinstance(signature_hex, str):  # a metadata file is input: it may hold any JSON value
        return False
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        return False
    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def sign(private_key: rsa.RSAPrivateKey, message: bytes) -> str:
    """Hex signature, as CloudTrail stores it in ``x-amz-meta-signature`` (for tests and benchmarks)."""
    return private_key.sign(message, padding.PKCS1v15(), hashes.SHA256()).hex()


@dataclass(frozen=True)
class PublicKey:
    fingerprint: str
    key: rsa.RSAPublicKey
    valid_from: datetime | None
    valid_to: datetime | None


def public_keys_from_response(response: dict[str, Any], source: str) -> dict[str, PublicKey]:
    """Keys from a ``ListPublicKeys`` response: ``Value`` as base64 text (CLI JSON) or bytes (boto3)."""
    entries = response.get("PublicKeyList") if isinstance(response, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{source}: expected a ListPublicKeys response, an object with \"PublicKeyList\"")
    keys: dict[str, PublicKey] = {}
    for index, entry in enumerate(entries):
        where = f"{source}: PublicKeyList[{index}]"
        value = entry.get("Value") if isinstance(entry, dict) else None
        if isinstance(value, str):
            try:
                der = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(f"{where}.Value is not base64") from None
        elif isinstance(value, bytes | bytearray):
            der = bytes(value)
        else:
            raise ValueError(f"{where} has no Value")
        try:
            key = load_public_key(der)
        except ValueError as exc:
            raise ValueError(f"{where}.Value: {exc}") from None
        fp = fingerprint(der)
        stated = entry.get("Fingerprint")
        if stated is not None and not (isinstance(stated, str) and re.fullmatch(r"[0-9a-fA-F]{32}", stated)):
            raise ValueError(f"{where}.Fingerprint {stated!r} is not a hex MD5 (32 hex digits)")
        if stated and stated.lower() != fp:
            raise ValueError(f"{where}.Fingerprint {stated} is not the MD5 of its Value ({fp})")
        keys[fp] = PublicKey(fp, key, _as_time(entry.get("ValidityStartTime"), f"{where}.ValidityStartTime"),
                             _as_time(entry.get("ValidityEndTime"), f"{where}.ValidityEndTime"))
    return keys


def _as_time(value: Any, where: str) -> datetime | None:
    """A key's validity time: a datetime (boto3), ISO 8601 text (AWS CLI v2) or epoch seconds (AWS
    CLI v1 prints timestamps as CloudTrail's JSON protocol sends them); absent means unbounded."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"{where} {value!r} is not a time (ISO 8601 or epoch seconds)")


def sha256_gzip_file(path: Path) -> tuple[str, int]:
    """(hex SHA-256 of the uncompressed content, compressed size). hashlib and zlib release the GIL.

    A file up to ``WHOLE_FILE`` bytes is read in one call (most CloudTrail log files are small, and
    per-call overhead dominates); larger ones stream in ``CHUNK`` pieces.
    """
    digest = hashlib.sha256()
    size = 0
    decompressor = zlib.decompressobj(wbits=47)  # gzip or zlib header, auto-detected
    with open(path, "rb") as raw:
        whole = os.fstat(raw.fileno()).st_size <= WHOLE_FILE
        while True:
            chunk = raw.read() if whole else raw.read(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            digest.update(decompressor.decompress(chunk))
            # A file made of several gzip members (allowed by RFC 1952) continues after each end.
            while decompressor.eof and decompressor.unused_data:
                rest = decompressor.unused_data
                decompressor = zlib.decompressobj(wbits=47)
                digest.update(decompressor.decompress(rest))
            if whole:
                break
        digest.update(decompressor.flush())
        if not decompressor.eof:
            raise zlib.error("truncated gzip stream")
    return digest.hexdigest(), size


def read_digest(path: Path) -> tuple[dict[str, Any], str, bytes]:
    """(parsed digest, hex SHA-256 of its uncompressed bytes, uncompressed bytes)."""
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        raise DigestError(f"not a readable gzip file ({exc})") from None
    try:
        parsed = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DigestError(f"not JSON ({exc})") from None
    required = ("digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object", "logFiles")
    if not isinstance(parsed, dict) or any(k not in parsed for k in required):
        raise DigestError(f"not a CloudTrail digest (needs {', '.join(required)})")
    try:
        parse_time(parsed["digestStartTime"])
        parse_time(parsed["digestEndTime"])
    except (TypeError, ValueError) as exc:
        raise DigestError(str(exc)) from None
    return parsed, hashlib.sha256(data).hexdigest(), data


def read_metadata(path: Path) -> dict[str, str] | None:
    """The digest's saved S3 user metadata, or None when there is none."""
    meta = path.with_name(path.name + METADATA_SUFFIX)
    try:
        value = json.loads(meta.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def write_metadata(path: Path, metadata: dict[str, str]) -> None:
    """Save the digest's signature metadata beside it (``<digest>.metadata.json``), atomically."""
    meta = path.with_name(path.name + METADATA_SUFFIX)
    tmp = meta.with_name(meta.name + ".part")
    tmp.write_text(json.dumps({k: metadata[k] for k in sorted(metadata)}, indent=2) + "\n", encoding="utf-8")
    tmp.replace(meta)


def iter_keys(root: Path) -> Iterable[str]:
    """Every ``*.json.gz`` file under ``root`` as an S3 key (``/``-separated, relative to ``root``)."""
    base = str(root)
    for directory, _, names in os.walk(base):
        rel = os.path.relpath(directory, base).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        for name in names:
            if name.endswith(".json.gz"):
                yield prefix + name
