"""The policy pack through the real launch (``python -m pulumi.policy``) and gRPC protocol, configured
the way the engine configures it: schema defaults, the user's config merged and validated, and an
explicit enforcement level for every policy."""

from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path

import pytest
from pack_in_process import run_pack_in_process
from preview_helpers import PACK, PROGRAM, REPO
from recorded import run_program  # shared by the tests of this process

from offline_preview import runner
from offline_preview.pack_client import PolicyPackProcess, launch_pack
from offline_preview.pack_config import PolicyError, load_policy_config_file, reconcile_config
from offline_preview.pack_run import AnalysisStream, run_policy_pack
from offline_preview.render import make_stable


@pytest.fixture(scope="module")
def compliant_run():
    run = run_program(PROGRAM, "dev")
    assert run.error is None, run.error_traceback
    return run


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def test_pack_info_and_engine_like_config(compliant_run) -> None:
    process = PolicyPackProcess(PACK, project="fixture-audit", stack="dev")
    process.spawn()
    spawned = process.pid
    process.start()  # a pack already launched is waited for, not launched a second time
    assert process.pid == spawned
    with process:
        info = process.get_info()
        assert process.port and process.pid
        pid = process.pid
        assert info.name == "fixture-compliance"
        assert info.version == "0.1.0"  # from PulumiPolicy.yaml, as the CLI reads it
        config = reconcile_config(info, {})
    assert not _alive(pid), "the pack process must end with the context"
    assert config["fixture-log-group-retention"].properties == {"minimumDays": 365}
    assert {name: c.enforcement_level for name, c in config.items()} == {
        "fixture-trail-log-file-validation": "mandatory",
        "fixture-log-group-retention": "advisory",
        "fixture-trail-bucket-named": "advisory",
        "fixture-buckets-protected": "mandatory",
    }


def test_numbers_cross_the_protocol_as_floats(compliant_run, tmp_path) -> None:
    config = _write(tmp_path / "c.json", {"fixture-log-group-retention": {"minimumDays": 500}})
    result = run_policy_pack(compliant_run, PACK, config)
    [violation] = [d for d in result.diagnostics if d.policy == "fixture-log-group-retention"]
    assert violation.message == "retentionInDays must be at least 500.0; is 400.0."
    assert violation.description == "Audit log groups must keep events long enough."
    assert violation.enforcement_level == "advisory"
    assert violation.resource_type == "aws:cloudwatch/logGroup:LogGroup"
    assert violation.resource_name == "audit-trail"


def test_all_then_policy_entries(compliant_run, tmp_path) -> None:
    config = _write(tmp_path / "c.json", {
        "all": "disabled",
        "fixture-log-group-retention": {"enforcementLevel": "mandatory", "minimumDays": 730},
    })
    result = run_policy_pack(compliant_run, PACK, config)
    assert [(d.policy, d.enforcement_level) for d in result.diagnostics] == [
        ("fixture-log-group-retention", "mandatory")]
    assert result.config["fixture-buckets-protected"].enforcement_level == "disabled"


def test_unknown_values_become_an_advisory_diagnostic(compliant_run) -> None:
    result = run_policy_pack(compliant_run, PACK)
    [diag] = result.diagnostics
    assert diag.preview_unknown and diag.enforcement_level == "advisory"
    assert diag.policy == "fixture-trail-bucket-named"
    assert "can't be known during preview" in diag.message
    # The Stack, the default aws provider, the component and four custom resources, as the engine.
    assert result.analyzed == 7 and result.stack_resources == 7


def test_stack_policy_sees_options_through_analyze_stack(tmp_path) -> None:
    run = run_program(PROGRAM, "dev", overrides={"protectBucket": "false"})
    result = run_policy_pack(run, PACK)
    [violation] = [d for d in result.diagnostics if d.policy == "fixture-buckets-protected"]
    assert violation.enforcement_level == "mandatory"
    assert violation.resource_name == "audit-logs"
    assert violation.message == "Set protect=True on bucket 'audit-logs'."


@pytest.mark.parametrize(("config", "expected"), [
    ({"fixture-log-group-retention": {"minimumDays": "a year"}},
     "error: validating policy config: fixture-compliance 0.1.0  fixture-log-group-retention: "
     "minimumDays: Invalid type. Expected: integer, given: string"),
    ({"fixture-log-group-retention": {"minimumDays": 0}},
     "fixture-log-group-retention: minimumDays: Must be greater than or equal to 1; is 0"),
    ({"fixture-log-group-retnetion": {"minimumDays": 30}},
     'configuring policy pack "fixture-compliance" at "' + str(PACK) + '": invalid enforcement level ""'),
])
def test_invalid_config_is_reported_like_the_engine(compliant_run, tmp_path, config, expected) -> None:
    with pytest.raises(PolicyError) as err:
        run_policy_pack(compliant_run, PACK, _write(tmp_path / "c.json", config))
    assert expected in str(err.value)


@pytest.mark.parametrize(("text", "expected"), [
    ('{"fixture-log-group-retention": "strict"}', '"strict" is not a valid enforcement level'),
    ('{"fixture-log-group-retention": 3}', "is not a valid value; must be a string or object"),
    ('{"fixture-log-group-retention": {"enforcementLevel": 1}}', "1 is not a valid enforcement level"),
    ('{"all": ', "could not parse policy pack config"),
    ('["mandatory"]', "must be a JSON object"),
])
def test_malformed_config_file(tmp_path, text, expected) -> None:
    path = tmp_path / "c.json"
    path.write_text(text)
    with pytest.raises(PolicyError) as err:
        load_policy_config_file(path)
    assert expected in str(err.value)


def test_empty_config_file_is_no_config(tmp_path) -> None:
    path = tmp_path / "c.json"
    path.write_text("  \n")
    assert load_policy_config_file(path) == {}


def test_explicit_level_for_a_policy_that_inherits_the_pack_level(compliant_run, tmp_path) -> None:
    """A policy without its own level takes the pack's (here mandatory). If Configure carried the
    policy's properties without a level, the SDK would read 0 = advisory; the engine never does."""
    pack = tmp_path / "inherit"
    pack.mkdir()
    (pack / "__main__.py").write_text(textwrap.dedent('''
        from pulumi_policy import EnforcementLevel, PolicyConfigSchema, PolicyPack, ResourceValidationPolicy

        def check(args, report_violation):
            if args.resource_type == "aws:cloudtrail/trail:Trail":
                report_violation(f"limit is {args.get_config()['limit']}")

        PolicyPack("inherit", enforcement_level=EnforcementLevel.MANDATORY, policies=[
            ResourceValidationPolicy(
                name="inherits-level", description="Inherits the pack level.", validate=check,
                config_schema=PolicyConfigSchema(properties={"limit": {"type": "number"}})),
        ])
    '''))
    config = _write(tmp_path / "c.json", {"inherits-level": {"limit": 2.5}})
    result = run_policy_pack(compliant_run, pack, config)
    [violation] = result.diagnostics
    assert violation.enforcement_level == "mandatory"
    assert violation.message == "limit is 2.5"
    assert result.pack.version == "0.0.1"  # no PulumiPolicy.yaml: the SDK's version


def test_pack_that_dies_shows_its_stderr(compliant_run, tmp_path) -> None:
    pack = tmp_path / "broken"
    pack.mkdir()
    (pack / "__main__.py").write_text("raise RuntimeError('policy pack exploded on import')\n")
    with pytest.raises(PolicyError) as err:
        run_policy_pack(compliant_run, pack, timeout=30)
    assert "exited with code 1" in str(err.value)
    assert "policy pack exploded on import" in str(err.value)


def test_pack_that_never_prints_a_port_times_out(compliant_run, tmp_path) -> None:
    pack = tmp_path / "silent"
    pack.mkdir()
    (pack / "__main__.py").write_text("import sys, time\nprint('starting', file=sys.stderr, flush=True)\n"
                                      "time.sleep(60)\n")
    with pytest.raises(PolicyError) as err:
        run_policy_pack(compliant_run, pack, timeout=0.3)
    assert "did not print its port within 0.3s" in str(err.value)
    assert "starting" in str(err.value)


def test_missing_pack_directory(compliant_run, tmp_path) -> None:
    with pytest.raises(PolicyError, match="does not exist"):
        run_policy_pack(compliant_run, tmp_path / "nope")


def test_a_file_given_as_the_pack_directory(compliant_run, tmp_path) -> None:
    (tmp_path / "README.md").write_text("not a pack\n")
    with pytest.raises(PolicyError, match=r"README\.md is not a directory; allowed: the directory that "
                                          r"holds the pack's PulumiPolicy\.yaml"):
        run_policy_pack(compliant_run, tmp_path / "README.md")


def test_pack_environment_matches_the_cli(compliant_run, tmp_path) -> None:
    pack = tmp_path / "envcheck"
    pack.mkdir()
    (pack / "__main__.py").write_text(textwrap.dedent('''
        import json, os, pulumi
        from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

        def check(args, report_violation):
            if args.resource_type == "aws:cloudtrail/trail:Trail":
                report_violation(json.dumps({
                    "cwd": os.getcwd(), "project": pulumi.get_project(), "stack": pulumi.get_stack(),
                    "dry_run": os.environ["PULUMI_DRY_RUN"],
                    "region": pulumi.Config("aws").get("region"),
                }))

        PolicyPack("envcheck", policies=[ResourceValidationPolicy(
            name="env", description="Reports its environment.", validate=check,
            enforcement_level=EnforcementLevel.ADVISORY)])
    '''))
    result = run_policy_pack(compliant_run, pack)
    seen = json.loads(result.diagnostics[0].message)
    assert seen == {"cwd": str(pack), "project": "fixture-audit", "stack": "dev", "dry_run": "true",
                    "region": "eu-west-1"}


# --- analyzing while the program runs ------------------------------------------------------------------

def _outcome(result) -> tuple:
    return ([(d.policy, d.enforcement_level, d.urn, d.message) for d in result.diagnostics],
            [(n.policy, n.urn, n.reason) for n in result.not_applicable], result.analyzed,
            result.stack_resources, result.warnings)


def test_analyzing_each_registration_as_it_is_made_gives_the_same_result(tmp_path) -> None:
    """The command streams every registration to the real pack while the program runs (as the engine
    analyzes each step as it is generated); the report is the one analyzing afterwards gives."""
    config = _write(tmp_path / "hipaa.json", json.loads((REPO / "policy/config/hipaa.json").read_text()))
    recorded_run = run_program(REPO, "prod")
    process = launch_pack(REPO / "policy", recorded_run.config, recorded_run.project.name, "prod")
    stream = AnalysisStream(process, config)
    streamed_run = runner.run_program(REPO, "prod", on_record=stream.add)
    assert streamed_run.error is None and streamed_run.on_record is None
    make_stable(streamed_run)
    streamed = run_policy_pack(streamed_run, REPO / "policy", config, stream=stream)

    assert len(stream.responses) == streamed.analyzed == len(streamed_run.analyzed_records()) > 100
    assert process.process is None  # stopped by the step, as without a stream
    make_stable(recorded_run)
    afterwards = run_pack_in_process(recorded_run, REPO / "policy", config)
    assert _outcome(streamed) == _outcome(afterwards)
    assert streamed.count("advisory") > 0


def test_a_stream_whose_pack_fails_to_start_reports_it_at_the_policy_step(compliant_run, tmp_path) -> None:
    pack = tmp_path / "dies"
    pack.mkdir()
    (pack / "__main__.py").write_text("import sys\nprint('no port', file=sys.stderr)\nsys.exit(3)\n")
    process = launch_pack(pack, compliant_run.config, compliant_run.project.name, "dev")
    stream = AnalysisStream(process, None)
    for record in compliant_run.analyzed_records():
        stream.add(record)
    with pytest.raises(PolicyError, match=r"exited with code 3; its stderr:\nno port"):
        run_policy_pack(compliant_run, pack, stream=stream)
    assert process.process is None


def test_closing_the_pack_ends_a_stream_still_waiting_for_it(compliant_run, tmp_path) -> None:
    """A program that fails skips the policy step: the command closes the pack and the stream's thread
    ends at once, even while the pack has not started answering."""
    pack = tmp_path / "silent"
    pack.mkdir()
    (pack / "__main__.py").write_text("import time\ntime.sleep(60)\n")
    process = launch_pack(pack, compliant_run.config, compliant_run.project.name, "dev")
    stream = AnalysisStream(process, None)
    started = time.monotonic()
    process.close()
    stream.finish()
    assert time.monotonic() - started < 5
    assert isinstance(stream.error, PolicyError) and "was stopped before it started" in str(stream.error)
