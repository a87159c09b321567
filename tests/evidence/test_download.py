"""download then verify, end to end, against moto's S3 server on 127.0.0.1 (started here).

The archive is uploaded the way CloudTrail writes it: each digest carries its signature in the
user metadata (x-amz-meta-signature, x-amz-meta-signature-algorithm). What moto does not
reproduce: CloudTrail itself (it delivers no logs or digests, and ListPublicKeys is not
implemented), SSE-KMS decryption, and S3's throttling; the S3 listing, GetObject, HeadObject and
user metadata are what these tests exercise.
"""

from __future__ import annotations

import json
from pathlib import Path

import archive_factory
import boto3
import pytest

from spawn_audit import digest as fmt
from spawn_audit.__main__ import main

START, END = "2026-11-27T17:00:00Z", "2026-11-27T21:00:00Z"


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch) -> None:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def bucket(moto_endpoint, tmp_path, request):
    """A fresh bucket holding an intact archive; yields (name, archive, s3 client)."""
    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    name = "trail-" + request.node.name.replace("_", "-").lower()[:40]
    s3.create_bucket(Bucket=name)
    archive = archive_factory.build_archive(tmp_path / "source", write=False)
    for key, (data, meta) in archive.objects.items():
        s3.put_object(Bucket=name, Key=key, Body=data, **({"Metadata": meta} if meta else {}))
    archive.write_public_keys(tmp_path / "keys.json")
    return name, archive, s3


def download(moto_endpoint, name, to: Path, *extra: str) -> int:
    return main(["download", "--bucket", name, "--start", START, "--end", END, "--to", str(to),
                 "--endpoint-url", moto_endpoint, "--format", "json", *extra])


def verify(to: Path, tmp_path: Path) -> int:
    return main(["verify", str(to), "--public-keys", str(tmp_path / "keys.json"), "--format", "json"])


def test_download_then_verify_intact(moto_endpoint, bucket, tmp_path, capsys) -> None:
    name, archive, _ = bucket
    to = tmp_path / "copy"
    assert download(moto_endpoint, name, to) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["objects"] == len(archive.objects)
    assert result["downloaded"] == len(archive.objects) and result["failed"] == []
    digest = archive.chains["us-east-1"][0]
    assert json.loads((to / (digest + fmt.METADATA_SUFFIX)).read_text()) == archive.objects[digest][1]
    assert verify(to, tmp_path) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["logFiles"] == 17


def test_download_resumes_and_replaces_a_changed_file(moto_endpoint, bucket, tmp_path, capsys) -> None:
    name, archive, _ = bucket
    to = tmp_path / "copy"
    assert download(moto_endpoint, name, to) == 0
    capsys.readouterr()
    truncated = archive.logs["eu-west-1"][0]
    (to / truncated).write_bytes((to / truncated).read_bytes()[:-5])  # as if interrupted
    assert download(moto_endpoint, name, to) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["downloaded"] == 1
    assert result["skippedComplete"] == len(archive.objects) - 1
    assert not list(to.rglob("*.part"))
    assert verify(to, tmp_path) == 0


def test_region_filter(moto_endpoint, bucket, tmp_path, capsys) -> None:
    name, archive, _ = bucket
    to = tmp_path / "copy"
    assert download(moto_endpoint, name, to, "--region", "eu-west-1") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["digests"] == 4 and result["logFiles"] == 8


def test_tampering_in_s3_is_found_after_download(moto_endpoint, bucket, tmp_path, capsys) -> None:
    name, archive, s3 = bucket
    victim = archive.logs["us-east-1"][1]
    s3.put_object(Bucket=name, Key=victim, Body=b"\x1f\x8b" + b"0" * 20)
    to = tmp_path / "copy"
    assert download(moto_endpoint, name, to) == 0
    capsys.readouterr()
    assert verify(to, tmp_path) == 1
    out = json.loads(capsys.readouterr().out)
    assert [(f["kind"], f["key"]) for f in out["findings"]] == [("log-file-modified", victim)]


def test_digest_deleted_in_s3_is_found_after_download(moto_endpoint, bucket, tmp_path, capsys) -> None:
    name, archive, s3 = bucket
    victims = archive.chains["eu-west-1"][1:3]
    for key in victims:
        s3.delete_object(Bucket=name, Key=key)
    to = tmp_path / "copy"
    assert download(moto_endpoint, name, to) == 0
    capsys.readouterr()
    assert verify(to, tmp_path) == 1
    out = json.loads(capsys.readouterr().out)
    assert [(f["kind"], f["key"]) for f in out["findings"]] == [("digest-missing", k) for k in victims]


def test_metadata_dropped_in_s3_is_unsigned(moto_endpoint, bucket, tmp_path, capsys) -> None:
    # What a copy made with aws s3 cp --metadata-directive REPLACE (or a sync) looks like.
    name, archive, s3 = bucket
    victim = archive.chains["us-east-1"][2]
    s3.copy_object(Bucket=name, Key=victim, CopySource={"Bucket": name, "Key": victim},
                   MetadataDirective="REPLACE", Metadata={})
    to = tmp_path / "copy"
    assert download(moto_endpoint, name, to) == 0
    capsys.readouterr()
    assert verify(to, tmp_path) == 1
    out = json.loads(capsys.readouterr().out)
    assert [(f["kind"], f["key"]) for f in out["findings"]] == [("unsigned", victim)]


def test_missing_bucket_is_an_error(moto_endpoint, tmp_path, capsys) -> None:
    assert download(moto_endpoint, "no-such-bucket", tmp_path / "copy") == 2
    assert capsys.readouterr().err.startswith("error: --bucket no-such-bucket")


def test_part_of_the_range_downloads_and_verifies(moto_endpoint, bucket, tmp_path, capsys) -> None:
    name, archive, _ = bucket
    to = tmp_path / "copy"
    start, end = "2026-11-27T18:00:00Z", "2026-11-27T20:00:00Z"
    assert main(["download", "--bucket", name, "--start", start, "--end", end, "--to", str(to),
                 "--endpoint-url", moto_endpoint]) == 0
    capsys.readouterr()
    assert main(["verify", str(to), "--public-keys", str(tmp_path / "keys.json"), "--start", start,
                 "--end", end, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["digests"] == 4  # two hours in two regions
    # The same copy cannot vouch for an hour it does not hold.
    assert main(["verify", str(to), "--public-keys", str(tmp_path / "keys.json"), "--start", start,
                 "--end", "2026-11-27T23:00:00Z"]) == 1


def test_unknown_region_is_an_error_and_creates_nothing(moto_endpoint, bucket, tmp_path, capsys) -> None:
    # Like an unknown --account: a region with no folder in the bucket is a mistake, not an empty copy.
    name, _, _ = bucket
    to = tmp_path / "copy"
    assert download(moto_endpoint, name, to, "--region", "eu-west-9") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: --region eu-west-9: no CloudTrail logs or digests under s3://{name}/AWSLogs/")
    assert "eu-west-1, us-east-1" in err
    assert not to.exists()


def test_malformed_endpoint_url_is_one_error_line(tmp_path, capsys) -> None:
    assert download("not-a-url", "b", tmp_path / "copy") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --endpoint-url not-a-url: ")


def test_destination_that_cannot_be_created_is_one_error_line(moto_endpoint, bucket, tmp_path,
                                                               capsys) -> None:
    name, _, _ = bucket
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert download(moto_endpoint, name, blocker / "copy") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: --to {blocker / 'copy'}: cannot create")


def test_network_error_on_a_late_log_file_is_reported_by_key(moto_endpoint, bucket, tmp_path, capsys,
                                                             monkeypatch) -> None:
    # The backfill digest (delivered 20:51) lists a log file of 17:51, outside this range's log
    # window (as are the files the 21:01 digests list), so download asks S3 for each separately;
    # a connection failure there is a failed key.
    from botocore.exceptions import EndpointConnectionError

    from spawn_audit import download as dl

    name, archive, _ = bucket
    real = dl._client

    def client(endpoint_url, jobs):
        s3 = real(endpoint_url, jobs)

        def head_object(**kwargs):
            raise EndpointConnectionError(endpoint_url=endpoint_url)
        s3.head_object = head_object
        return s3

    monkeypatch.setattr(dl, "_client", client)
    to = tmp_path / "copy"
    assert main(["download", "--bucket", name, "--start", "2026-11-27T19:30:00Z", "--end",
                 "2026-11-27T20:00:00Z", "--to", str(to), "--endpoint-url", moto_endpoint]) == 2
    lines = capsys.readouterr().err.splitlines()
    lost = archive.logs["us-east-1"][-1]  # the late log file the backfill digest lists
    assert any(line.startswith(f"error: {lost}: Could not connect to the endpoint URL") for line in lines)
    assert all(line.startswith("error: AWSLogs/") for line in lines)  # one line per key, no traceback
