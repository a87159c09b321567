"""Bad input, the way a careless or hostile user gives it: one clear answer each, exit 2, nothing created.

- Every config key ``Pulumi.yaml`` declares gets at least three bad values; the program runs in-process
  under the mock runtime, as ``--config KEY=VALUE`` would feed it, and must stop with one message per
  problem that names the key (``ConfigError``, or the CLI's own type error), no traceback and no
  resource registered.
- Every property of every policy's config schema gets at least three bad values, plus an unknown
  property; the engine's config steps (the offline preview's) must refuse each as a config error.
- Malformed files (stack file or pack config not UTF-8, a 5,000-digit integer, unparsable YAML) and
  bad flags (``--pack-timeout`` inf, nan, 0, -1) end the command with one ``error:`` line and exit 2.
- SIGINT, SIGTERM and SIGHUP end the command with 130, 143 and 129, one line, and no pack process left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from audit_policies.pack import ALL_POLICIES, PACK_NAME
from pack_in_process import run_cli_in_process
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from offline_preview import cli
from offline_preview.pack_client import pack_info_from_proto
from offline_preview.pack_config import (
    PolicyError,
    load_policy_config_file,
    parse_policy_config,
    reconcile_config,
)
from offline_preview.project import ProjectError
from offline_preview.render import PreviewReport
from offline_preview.runner import run_program

ROOT = Path(__file__).resolve().parents[1]
DECLARED = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]

_INTEGER_BAD = ["-1", "9" * 5000, "\u0661\u0662\u0663", "12.5"]
_BOOLEAN_BAD = ["yes", "1", "True"]

# Bad values per key, each tried alone against the compliant prod stack (hipaa).
BAD_VALUES: dict[str, list[Any]] = {
    "complianceProfiles": [["hippa"], "hipaa", [1], ["hipaa", "gdpr"]],
    "auditPeriodDays": ["0", *_INTEGER_BAD],
    "archiveRetentionDays": ["30", *_INTEGER_BAD],  # 30: below the hipaa floor
    "archiveStorageClass": ["glacier", "", "REDUCED_REDUNDANCY"],
    "archiveTransitionDays": ["2555", *_INTEGER_BAD],  # 2555: at the expiration day
    "logGroupRetentionDays": ["400", *_INTEGER_BAD],  # 400: not a CloudWatch Logs value
    "encryption": ["aes256", "", "KMS"],
    "accessLogging": ["false", *_BOOLEAN_BAD],  # false: hipaa requires access logging
    "accessLogRetentionDays": ["30", *_INTEGER_BAD],
    "objectLockMode": ["governance", "LEGAL_HOLD", 5],
    "objectLockRetentionDays": ["1000000000", *_INTEGER_BAD],
    "forceDestroy": ["true", *_BOOLEAN_BAD],  # true: refused under any profile
    "protectResources": _BOOLEAN_BAD,
    "trailName": ["spawn.audit", "ab", "-spawn", "10.0.0.1"],
    "bucketNamePrefix": ["xn--audit", "Upper", "a" * 40, "sthree-x"],
    "logGroupName": ["aws/cloudtrail/spawn", "bad name", ""],
    "auditorRoleArns": [["arn:aws:iam::123456789012:user/alice"], ["x"],
                        ["arn:aws:iam::123456789012:role/p/"]],
    "breakGlassRoleArn": ["admin", "arn:aws:iam::123456789012:role/p/",
                          "arn:aws-cn:iam::123456789012:role/x"],
    "alarmEmails": [["security"], ["a@b"], ["@example.com"]],
    "alarmHttpsEndpoints": [["http://hooks.example.com"], ["https://[::1"], ["https:///no-host"]],
    "disabledAlarms": [["no-such-alarm"], [""], ["VPC-CHANGES"]],
    "trailSnsNotification": _BOOLEAN_BAD,
    "insights": _BOOLEAN_BAD,
    "organizationTrail": ["true", *_BOOLEAN_BAD],  # true: needs organizationId
    "organizationId": ["org-1", "o-ABCDEFGHIJ", "o-short"],
    "dataEventDynamodbTables": [["ab"], ["has space"], ["x" * 256]],
    "dataEventLambdaFunctions": [["has space"], ["x" * 65], [""]],
    "dataEventS3Buckets": [["UPPER"], ["a..b"], ["xn--bucket"]],
    "appAuditLogGroup": _BOOLEAN_BAD,
    "appAuditLogGroupName": ["aws/spawn", "has space", "/aws/cloudtrail/spawn"],
    "kmsDeletionWindowDays": ["6", "31", *_INTEGER_BAD],
    "analyticsEnabled": _BOOLEAN_BAD,
    "analyticsBytesScannedCutoffGb": ["0", "1000001", *_INTEGER_BAD],
    "analyticsResultRetentionDays": ["0", "91", *_INTEGER_BAD],
    "analyticsRegions": [["eu-west-1"], ["us-east-1", "eu west-1"], ["US-EAST-1"]],  # no us-east-1; space
    "analyticsAccountIds": [["111122223333"], ["1111"], ["abcdefghijkl"]],  # 1st: no organization trail
}


def test_every_declared_key_has_at_least_three_bad_values() -> None:
    assert sorted(BAD_VALUES) == sorted(DECLARED)
    assert [key for key, values in BAD_VALUES.items() if len(values) < 3] == []


@pytest.mark.parametrize(("key", "value"), [(k, v) for k, values in BAD_VALUES.items() for v in values],
                         ids=[f"{k}-{i}" for k, values in BAD_VALUES.items() for i in range(len(values))])
def test_bad_config_value_is_one_clear_refusal(key: str, value: Any) -> None:
    try:
        run = run_program(ROOT, "prod", overrides={key: value})
    except ProjectError as exc:  # the CLI's own type check: exit 2 before the program starts
        message = str(exc)
        assert f"configuration key '{key}'" in message
    else:
        assert type(run.error).__name__ == "ConfigError", run.error_traceback
        assert PreviewReport(run=run).exit_code == 2
        assert run.resources == []
        message = str(run.error)
        assert f"spawn-audit:{key}" in message or "spawn-audit:" in message.splitlines()[0]
    assert "Traceback" not in message and len(message) < 2000


# --- pack config ----------------------------------------------------------------------------------

PACK_INFO = pack_info_from_proto(
    _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", ALL_POLICIES, EnforcementLevel.ADVISORY).GetAnalyzerInfo(
        None, None),
    ROOT / "policy", "policy")


def _bad_property_values(schema: dict[str, Any]) -> list[Any]:
    kind = schema.get("type")
    if kind == "integer":
        return ["a year", schema.get("minimum", 0) - 1, 2.5, True]
    if kind == "boolean":
        return ["true", 1, None]
    if kind == "array":
        enum = (schema.get("items") or {}).get("enum")
        first = enum[0] if enum else "x"
        return ["x", [1], [first, first], *([["not-a-choice"]] if enum else [])]
    raise AssertionError(f"no bad values for schema type {kind!r}")


PACK_CASES = [
    (policy.name, prop, value)
    for policy in PACK_INFO.policies
    for prop, schema in ((policy.config_schema or {}).get("properties") or {}).items()
    for value in _bad_property_values(schema)
] + [(policy.name, "unknownProperty", 1) for policy in PACK_INFO.policies]


def test_every_pack_property_has_at_least_three_bad_values() -> None:
    properties = {(p.name, prop) for p in PACK_INFO.policies
                  for prop in ((p.config_schema or {}).get("properties") or {})}
    tried = {(name, prop) for name, prop, _ in PACK_CASES}
    assert properties and properties <= tried
    assert all(sum(1 for n, p, _ in PACK_CASES if (n, p) == key) >= 3 for key in properties)


@pytest.mark.parametrize(("policy", "prop", "value"), PACK_CASES,
                         ids=[f"{n}-{p}-{i}" for i, (n, p, _) in enumerate(PACK_CASES)])
def test_bad_pack_config_is_a_config_error(policy: str, prop: str, value: Any) -> None:
    with pytest.raises(PolicyError) as err:
        reconcile_config(PACK_INFO, parse_policy_config({policy: {prop: value}}, "fuzz.json"), "fuzz.json")
    lines = str(err.value).splitlines()
    assert lines and all(line.startswith("error: validating policy config: ") for line in lines)
    assert policy in lines[0] and prop in str(err.value)


@pytest.mark.parametrize(("content", "expected"), [
    (b'{"aws-kms-key-rotation": {"enforcementLevel": "mandatory"}, "x": "\xff\xfe"}', "is not UTF-8"),
    (b'{"aws-s3-bucket-lifecycle-retention": {"minRetentionDays": ' + b"9" * 5000 + b"}}",
     "Exceeds the limit"),
    (b'{"aws-kms-key-rotation": ', "could not parse policy pack config"),
    (b'["mandatory"]', "must be a JSON object"),
], ids=["not-utf8", "5000-digits", "truncated", "not-an-object"])
def test_malformed_pack_config_file(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "pack.json"
    path.write_bytes(content)
    with pytest.raises(PolicyError) as err:
        load_policy_config_file(path)
    assert expected in str(err.value) and "\n" not in str(err.value)


# --- the command: malformed stack files and flags, in-process -------------------------------------

def _project_with_stack(tmp_path: Path, content: bytes) -> Path:
    """The real project (linked) with one extra stack file ``Pulumi.fuzz.yaml``."""
    for name in ("Pulumi.yaml", "__main__.py", "components", "policy"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "Pulumi.fuzz.yaml").write_bytes(content)
    return tmp_path


@pytest.mark.parametrize(("content", "expected"), [
    (b"config:\n  spawn-audit:trailName: \xff\xfe\n", "error: could not read"),
    (b"config:\n  spawn-audit:auditPeriodDays: " + b"9" * 5000 + b"\n", "error: could not read"),
    (b"config:\n  spawn-audit:trailName: [unclosed\n", "error: could not parse"),
    (b"- just\n- a list\n", "error: "),
], ids=["not-utf8", "5000-digit-integer", "bad-yaml", "not-a-mapping"])
def test_malformed_stack_file_is_one_error_line(tmp_path: Path, capsys, content: bytes,
                                                expected: str) -> None:
    project = _project_with_stack(tmp_path, content)
    code = cli.main(["preview", "-C", str(project), "--stack", "fuzz", "--policy-pack", "policy"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith(expected) and err.count("\n") == 1 and "Traceback" not in err
    assert out == ""


@pytest.mark.parametrize(("item", "shown"), [
    ("\udcff=1", "\\udcff=1"),
    ("trailName=spawn\udcff", "trailName=spawn\\udcff"),
], ids=["key", "value"])
def test_config_that_is_not_utf8_is_one_error_line(capsys, item: str, shown: str) -> None:
    # A shell passes bytes that are not UTF-8 to Python as surrogates.
    code = cli.main(["preview", "-C", str(ROOT), "--stack", "prod", "--config", item])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == (f"error: --config '{shown}' is not UTF-8 text; stack config keys and values are UTF-8 "
                   "strings\n")


@pytest.mark.parametrize("flag", ["--pack-timeout", "--program-timeout"])
@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1", "-inf", "soon", "1e9"])
def test_timeout_outside_its_range_is_refused(capsys, flag: str, value: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["preview", "--stack", "prod", f"{flag}={value}"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert (f"error: argument {flag}: {value!r} is not a usable number of seconds; use a number "
            "above 0 and at most 3600") in err
    assert "Traceback" not in err


def test_unknown_pack_config_property_exits_2_not_1(tmp_path: Path) -> None:
    # The command's own main with the real pack served in-process: the engine's config steps are what
    # is tested here, not the pack's launch (tests/preview runs that for real).
    config = tmp_path / "typo.json"
    config.write_text('{"aws-s3-bucket-lifecycle-retention": '
                      '{"profiles": ["hipaa"], "minRetentionDay": 3000}}')
    result = run_cli_in_process("preview", "-C", str(ROOT), "--stack", "prod", "--policy-pack", "policy",
                                "--policy-pack-config", str(config), "--format", "json")
    code, err = result.returncode, result.stderr
    assert code == 2
    assert ('aws-s3-bucket-lifecycle-retention: unknown property "minRetentionDay" (' in err
            and "did you mean minRetentionDays?" in err)


# --- signals: the real command in a subprocess ----------------------------------------------------

def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc to find the pack process")
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)],
                         ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_signal_stops_the_preview_and_its_pack(sig: signal.Signals, code: int) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "offline_preview", "preview", "--stack", "prod", "--policy-pack", "policy",
         "--policy-pack-config", "policy/config/hipaa.json"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        deadline = time.monotonic() + 30
        while not (children := _children(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert children, "the policy pack never started"
        proc.send_signal(sig)  # the program is running (importing the provider) while the pack boots
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code
    assert err.startswith(f"error: interrupted by {sig.name}") and "Traceback" not in err
    assert all(_gone(child) for child in children)


def test_signal_while_starting_is_one_line() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "offline_preview", "preview", "--stack", "prod"],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(0.2)  # inside the interpreter's start-up or the heavy imports
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode in (143, -signal.SIGTERM)  # -15: the signal beat Python's own start-up
    assert "Traceback" not in err
