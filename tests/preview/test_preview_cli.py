"""The command end to end: the text layout of `pulumi preview`, each machine format, and the exit codes
(0 clean or advisory only, 1 mandatory violation, 2 error).

The text layout, the exit codes of a clean, a failing and a broken preview, and a refused policy
config run as real subprocesses (``run_cli``), the way a user or CI runs the command. The machine
formats and the remaining error paths run the command's own ``preview`` in this process with the
fixture pack served in-process (``run_cli_in_process``, imported as ``run_here``): the same
arguments, steps, rendering and exit codes, without two interpreters and a gRPC server per test."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from preview_helpers import PACK, PROGRAM, REPO, preview_args, run_cli
from preview_helpers import run_cli_in_process as run_here

from offline_preview.render import display_type


@pytest.fixture(scope="module")
def clean() -> object:
    return run_cli(*preview_args(PROGRAM))


@pytest.fixture(scope="module")
def failing() -> object:
    return run_cli(*preview_args(PROGRAM, "--config", "logFileValidation=false"))


def test_clean_preview_text_layout(clean) -> None:
    assert clean.returncode == 0, clean.stderr
    lines = clean.stdout.splitlines()
    # The officer's view comes first: verdict, stack, profiles, controls; then the CLI's layout.
    assert lines[0] == "Verdict: PASSED: no mandatory policy violation, 1 advisory violation(s) (exit 0)"
    assert lines[1].startswith("Stack: dev (project fixture-audit, ")
    assert "Previewing update (dev)" in lines[2:8]
    header = next(line for line in lines if line.lstrip().startswith("Type"))
    assert header.startswith("     Type") and "Name" in header and "Plan" in header
    assert any(line.startswith(" +   pulumi:pulumi:Stack") and "fixture-audit-dev" in line and
               line.rstrip().endswith("create") for line in lines)
    # Children indented under their parent, with the CLI's tree characters and short type names.
    assert any(line.startswith(" +   └─ fixture:audit:AuditLog") for line in lines)
    bucket = next(line for line in lines if "aws:s3:Bucket " in line)
    assert bucket.startswith(" +      ├─ ") and bucket.rstrip().endswith("[protect]")
    assert any("└─ aws:cloudtrail:Trail" in line for line in lines)
    assert "    ⚠️ fixture-compliance@v0.1.0 (local: " in clean.stdout
    assert "Resources:\n    + 6 to create\n" in clean.stdout
    assert "Outputs:\n    bucketName   : output<string>\n" in clean.stdout
    assert "Policy summary: passed: 0 mandatory, 1 advisory" in clean.stdout


def test_mandatory_violation_exits_1_and_names_the_policy(failing) -> None:
    assert failing.returncode == 1, failing.stderr
    expected = (
        "Policies:\n"
        "    ❌ fixture-compliance@v0.1.0 (local: " + str(PACK) + ")\n"
        "        - [mandatory]  fixture-trail-log-file-validation  "
        "(aws:cloudtrail/trail:Trail: audit-trail)\n"
        "          CloudTrail trails must validate log files.\n"
        "          Set enableLogFileValidation to true on the trail.\n"
    )
    assert expected in failing.stdout
    diagnostics = "Diagnostics:\n  pulumi:pulumi:Stack (fixture-audit-dev):\n    error: preview failed"
    assert diagnostics in failing.stdout
    assert "Policy summary: FAILED: 1 mandatory" in failing.stdout


def test_without_a_policy_pack_only_the_program_runs() -> None:
    result = run_here(*preview_args(PROGRAM, pack_dir=None))
    assert result.returncode == 0
    assert "Policies:" not in result.stdout and "no policy packs were run" in result.stdout


def test_program_exception_exits_2_with_the_program_traceback(program: Path) -> None:
    result = run_cli(*preview_args(program, "--config", "retentionDays=0"))
    assert result.returncode == 2
    assert "    error: Program failed with an unhandled exception:\n    Traceback (most recent call last):" \
        in result.stdout
    assert 'raise ValueError(f"retentionDays must be at least 1' in result.stdout
    assert "ValueError: retentionDays must be at least 1; is 0" in result.stdout
    assert "offline_preview" not in result.stdout.split("Traceback", 1)[1]  # only the program's frames


def test_a_program_run_error_exits_2_with_its_message_alone() -> None:
    # The real program refuses bad stack config with a pulumi.RunError: Pulumi prints the message
    # without a traceback, and so does the offline preview.
    result = run_here("preview", "--stack", "prod", "--cwd", str(REPO), "--config", "archiveRetentionDays=30")
    assert result.returncode == 2
    assert ("    error: spawn-audit:archiveRetentionDays = 30 is below the hipaa floor of 2192 days "
            "(45 CFR 164.316(b)(2)(i))") in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_unwritable_output_file_exits_2_without_a_traceback(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "report.json"
    result = run_here(*preview_args(PROGRAM, "--format", "json", "--output", str(target)))
    assert result.returncode == 2
    assert f"error: cannot write the report to {target}: No such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_policy_config_exits_2_without_preview_output(tmp_path: Path) -> None:
    config = tmp_path / "bad.json"
    config.write_text('{"fixture-log-group-retention": {"minimumDays": "a year"}}')
    result = run_cli(*preview_args(PROGRAM, "--policy-pack-config", str(config)))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "error: validating policy config: fixture-compliance 0.1.0  fixture-log-group-retention: "
        "minimumDays: Invalid type. Expected: integer, given: string")


def test_json_report(failing) -> None:
    result = run_here(*preview_args(PROGRAM, "--config", "logFileValidation=false", "--format", "json"))
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert {"resources", "outputs", "diagnostics", "not_applicable", "summary"} <= set(data)
    assert data["summary"] == {"resources": {"create": 6}, "mandatory": 1, "advisory": 1,
                               "preview_unknown": 1, "exit_code": 1}
    trail = next(r for r in data["resources"] if r["type"] == "aws:cloudtrail/trail:Trail")
    assert trail["inputs"]["s3BucketName"] == "<unknown during preview>"
    assert trail["source"] == {"file": "tests/preview/fixtures/program/components/audit_log.py",
                               "line": trail["source"]["line"]}
    mandatory = next(d for d in data["diagnostics"] if d["enforcement_level"] == "mandatory")
    assert mandatory["policy"] == "fixture-trail-log-file-validation"
    assert mandatory["message"] == "Set enableLogFileValidation to true on the trail."
    assert data["outputs"]["retentionDays"] == 400
    policies = {p["name"]: p for p in data["policy_packs"][0]["policies"]}
    assert policies["fixture-log-group-retention"]["config"] == {"minimumDays": 365}


def test_markdown_report() -> None:
    result = run_here(*preview_args(PROGRAM, "--config", "logFileValidation=false", "--format", "markdown"))
    assert result.returncode == 1
    md = result.stdout
    assert md.startswith("### Offline preview of `dev` (fixture-audit): ❌ 1 mandatory policy violation(s)")
    assert "| Level | Policy | Resource | Message |" in md
    assert ("| ❌ mandatory | `fixture-trail-log-file-validation` | `audit-trail` (aws:cloudtrail:Trail)<br>"
            "<sub>tests/preview/fixtures/program/components/audit_log.py:") in md
    assert "<details><summary>Resources (6 to create)</summary>" in md and "</details>" in md
    assert "Policy summary" in result.stderr  # stdout stays pure Markdown for $GITHUB_STEP_SUMMARY


def test_sarif_report(tmp_path: Path) -> None:
    out = tmp_path / "report.sarif"
    result = run_here(*preview_args(PROGRAM, "--config", "logFileValidation=false", "--format", "sarif",
                                   "--output", str(out)))
    assert result.returncode == 1
    assert result.stdout == ""
    sarif = json.loads(out.read_text())
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    [run] = sarif["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["fixture-trail-log-file-validation", "fixture-log-group-retention",
                                        "fixture-trail-bucket-named", "fixture-buckets-protected"]
    assert rules[0]["helpUri"].startswith("https://docs.aws.amazon.com/")
    assert rules[0]["help"]["text"] == "Set enable_log_file_validation=True on aws.cloudtrail.Trail."
    assert rules[0]["defaultConfiguration"]["level"] == "error"
    assert rules[1]["defaultConfiguration"]["level"] == "warning"
    error = next(r for r in run["results"] if r["level"] == "error")
    assert error["ruleId"] == "fixture-trail-log-file-validation" and error["ruleIndex"] == 0
    location = error["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "tests/preview/fixtures/program/components/audit_log.py",
                                            "uriBaseId": "%SRCROOT%"}
    source = (REPO / location["artifactLocation"]["uri"]).read_text().splitlines()
    assert "aws.cloudtrail.Trail(" in source[location["region"]["startLine"] - 1]
    assert all(r["message"]["text"] and r["partialFingerprints"] for r in run["results"])
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file:///")


def test_sarif_points_at_the_stack_file_for_a_stack_level_violation(tmp_path: Path) -> None:
    pack = tmp_path / "stackpack"
    pack.mkdir()
    (pack / "__main__.py").write_text(textwrap.dedent('''
        from pulumi_policy import EnforcementLevel, PolicyPack, StackValidationPolicy

        def check(args, report_violation):
            report_violation("The stack as a whole is not compliant.")

        PolicyPack("stackpack", policies=[StackValidationPolicy(
            name="stack-level", description="A stack-level check.", validate=check,
            enforcement_level=EnforcementLevel.MANDATORY)])
    '''))
    out = tmp_path / "report.sarif"
    result = run_here(*preview_args(PROGRAM, "--format", "sarif", "--output", str(out), pack_dir=pack))
    assert result.returncode == 1
    [finding] = json.loads(out.read_text())["runs"][0]["results"]
    location = finding["locations"][0]
    uri = location["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "tests/preview/fixtures/program/Pulumi.dev.yaml"
    urn = location["logicalLocations"][0]["fullyQualifiedName"]
    assert urn.endswith("pulumi:pulumi:Stack::fixture-audit-dev")
    text = run_here(*preview_args(PROGRAM, pack_dir=pack)).stdout
    assert "- [mandatory]  stack-level  (pulumi:pulumi:Stack: fixture-audit-dev)" in text


def test_junit_report(tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    config = tmp_path / "c.json"
    config.write_text('{"fixture-trail-bucket-named": "disabled"}')
    result = run_here(*preview_args(PROGRAM, "--config", "logFileValidation=false", "--format", "junit",
                                   "--output", str(out), "--policy-pack-config", str(config)))
    assert result.returncode == 1
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    assert suite.get("name") == "fixture-audit.dev"
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "1")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"fixture-trail-log-file-validation", "fixture-log-group-retention",
                          "fixture-trail-bucket-named", "fixture-buckets-protected"}
    failure = cases["fixture-trail-log-file-validation"].find("failure")
    assert failure is not None and "Set enableLogFileValidation to true" in failure.text
    assert cases["fixture-trail-bucket-named"].find("skipped") is not None
    assert cases["fixture-buckets-protected"].find("failure") is None


def test_program_prints_do_not_corrupt_json(program: Path) -> None:
    main = program / "__main__.py"
    main.write_text("print('hello from the program')\n" + main.read_text())
    result = run_here(*preview_args(program, "--format", "json"))
    assert result.returncode == 0
    json.loads(result.stdout)
    assert "hello from the program" in result.stderr


@pytest.mark.parametrize(("token", "short"), [
    ("aws:s3/bucket:Bucket", "aws:s3:Bucket"),
    ("aws:cloudwatch/logGroup:LogGroup", "aws:cloudwatch:LogGroup"),
    ("aws:s3/bucketV2:BucketV2", "aws:s3:BucketV2"),
    ("fixture:audit:AuditLog", "fixture:audit:AuditLog"),
    ("pulumi:providers:aws", "pulumi:providers:aws"),
])
def test_display_type(token: str, short: str) -> None:
    assert display_type(token) == short
