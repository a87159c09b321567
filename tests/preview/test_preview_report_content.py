"""What every report carries, and that identical runs give identical bytes.

Two independent runs of the real dev stack and the real pack (sandbox config): the program's
registrations complete in a different order from run to run, yet after ``make_stable`` every format
renders the same bytes (durations off). The same reports show the program's warning in every
format, open with the officer's view (verdict, stack, profiles and their sources, control counts),
and name the stack config key beside each violation that config decides.

What is tested is the reports' content, so the real pack is served in the test's process
(``pack_in_process``: the offline preview's own engine steps, without the gRPC transport and the pack's
process, which ``test_preview_analyzer`` and ``test_preview_real_stacks`` run for real).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pack_in_process import run_pack_in_process

from offline_preview.render import FORMATS, PreviewReport, make_stable, render
from offline_preview.runner import run_program

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_WARNING = ("spawn-audit:complianceProfiles is []: stack dev is a sandbox and no regulatory retention "
                   "floor applies")


def _report() -> PreviewReport:
    run = run_program(ROOT, "dev", preview=True)
    assert run.error is None, run.error_traceback
    make_stable(run)
    report = PreviewReport(run=run, repo_root=ROOT, durations=False)
    result = run_pack_in_process(run, ROOT / "policy", "policy/config/sandbox.json")
    result.pack.display_path = "policy"
    report.packs.append(result)
    return report


@pytest.fixture(scope="module")
def reports() -> tuple[PreviewReport, PreviewReport]:
    return _report(), _report()


@pytest.mark.parametrize("fmt", FORMATS)
def test_identical_runs_render_identical_bytes(reports, fmt: str) -> None:
    first, second = reports
    assert render(first, fmt) == render(second, fmt)


def test_program_warnings_reach_every_format(reports) -> None:
    report = reports[0]
    assert f"    warning: {SANDBOX_WARNING}\n" in render(report, "text")
    logs = json.loads(render(report, "json"))["program_logs"]
    assert {"severity": "warning", "message": SANDBOX_WARNING} in logs
    assert f"- warning: {SANDBOX_WARNING}" in render(report, "markdown")
    notes = json.loads(render(report, "sarif"))["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert {"level": "warning", "message": {"text": SANDBOX_WARNING}} in notes
    suite = ET.fromstring(render(report, "junit")).find("testsuite")
    assert suite is not None and suite.findtext("system-err") == f"warning: {SANDBOX_WARNING}"


def test_text_report_opens_with_the_officers_view(reports) -> None:
    report = reports[0]
    lines = render(report, "text").splitlines()
    advisory = len(report.diagnostics)
    assert lines[:3] == [
        f"Verdict: PASSED: no mandatory policy violation, {advisory} advisory violation(s) (exit 0)",
        "Stack: dev (project spawn-audit, Pulumi.dev.yaml)",
        "Profiles enforced: none (sandbox: no regulatory profile in the pack or stack config)",
    ]
    counts = re.fullmatch(r"Controls: (\d+) passed, (\d+) failed \((\d+) mandatory\), (\d+) not applicable, "
                          r"(\d+) undecided during preview", lines[3])
    assert counts is not None
    passed, failed, mandatory, not_applicable, undecided = map(int, counts.groups())
    pack = report.packs[0]
    enabled = [p for p in pack.pack.policies if pack.config[p.name].enforcement_level != "disabled"]
    assert passed + failed + not_applicable + undecided == len(enabled)
    assert failed == len({d.policy for d in report.diagnostics}) and mandatory == 0
    assert not_applicable > 0 and passed > 0  # the sandbox leaves profile-driven controls not applicable
    assert lines.index("Previewing update (dev)") < next(i for i, line in enumerate(lines) if "Type" in line)


def test_markdown_report_opens_with_the_officers_view(reports) -> None:
    text = render(reports[0], "markdown")
    assert text.index("Verdict: PASSED") < text.index("Profiles enforced:") < text.index("Controls: ")
    assert text.index("Controls: ") < text.index("| Level | Policy |") < text.index("<details>")


def test_violation_names_the_stack_config_key_and_its_value(reports) -> None:
    report = reports[0]
    hint = "stack config to change: spawn-audit:encryption = sse-s3 (set it in Pulumi.dev.yaml)"
    text = render(report, "text")
    kms = text.index("- [advisory]  aws-cloudtrail-trail-kms-encryption  (")
    assert text.index(hint, kms) < text.index("- [advisory]", kms + 1)
    assert ('stack config to change: spawn-audit:objectLockMode = "", spawn-audit:objectLockRetentionDays = 0'
            in text)
    diagnostics = json.loads(render(report, "json"))["diagnostics"]
    by_policy = {d["policy"]: d["stack_config"] for d in diagnostics}
    assert by_policy["aws-cloudtrail-trail-kms-encryption"] == [
        {"key": "spawn-audit:encryption", "value": "sse-s3"}]
    assert hint in render(report, "markdown")


@pytest.fixture(scope="module")
def prod_run():
    """One preview run of the real prod stack, read (never changed) by the tests that ask for it."""
    run = run_program(ROOT, "prod", preview=True)
    assert run.error is None, run.error_traceback
    return run


def test_profiles_name_both_sources(prod_run) -> None:
    from offline_preview.render import profiles_enforced

    run = prod_run
    report = PreviewReport(run=run, repo_root=ROOT, durations=False)
    result = run_pack_in_process(run, ROOT / "policy", "policy/config/hipaa.json")
    result.config_file = "policy/config/hipaa.json"
    report.packs.append(result)
    assert profiles_enforced(report) == [
        ("hipaa", ["pack config policy/config/hipaa.json",
                   "stack config spawn-audit:complianceProfiles (Pulumi.prod.yaml)"])]


def test_profiles_under_all_are_no_source(prod_run, tmp_path) -> None:
    """``"all"`` sets only levels (the engine's applyConfig; the SDK ignores its properties), so
    profiles written under it are enforced by no policy and must not be reported as enforced."""
    from offline_preview.render import profiles_enforced

    config = json.loads((ROOT / "policy/config/hipaa.json").read_text())
    config["all"] = {"enforcementLevel": "mandatory", "profiles": ["soc2", "hipa"]}
    path = tmp_path / "hipaa-plus-all.json"
    path.write_text(json.dumps(config))
    run = prod_run
    report = PreviewReport(run=run, repo_root=ROOT, durations=False)
    result = run_pack_in_process(run, ROOT / "policy", path)
    result.config_file = "policy/config/hipaa.json"
    report.packs.append(result)
    assert "all" in result.config  # passed on to Configure, as the engine does
    assert profiles_enforced(report) == [
        ("hipaa", ["pack config policy/config/hipaa.json",
                   "stack config spawn-audit:complianceProfiles (Pulumi.prod.yaml)"])]


def test_config_entries_that_configure_no_policy_are_warned_in_every_format(reports, tmp_path) -> None:
    """The engine passes on a misspelled policy name that carries a level, and properties under
    "all"; neither configures anything. Each gets a warning with what was probably meant."""
    config = json.loads((ROOT / "policy/config/sandbox.json").read_text())
    path = tmp_path / "sandbox.json"
    path.write_text(json.dumps(config))
    run = reports[0].run  # the real dev stack, made stable
    baseline = run_pack_in_process(run, ROOT / "policy", path)
    assert baseline.warnings == []
    config["aws-s3-bucket-lifecyle-retention"] = {"enforcementLevel": "mandatory", "minRetentionDays": 3000}
    config["all"] = {"enforcementLevel": "advisory", "profiles": ["hipaa"]}
    path.write_text(json.dumps(config))
    result = run_pack_in_process(run, ROOT / "policy", path)
    assert result.warnings == [
        f'{path}: "all" sets only the enforcement level; its profiles configure no policy of '
        "spawn-audit-compliance (set them under each policy's name)",
        f'{path}: "aws-s3-bucket-lifecyle-retention" is not a policy of spawn-audit-compliance and '
        "configures nothing; did you mean aws-s3-bucket-lifecycle-retention?",
    ]
    report = PreviewReport(run=run, repo_root=ROOT, durations=False)
    report.packs.append(result)
    for fmt in FORMATS:
        rendered = render(report, fmt)
        assert "did you mean aws-s3-bucket-lifecycle-retention?" in rendered, fmt
