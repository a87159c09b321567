"""The runner on the fixture program: what the engine would see for each registration."""

from __future__ import annotations

from pathlib import Path

from preview_helpers import PROGRAM

from offline_preview.runner import UNKNOWN, run_program


def test_records_every_registration_with_parent_options_and_dependencies() -> None:
    run = run_program(PROGRAM, "dev")
    assert run.error is None, run.error_traceback
    by_name = {(r.type, r.name): r for r in run.resources}
    component = by_name[("fixture:audit:AuditLog", "audit")]
    bucket = by_name[("aws:s3/bucket:Bucket", "audit-logs")]
    trail = by_name[("aws:cloudtrail/trail:Trail", "audit-trail")]
    log_group = by_name[("aws:cloudwatch/logGroup:LogGroup", "audit-trail")]

    assert not component.custom and component.parent == run.stack_urn
    assert bucket.custom and bucket.parent == component.urn
    assert bucket.protect and not trail.protect
    assert set(trail.dependencies) == {bucket.urn, log_group.urn}
    assert trail.property_dependencies["s3BucketName"] == [bucket.urn]
    # Engine (camelCase) names; what only the cloud knows is unknown during preview.
    assert trail.inputs["enableLogFileValidation"] is True
    assert trail.inputs["s3BucketName"] == UNKNOWN
    assert log_group.inputs["retentionInDays"] == 400
    assert trail.properties["isMultiRegionTrail"] is True


def test_source_positions_point_at_the_program_lines() -> None:
    run = run_program(PROGRAM, "dev")
    trail = next(r for r in run.resources if r.type == "aws:cloudtrail/trail:Trail")
    source = Path(trail.source_file)
    assert source == PROGRAM / "components" / "audit_log.py"
    assert "aws.cloudtrail.Trail(" in source.read_text().splitlines()[trail.source_line - 1]


def test_outputs_and_overrides() -> None:
    run = run_program(PROGRAM, "dev", overrides={"retentionDays": "30"})
    assert run.outputs["retentionDays"] == 30
    assert run.outputs["trailArn"] == UNKNOWN


def test_program_exception_is_captured_not_raised() -> None:
    run = run_program(PROGRAM, "dev", overrides={"retentionDays": "0"})
    assert isinstance(run.error, ValueError)
    assert "retentionDays must be at least 1; is 0" in run.error_traceback


def test_runs_do_not_leak_into_each_other() -> None:
    first = run_program(PROGRAM, "dev", overrides={"protectBucket": "false"})
    second = run_program(PROGRAM, "dev")
    assert not next(r for r in first.resources if r.type == "aws:s3/bucket:Bucket").protect
    assert next(r for r in second.resources if r.type == "aws:s3/bucket:Bucket").protect
    assert len(first.resources) == len(second.resources)


def test_installed_packages_stay_loaded_when_the_virtualenv_is_inside_the_project() -> None:
    # CI and the README put .venv inside the project directory: only the program's own modules may
    # be unloaded after a run, never pulumi_aws (unloading it breaks every later import of it).
    import sys

    import pulumi_aws.s3

    repo_root = Path(__file__).resolve().parents[2]
    before = sys.modules["pulumi_aws.s3"]
    run = run_program(repo_root, "dev")
    assert run.error is None
    assert sys.modules["pulumi_aws.s3"] is before
    assert before is pulumi_aws.s3


def test_a_run_leaves_no_thread_or_descriptor_behind() -> None:
    """Each run's event loops and executor threads end with it, failing runs included: a process
    running hundreds of programs (the test suite, a tool) must not collect sockets and threads."""
    import os
    import threading

    def held() -> tuple[int, int]:
        return threading.active_count(), len(os.listdir("/proc/self/fd"))

    run_program(PROGRAM, "dev")  # first-run imports may open files that stay open by design
    before = held()
    for overrides in (None, {"retentionDays": "0"}):
        for _ in range(3):
            run_program(PROGRAM, "dev", overrides=overrides)
    assert held() == before
