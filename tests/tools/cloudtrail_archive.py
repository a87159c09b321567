"""A generated CloudTrail archive laid out as in S3, for the query tests and the query benchmark.

Deterministic (seeded). Covers what the catalog must get right: several accounts (one of them under
an organisation trail's ``AWSLogs/<org-id>/`` prefix), regions and days; the ``spawn:managed`` tag at
varied positions (first, last, in the second tag specification, absent, only as a value, with other
letter case); refused calls; console sign-ins with and without MFA; root calls made by the root user
and on its behalf; IAM role changes on ``spawn-*`` and other roles under ``us-east-1``; a digest
directory that must be ignored; and, on request, files padded beyond DuckDB's 16 MB object limit.
Each event is returned with the partition (account, region, day) of the file it was written to, so
that tests compute expected rows independently of the engine.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

ACCOUNTS = ("123456789012", "111122223333")
ORG_ID = "o-abcdef1234"  # ACCOUNTS[1] is written by an organisation trail
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
DAYS = tuple(dt.date(2026, 1, 26) + dt.timedelta(days=i) for i in range(4))
USERS = tuple(f"arn:aws:iam::123456789012:user/{n}" for n in ("alice", "bob", "carol")) + (
    "arn:aws:sts::123456789012:assumed-role/spawn-launcher/session-1",
)
INSTANCE_TYPES = ("c7i.xlarge", "m7i.large", "g5.2xlarge", "t3.micro")
# Every IAM API that changes a role and names it in requestParameters.roleName (IAM API Reference:
# the role actions), written out here independently of the alarm's list; the spawn-iam-role-change
# alarm and the spawn-role-changes query must both see every one of them.
ROLE_CHANGE_EVENTS = ("CreateRole", "PutRolePolicy", "AttachRolePolicy", "DeleteRolePolicy",
                      "DetachRolePolicy", "UpdateAssumeRolePolicy", "DeleteRole", "UpdateRole",
                      "UpdateRoleDescription", "PutRolePermissionsBoundary",
                      "DeleteRolePermissionsBoundary", "TagRole", "UntagRole")
SPAWN_ROLE_EVENTS = ROLE_CHANGE_EVENTS

# Where spawn:managed sits in a RunInstances request; only the first four carry the tag as a key.
TAG_LAYOUTS = ("first", "last", "second-spec", "only", "none", "no-specs", "as-value", "other-case")


@dataclass
class Archive:
    root: Path
    events: list[tuple[dict, dict]] = field(default_factory=list)  # (partition, record)
    app_log: Path | None = None
    app_records: list[dict] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def _tags(layout: str, rng: random.Random) -> dict | None:
    name = {"key": "Name", "value": f"sweep-{rng.randrange(1000)}"}
    managed = {"key": "spawn:managed", "value": "true"}
    other = {"key": "team", "value": "ml"}
    if layout == "first":
        specs = [{"resourceType": "instance", "tags": [managed, name, other]}]
    elif layout == "last":
        specs = [{"resourceType": "instance", "tags": [name, other, managed]}]
    elif layout == "second-spec":
        specs = [{"resourceType": "volume", "tags": [name]},
                 {"resourceType": "instance", "tags": [other, managed]}]
    elif layout == "only":
        specs = [{"resourceType": "instance", "tags": [managed]}]
    elif layout == "none":
        specs = [{"resourceType": "instance", "tags": [name, other]}]
    elif layout == "as-value":
        specs = [{"resourceType": "instance", "tags": [{"key": "note", "value": "spawn:managed"}]}]
    elif layout == "other-case":
        specs = [{"resourceType": "instance", "tags": [{"key": "Spawn:Managed", "value": "true"}]}]
    else:
        return None
    return {"items": specs}


def _time(day: dt.date, rng: random.Random) -> str:
    t = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=rng.randrange(86_400))
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _base(rng: random.Random, day: dt.date, region: str, account: str, source: str, name: str,
          user: str, user_type: str = "IAMUser") -> dict:
    n = rng.getrandbits(64)
    return {
        "eventVersion": "1.10",
        "userIdentity": {"type": user_type, "principalId": f"AIDA{n % 10**8}", "arn": user,
                         "accountId": account, "userName": user.rsplit("/", 1)[-1]},
        "eventTime": _time(day, rng),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": f"198.51.100.{n % 250}",
        "userAgent": "spawn/1.4 aws-sdk-go-v2/1.30",
        "requestParameters": None,
        "responseElements": None,
        "requestID": f"{n:016x}-req",
        "eventID": f"{n:016x}-{rng.getrandbits(32):08x}",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }


def _run_instances(rng: random.Random, day: dt.date, region: str, account: str) -> dict:
    e = _base(rng, day, region, account, "ec2.amazonaws.com", "RunInstances", rng.choice(USERS))
    params: dict = {"instanceType": rng.choice(INSTANCE_TYPES),
                    "instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": 1,
                                                "maxCount": rng.randint(1, 8)}]}}
    tags = _tags(rng.choice(TAG_LAYOUTS), rng)
    if tags is not None:
        params["tagSpecificationSet"] = tags
    e["requestParameters"] = params
    if rng.random() < 0.15:
        e["errorCode"] = "Client.UnauthorizedOperation"
        e["errorMessage"] = "You are not authorized to perform this operation."
    else:
        e["responseElements"] = {"instancesSet": {"items": [{"instanceId": f"i-{rng.getrandbits(56):014x}"}]}}
    return e


def _other(rng: random.Random, day: dt.date, region: str, account: str) -> dict:
    kind = rng.choice(("terminate", "iam", "console", "root", "dynamodb", "lambda", "describe"))
    if kind == "terminate":
        e = _base(rng, day, region, account, "ec2.amazonaws.com", "TerminateInstances", rng.choice(USERS))
        e["requestParameters"] = {"instancesSet": {"items": [{"instanceId": "i-0abc123def456789"}]}}
    elif kind == "iam":
        # IAM is global: CloudTrail writes its events under us-east-1.
        e = _base(rng, day, "us-east-1", account, "iam.amazonaws.com",
                  rng.choice(ROLE_CHANGE_EVENTS + ("CreateUser", "GetRole")), rng.choice(USERS))
        role = rng.choice(("spawn-worker", "spawn-orchestrator", "admin-role", "my-spawn-role"))
        e["requestParameters"] = {"roleName": role, "policyName": "inline"}
    elif kind == "console":
        user_type = rng.choice(("IAMUser", "IAMUser", "AssumedRole"))
        e = _base(rng, day, "us-east-1", account, "signin.amazonaws.com", "ConsoleLogin", rng.choice(USERS),
                  user_type)
        e["responseElements"] = {"ConsoleLogin": rng.choice(("Success", "Success", "Failure"))}
        mfa = rng.choice(("Yes", "No", None))
        e["additionalEventData"] = {"LoginTo": "https://console.aws.amazon.com/"}
        if mfa is not None:
            e["additionalEventData"]["MFAUsed"] = mfa
    elif kind == "root":
        e = _base(rng, day, region, account, "s3.amazonaws.com", "ListBuckets",
                  f"arn:aws:iam::{account}:root", "Root")
        if rng.random() < 0.4:
            e["userIdentity"]["invokedBy"] = "support.amazonaws.com"
        if rng.random() < 0.2:
            e["eventType"] = "AwsServiceEvent"
    elif kind == "dynamodb":
        e = _base(rng, day, region, account, "dynamodb.amazonaws.com", "PutItem", rng.choice(USERS))
        e["requestParameters"] = {"tableName": "spawn-sweeps"}
        e["resources"] = [{"accountId": account, "type": "AWS::DynamoDB::Table",
                           "ARN": f"arn:aws:dynamodb:{region}:{account}:table/spawn-sweeps"}]
    elif kind == "lambda":
        e = _base(rng, day, region, account, "lambda.amazonaws.com", "Invoke", rng.choice(USERS))
    else:
        e = _base(rng, day, region, account, "ec2.amazonaws.com", "DescribeInstances", rng.choice(USERS))
        e["readOnly"] = True
    # Lowercase look-alike keys are not CloudTrail's: a case-insensitive reader would pick them up.
    if rng.random() < 0.05:
        e["eventname"] = "RunInstances"
    return e


def _padding(rng: random.Random, day: dt.date, region: str, account: str) -> dict:
    e = _base(rng, day, region, account, "ec2.amazonaws.com", "DescribeInstances",
              "arn:aws:iam::123456789012:user/monitor")
    e["readOnly"] = True
    # Large records keep the padded file above 16 MB with few records (quick to generate and read).
    e["requestParameters"] = {"filterSet": {"items": [{"name": "tag:spawn:sweep-id", "valueSet": {
        "items": [{"value": f"{rng.getrandbits(120):030x}" * 250}]}}]}}
    return e


def write_file(path: Path, records: list[dict], level: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=level) as fh:
        json.dump({"Records": records}, fh, separators=(",", ":"))


def day_dir(root: Path, account: str, region: str, day: dt.date) -> Path:
    prefix = root / "AWSLogs" / (f"{ORG_ID}/{account}" if account == ACCOUNTS[1] else account)
    return prefix / "CloudTrail" / region / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"


def generate(root: Path, *, seed: int = 7, events_per_file: int = 40, files_per_day: int = 2,
             big_file_bytes: int = 0, days: tuple[dt.date, ...] = DAYS,
             keep_events: bool = True) -> Archive:
    """Write the archive under ``root``; ``big_file_bytes`` > 0 adds one padded file of that size."""
    rng = random.Random(seed)
    archive = Archive(root)
    serial = 0
    for account in ACCOUNTS:
        for region in REGIONS:
            for day in days:
                for _ in range(files_per_day):
                    records = [_run_instances(rng, day, region, account) if rng.random() < 0.4
                               else _other(rng, day, region, account) for _ in range(events_per_file)]
                    serial += 1
                    name = (f"{account}_CloudTrail_{region}_{day:%Y%m%d}T{serial % 24:02d}00Z_"
                            f"{serial:06x}.json.gz")
                    path = day_dir(root, account, region, day) / name
                    write_file(path, records)
                    archive.files.append(path)
                    if keep_events:
                        part = {"account": account, "region": region, "day": f"{day:%Y/%m/%d}"}
                        archive.events.extend((part, r) for r in records)
                # A digest file sits in a sibling tree and is never a log file.
                digest = (day_dir(root, account, region, day).parents[4] / "CloudTrail-Digest" / region
                          / f"{day:%Y/%m/%d}" / f"{account}_CloudTrail-Digest_{region}_{day:%Y%m%d}.json.gz")
                if not digest.exists():
                    write_file(digest, [])
    if big_file_bytes:
        account, region, day = ACCOUNTS[0], REGIONS[0], days[1]
        records = [_run_instances(rng, day, region, account) for _ in range(50)]
        # Padding records differ only in random ids of fixed width: size them once.
        each = len(json.dumps(_padding(rng, day, region, account), separators=(",", ":"))) + 1
        records += [_padding(rng, day, region, account) for _ in range(big_file_bytes // each + 1)]
        rng.shuffle(records)
        name = f"{account}_CloudTrail_{region}_{day:%Y%m%d}T2355Z_big.json.gz"
        path = day_dir(root, account, region, day) / name
        write_file(path, records)
        archive.files.append(path)
        if keep_events:
            part = {"account": account, "region": region, "day": f"{day:%Y/%m/%d}"}
            archive.events.extend((part, r) for r in records)
    return archive


def write_app_log(archive: Archive, path: Path, seed: int = 11) -> None:
    """spawn's application audit log: launch records near (and some far from) their RunInstances."""
    rng = random.Random(seed)
    records = []
    for _, e in archive.events:
        if e["eventName"] != "RunInstances" or e.get("userIdentity", {}).get("type") != "IAMUser":
            continue
        r = rng.random()
        if r > 0.5:
            continue
        t = dt.datetime.strptime(e["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        # Inside the 5-minute window, or clearly outside it (no match expected).
        offset = rng.choice((-240, -60, -1, 0, 2, 30, 299)) if r < 0.4 else rng.choice((-900, 301, 3600))
        records.append({
            "timestamp": (t + dt.timedelta(seconds=offset)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "level": "info",
            "operation": "launch_instances",
            "user_id": e["userIdentity"]["arn"],
            "instance_type": e["requestParameters"]["instanceType"],
            "count": 1,
            "region": e["awsRegion"],
            "correlation_id": f"{rng.getrandbits(128):032x}",
            "result": "success",
        })
    records.append({"timestamp": "2026-01-27T12:00:00Z", "level": "info", "operation": "sweep_start",
                    "user_id": USERS[0], "instance_type": "", "count": 0, "region": "us-east-1",
                    "correlation_id": "0" * 32, "result": "success"})
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    archive.app_log = path
    archive.app_records = records
