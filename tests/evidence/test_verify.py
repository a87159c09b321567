"""verify: an intact archive passes; each kind of tampering, alone, gives exactly its finding.

Every negative test starts from the same intact archive (two regions, four hourly digests each,
two log files an hour, one backfill digest), changes one thing, and asserts the findings
(kind and S3 key) and exit 1.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import archive_factory
import pytest

from spawn_audit import digest as fmt
from spawn_audit import verify
from spawn_audit.__main__ import main
from spawn_audit.errors import UsageError


def findings(archive, keys_file: Path, **kwargs) -> list[tuple[str, str]]:
    keys = verify.keys_from_file(keys_file)
    report = verify.verify(archive.root, keys, **kwargs)
    return [(f.kind, f.key) for f in report.findings]


def cli(archive, keys_file: Path, *extra: str) -> int:
    return main(["verify", str(archive.root), "--public-keys", str(keys_file), *extra])


def test_intact_archive_verifies(archive, keys_file, capsys) -> None:
    assert cli(archive, keys_file, "--format", "json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["result"] == "verified"
    assert out["findings"] == []
    assert out["summary"]["digests"] == 8
    assert out["summary"]["backfillDigests"] == 1
    assert out["summary"]["logFiles"] == 17
    assert out["summary"]["logBytes"] == sum(len(archive.objects[k][0]) for r in archive.logs.values()
                                            for k in r)
    assert out["range"] == {"start": "2026-11-27T17:01:31Z", "end": "2026-11-27T21:01:31Z"}
    assert out["publicKeys"]["fingerprintsUsed"] == [
        fmt.fingerprint(archive_factory.public_der(archive.key))]


def test_intact_variant_with_empty_hours_spki_key_and_prefix(tmp_path) -> None:
    # Written differently: one region, a bucket prefix, hours without log files, the key as
    # SubjectPublicKeyInfo rather than PKCS#1, and an explicit range.
    from cryptography.hazmat.primitives import serialization
    a = archive_factory.build_archive(tmp_path / "a", regions=("ap-southeast-2",), hours=5,
                                      empty_hours=(1, 2), prefix="org-logs/", backfill=False)
    der = a.key.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    keys = tmp_path / "keys.json"
    import base64
    keys.write_text(json.dumps({"PublicKeyList": [{"Value": base64.b64encode(der).decode()}]}))
    # CloudTrail names the key by the MD5 of the DER it returns; a SPKI copy has another MD5, so
    # state the fingerprint the digests use.
    body = json.loads(keys.read_text())
    report = verify.verify(a.root, {fmt.fingerprint(archive_factory.public_der(a.key)):
                                    fmt.PublicKey("x", fmt.load_public_key(der), None, None)},
                           start=archive_factory.START, end=archive_factory.START + 5 * archive_factory.HOUR)
    assert body["PublicKeyList"]
    assert report.findings == []
    assert report.digests == 5 and report.log_files == 6


def test_modified_log_file(archive, keys_file) -> None:
    key = archive.logs["eu-west-1"][3]
    records = json.loads(gzip.decompress(archive.path(key).read_bytes()))
    records["Records"][0]["eventName"] = "DescribeInstances"
    archive.path(key).write_bytes(gzip.compress(json.dumps(records).encode()))
    assert findings(archive, keys_file) == [("log-file-modified", key)]
    assert cli(archive, keys_file) == 1


def test_recompressed_log_file_with_same_content_is_intact(archive, keys_file) -> None:
    # The hash is over the uncompressed bytes: a different gzip of the same content is not a change.
    key = archive.logs["us-east-1"][0]
    archive.path(key).write_bytes(gzip.compress(gzip.decompress(archive.path(key).read_bytes()), 9))
    assert findings(archive, keys_file) == []


def test_deleted_log_file(archive, keys_file) -> None:
    key = archive.logs["us-east-1"][2]
    archive.delete(key)
    assert findings(archive, keys_file) == [("log-file-deleted", key)]
    assert cli(archive, keys_file) == 1


def test_moved_log_file(archive, keys_file) -> None:
    key = archive.logs["us-east-1"][2]
    archive.move(key, key.replace("_CloudTrail_us-east-1_", "_CloudTrail_us-east-1_").replace(".json.gz",
                                                                                               "0.json.gz"))
    assert findings(archive, keys_file) == [("log-file-moved", key)]


def test_modified_digest_breaks_its_signature_and_the_next_link(archive, keys_file) -> None:
    chain = archive.chains["eu-west-1"]
    body = archive.digest_body(chain[1])
    body["logFiles"] = body["logFiles"][:1]  # hide a log file
    archive.rewrite_digest(chain[1], body, resign=False)
    assert findings(archive, keys_file) == [("digest-modified", chain[1]), ("chain-broken", chain[2])]
    assert cli(archive, keys_file) == 1


def test_changed_signature_metadata(archive, keys_file) -> None:
    chain = archive.chains["us-east-1"]
    meta = archive.path(chain[2]).with_name(archive.path(chain[2]).name + fmt.METADATA_SUFFIX)
    data = json.loads(meta.read_text())
    data["signature"] = data["signature"][:-2] + ("00" if data["signature"][-2:] != "00" else "11")
    meta.write_text(json.dumps(data))
    # The digest no longer verifies, and its successor recorded the original signature.
    assert findings(archive, keys_file) == [("digest-modified", chain[2]), ("chain-broken", chain[3])]


def test_broken_chain_previous_hash(archive, keys_file) -> None:
    # The newest digest, validly signed, records another hash for its previous digest. (Re-signing
    # an older one would also change the signature its successor records.)
    chain = archive.chains["us-east-1"]
    body = archive.digest_body(chain[3])
    body["previousDigestHashValue"] = "0" * 64
    archive.rewrite_digest(chain[3], body, resign=True)
    assert findings(archive, keys_file) == [("chain-broken", chain[3])]
    assert cli(archive, keys_file) == 1


def test_broken_chain_previous_signature(archive, keys_file) -> None:
    chain = archive.chains["eu-west-1"]
    body = archive.digest_body(chain[3])
    body["previousDigestSignature"] = "ab" * 256
    archive.rewrite_digest(chain[3], body, resign=True)
    assert findings(archive, keys_file) == [("chain-broken", chain[3])]


def test_missing_digest_in_the_middle(archive, keys_file) -> None:
    chain = archive.chains["us-east-1"]
    archive.delete(chain[1])
    assert findings(archive, keys_file) == [("digest-missing", chain[1])]
    assert cli(archive, keys_file) == 1


def test_two_consecutive_missing_digests(archive, keys_file) -> None:
    # The case aws cloudtrail validate-logs misses: both are reported, by their exact keys.
    chain = archive.chains["eu-west-1"]
    archive.delete(chain[1])
    archive.delete(chain[2])
    assert findings(archive, keys_file) == [("digest-missing", chain[1]), ("digest-missing", chain[2])]
    assert cli(archive, keys_file) == 1


def test_newest_digest_missing_found_through_the_other_regions(archive, keys_file) -> None:
    chain = archive.chains["eu-west-1"]
    archive.delete(chain[-1])
    assert findings(archive, keys_file) == [("digest-missing", chain[-1])]
    assert cli(archive, keys_file) == 1


def test_newest_digest_missing_in_one_region_with_end(tmp_path) -> None:
    a = archive_factory.build_archive(tmp_path / "a", regions=("us-east-1",), backfill=False)
    keys = a.write_public_keys(tmp_path / "k.json")
    end = "2026-11-27T21:00:00Z"
    assert findings(a, keys, end=verify.parse_time_arg("--end", end)) == []
    a.delete(a.chains["us-east-1"][-1])
    assert findings(a, keys, end=verify.parse_time_arg("--end", end)) == [
        ("digest-missing", a.chains["us-east-1"][-1])]


def test_first_digest_missing_with_start(archive, keys_file) -> None:
    start = verify.parse_time_arg("--start", "2026-11-27T17:30:00Z")
    assert findings(archive, keys_file, start=start) == []
    chain = archive.chains["us-east-1"]
    archive.delete(chain[0])
    assert findings(archive, keys_file, start=start) == [("digest-missing", chain[0])]


def test_moved_digest(archive, keys_file) -> None:
    chain = archive.chains["us-east-1"]
    new = chain[1].replace("/2026/11/27/", "/2026/11/26/")
    archive.move(chain[1], new)
    assert findings(archive, keys_file) == [("digest-moved", new)]
    assert cli(archive, keys_file) == 1


def test_chain_restart_in_the_middle(tmp_path) -> None:
    a = archive_factory.build_archive(tmp_path / "a", restart_at=2)
    keys = a.write_public_keys(tmp_path / "k.json")
    assert findings(a, keys) == [("chain-restart", a.chains["eu-west-1"][2]),
                                 ("chain-restart", a.chains["us-east-1"][2])]


def test_chain_starting_after_the_range_start(archive, keys_file) -> None:
    start = verify.parse_time_arg("--start", "2026-11-27T15:00:00Z")
    assert findings(archive, keys_file, start=start) == [
        ("chain-restart", archive.chains["eu-west-1"][0]), ("chain-restart", archive.chains["us-east-1"][0])]


def test_unknown_key(archive, tmp_path) -> None:
    other = archive_factory.private_key(1024)
    keys = tmp_path / "other.json"
    keys.write_text(json.dumps(archive_factory.list_public_keys_response(other)))
    every_digest = sorted([*archive.chains["us-east-1"], *archive.chains["eu-west-1"], *archive.backfill])
    assert findings(archive, keys) == [("unknown-key", key) for key in every_digest]


def test_unsigned_digest(archive, keys_file) -> None:
    key = archive.chains["eu-west-1"][0]
    archive.path(key).with_name(archive.path(key).name + fmt.METADATA_SUFFIX).unlink()
    assert findings(archive, keys_file) == [("unsigned", key)]
    assert cli(archive, keys_file) == 1


def test_unreadable_digest(archive, keys_file) -> None:
    chain = archive.chains["us-east-1"]
    archive.path(chain[3]).write_bytes(b"not gzip")
    assert findings(archive, keys_file) == [("digest-modified", chain[3])]


def test_backfill_log_file_deleted(archive, keys_file) -> None:
    body = archive.digest_body(archive.backfill[0])
    late = body["logFiles"][0]["s3Object"]
    archive.delete(late)
    assert findings(archive, keys_file) == [("log-file-deleted", late)]


def test_region_and_account_filters(archive, keys_file) -> None:
    chain = archive.chains["eu-west-1"]
    archive.delete(chain[1])
    assert findings(archive, keys_file, regions=["us-east-1"]) == []
    with pytest.raises(UsageError, match="no CloudTrail digest files in the requested"):
        findings(archive, keys_file, accounts=["999999999999"])


def test_markdown_report_names_trail_account_keys_and_findings(archive, keys_file, capsys) -> None:
    key = archive.logs["us-east-1"][0]
    archive.delete(key)
    assert cli(archive, keys_file, "--format", "markdown") == 1
    out = capsys.readouterr().out
    for text in ("`spawn-audit-prod`", "`123456789012`", "eu-west-1, us-east-1", "Not verified",
                 f"| log-file-deleted | `{key}` |", fmt.fingerprint(archive_factory.public_der(archive.key)),
                 "2026-11-27T17:01:31Z to 2026-11-27T21:01:31Z"):
        assert text in out


def test_usage_errors_exit_2(archive, keys_file, tmp_path, capsys) -> None:
    assert main(["verify", str(tmp_path / "nope"), "--public-keys", str(keys_file)]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert main(["verify", str(archive.root), "--public-keys", str(tmp_path / "none.json")]) == 2
    assert "--public-keys" in capsys.readouterr().err
    assert cli(archive, keys_file, "--start", "yesterday") == 2
    assert "--start 'yesterday': not a time" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["verify", str(empty), "--public-keys", str(keys_file)]) == 2


def test_data_appended_after_the_gzip_stream(archive, keys_file) -> None:
    # A second gzip member changes the content; garbage after the stream makes it unreadable.
    first, second = archive.logs["us-east-1"][0], archive.logs["eu-west-1"][0]
    archive.path(first).write_bytes(archive.path(first).read_bytes() + gzip.compress(b'{"Records": []}'))
    archive.path(second).write_bytes(archive.path(second).read_bytes() + b"appended")
    assert findings(archive, keys_file) == [("log-file-modified", second), ("log-file-modified", first)]


def test_organization_trail_layout(tmp_path) -> None:
    a = archive_factory.build_archive(tmp_path / "a", regions=("us-east-1",), hours=3, backfill=False,
                                      prefix="")
    keys = a.write_public_keys(tmp_path / "k.json")
    # Move the whole tree under an organization id, rewriting each digest's own and listed keys as
    # CloudTrail writes them for an organization trail, and re-signing (a CloudTrail-made copy).
    chain = a.chains["us-east-1"]
    org = "o-a1b2c3d4e5"
    previous = None
    for key in chain:
        body = a.digest_body(key)
        new = key.replace("AWSLogs/", f"AWSLogs/{org}/")
        body["digestS3Object"] = new
        for entry in body["logFiles"]:
            old = entry["s3Object"]
            entry["s3Object"] = old.replace("AWSLogs/", f"AWSLogs/{org}/")
            a.move(old, entry["s3Object"])
        if previous:
            (body["previousDigestS3Object"], body["previousDigestHashValue"],
             body["previousDigestSignature"]) = previous
        a.move(key, new)
        a.rewrite_digest(new, body, resign=True)
        data = gzip.decompress(a.path(new).read_bytes())
        meta = json.loads((a.path(new).parent / (a.path(new).name + fmt.METADATA_SUFFIX)).read_text())
        previous = (new, hashlib.sha256(data).hexdigest(), meta["signature"])
    report = verify.verify(a.root, verify.keys_from_file(keys))
    assert report.findings == []
    assert report.trails[0]["organization"] == org and report.digests == 3


def test_live_public_keys_through_boto3(archive, monkeypatch) -> None:
    # moto does not implement ListPublicKeys: botocore's Stubber checks the request against the
    # CloudTrail API model and returns a response of its shape (Value as DER bytes).
    import boto3
    from botocore.stub import Stubber

    der = archive_factory.public_der(archive.key)
    real_client = boto3.client
    stubs = []

    def client(service, **kwargs):
        c = real_client(service, region_name=kwargs.get("region_name"), aws_access_key_id="x",
                        aws_secret_access_key="x")
        stub = Stubber(c)
        stub.add_response("list_public_keys", {"PublicKeyList": [{"Value": der, "Fingerprint":
                                                                   fmt.fingerprint(der)}]})
        stub.activate()
        stubs.append(stub)
        return c

    monkeypatch.setattr(boto3, "client", client)
    assert main(["verify", str(archive.root), "--format", "json"]) == 0
    assert len(stubs) == 2  # one call per region of the archive
    for stub in stubs:
        stub.assert_no_pending_responses()


def test_key_not_valid_at_the_digest_time(archive, tmp_path) -> None:
    response = archive_factory.list_public_keys_response(archive.key)
    response["PublicKeyList"][0]["ValidityEndTime"] = "2026-06-30T00:00:00Z"
    keys = tmp_path / "expired.json"
    keys.write_text(json.dumps(response))
    every_digest = sorted([*archive.chains["us-east-1"], *archive.chains["eu-west-1"], *archive.backfill])
    assert findings(archive, keys) == [("unknown-key", key) for key in every_digest]


def test_public_keys_file_with_a_wrong_fingerprint_is_refused(archive, tmp_path, capsys) -> None:
    response = archive_factory.list_public_keys_response(archive.key)
    response["PublicKeyList"][0]["Fingerprint"] = "0" * 32
    keys = tmp_path / "bad.json"
    keys.write_text(json.dumps(response))
    assert cli(archive, keys) == 2
    assert "is not the MD5 of its Value" in capsys.readouterr().err


def test_log_file_listed_by_two_digests_is_checked_against_each(archive, keys_file) -> None:
    # A validly signed digest that records another hash for a log file a second digest also lists:
    # the file cannot match both records, whichever digest is read last.
    key = archive.logs["us-east-1"][0]
    newest = archive.chains["eu-west-1"][-1]
    body = archive.digest_body(newest)
    body["logFiles"].append({"s3Bucket": archive.bucket, "s3Object": key, "hashValue": "0" * 64,
                             "hashAlgorithm": "SHA-256"})
    archive.rewrite_digest(newest, body, resign=True)
    report = verify.verify(archive.root, verify.keys_from_file(keys_file))
    assert [(f.kind, f.key) for f in report.findings] == [("log-file-modified", key)]
    assert newest in report.findings[0].detail
    assert report.log_files == 17  # still counted once


def test_listed_key_outside_the_archive_is_not_read(archive, keys_file, tmp_path) -> None:
    # A digest names log files by S3 key; a key that leaves DIR (absolute, or with ..) is not a file
    # of the archive and must not be opened (it could be a device that never ends).
    outside = tmp_path / "outside.json.gz"
    outside.write_bytes(gzip.compress(b'{"Records": []}'))
    newest = archive.chains["eu-west-1"][-1]
    body = archive.digest_body(newest)
    body["logFiles"].append({"s3Bucket": archive.bucket, "s3Object": "../outside.json.gz",
                             "hashValue": hashlib.sha256(b'{"Records": []}').hexdigest()})
    archive.rewrite_digest(newest, body, resign=True)
    assert findings(archive, keys_file) == [("log-file-deleted", "../outside.json.gz")]


def test_key_validity_as_epoch_seconds_is_honoured(archive, tmp_path) -> None:
    # AWS CLI v1 prints CloudTrail timestamps as received (epoch seconds), v2 as ISO 8601: the same
    # expired key, written the v1 way, must leave the same digests unverified.
    response = archive_factory.list_public_keys_response(archive.key)
    response["PublicKeyList"][0]["ValidityStartTime"] = 1767225600.0  # 2026-01-01T00:00:00Z
    response["PublicKeyList"][0]["ValidityEndTime"] = 1782777600.0  # 2026-06-30T00:00:00Z
    keys = tmp_path / "expired-v1.json"
    keys.write_text(json.dumps(response))
    every_digest = sorted([*archive.chains["us-east-1"], *archive.chains["eu-west-1"], *archive.backfill])
    assert findings(archive, keys) == [("unknown-key", key) for key in every_digest]


@pytest.mark.parametrize(("change", "message"), [
    ({"Fingerprint": 123}, "PublicKeyList[0].Fingerprint 123 is not a hex MD5"),
    ({"ValidityEndTime": "next year"}, "PublicKeyList[0].ValidityEndTime 'next year' is not a time"),
    ({"ValidityStartTime": True}, "PublicKeyList[0].ValidityStartTime True is not a time"),
])
def test_malformed_public_keys_entry_is_one_error_line(archive, tmp_path, capsys, change, message) -> None:
    response = archive_factory.list_public_keys_response(archive.key)
    response["PublicKeyList"][0].update(change)
    keys = tmp_path / "malformed.json"
    keys.write_text(json.dumps(response))
    assert cli(archive, keys) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: --public-keys {keys}: ")
    assert message in err


def test_empty_public_keys_file_is_an_error(archive, tmp_path, capsys) -> None:
    keys = tmp_path / "none.json"
    keys.write_text(json.dumps({"PublicKeyList": []}))
    assert cli(archive, keys) == 2
    assert "PublicKeyList is empty" in capsys.readouterr().err


def test_markdown_report_says_where_the_range_comes_from(archive, keys_file, capsys) -> None:
    # Without --start/--end the range is the digests' own span, which cannot show digests deleted at
    # both ends: the report an auditor files must say which it is.
    assert cli(archive, keys_file, "--format", "markdown") == 0
    out = capsys.readouterr().out
    assert ("| Range verified | 2026-11-27T17:01:31Z to 2026-11-27T21:01:31Z (start: not given, the "
            "oldest digest's start; end: not given, the newest digest's end) |") in out
    assert cli(archive, keys_file, "--format", "markdown", "--start", "2026-11-27T17:00:00Z",
               "--end", "2026-11-27T21:00:00Z") == 0
    out = capsys.readouterr().out
    assert ("| Range verified | 2026-11-27T17:00:00Z to 2026-11-27T21:00:00Z (start: --start; end: --end) |"
            in out)


def test_signature_metadata_that_is_not_text(archive, keys_file) -> None:
    # A metadata file whose signature is a JSON number: the digest does not verify (no traceback).
    chain = archive.chains["us-east-1"]
    meta = archive.path(chain[1]).with_name(archive.path(chain[1]).name + fmt.METADATA_SUFFIX)
    meta.write_text(json.dumps({"signature": 5, "signature-algorithm": fmt.SIGNATURE_ALGORITHM}))
    assert findings(archive, keys_file) == [("digest-modified", chain[1]), ("chain-broken", chain[2])]
    assert cli(archive, keys_file) == 1


def test_copied_digest_is_moved_and_leaves_the_original_intact(archive, keys_file) -> None:
    # A copy of an intact digest at another key: the copy is reported, not the digest at its own key.
    chain = archive.chains["us-east-1"]
    copy = chain[1].replace("/2026/11/27/", "/2026/11/26/")
    archive.path(copy).parent.mkdir(parents=True)
    for suffix in ("", fmt.METADATA_SUFFIX):
        archive.path(copy + suffix).write_bytes(archive.path(chain[1] + suffix).read_bytes())
    assert findings(archive, keys_file) == [("digest-moved", copy)]


def test_every_digest_of_the_range_deleted(archive, keys_file, capsys) -> None:
    # The copy still holds the trail's digests before and after the range, but none of the range:
    # that is missing evidence (exit 1, each digest by key), not an input the tool cannot use.
    rng = ("--start", "2026-11-27T18:30:00Z", "--end", "2026-11-27T19:30:00Z")
    assert cli(archive, keys_file, *rng) == 0
    capsys.readouterr()
    gone = []
    for chain in archive.chains.values():
        for key in chain[1:3]:  # the two digests whose hours overlap the range
            archive.delete(key)
            gone.append(key)
    assert cli(archive, keys_file, *rng, "--format", "json") == 1
    out = json.loads(capsys.readouterr().out)
    assert [(f["kind"], f["key"]) for f in out["findings"]] == [("digest-missing", k) for k in sorted(gone)]
    assert out["summary"]["digests"] == 0
    assert [(t["trail"], t["account"], t["regions"]) for t in out["trails"]] == [
        ("spawn-audit-prod", "123456789012", ["eu-west-1", "us-east-1"])]
    assert cli(archive, keys_file, *rng, "--format", "markdown") == 1
    assert "| Digests cover | none in the range |" in capsys.readouterr().out


def test_every_digest_of_the_range_deleted_with_only_later_digests(tmp_path) -> None:
    # Written differently: one region, the range at the start of the chain, so the hourly cadence
    # is counted back from the first digest after the range.
    a = archive_factory.build_archive(tmp_path / "a", regions=("us-east-1",), backfill=False)
    keys = a.write_public_keys(tmp_path / "k.json")
    start, end = (verify.parse_time_arg(o, v) for o, v in (("--start", "2026-11-27T17:00:00Z"),
                                                           ("--end", "2026-11-27T18:30:00Z")))
    assert findings(a, keys, start=start, end=end) == []
    chain = a.chains["us-east-1"]
    a.delete(chain[0])
    a.delete(chain[1])
    assert findings(a, keys, start=start, end=end) == [("digest-missing", chain[0]),
                                                       ("digest-missing", chain[1])]
