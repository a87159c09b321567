"""A second, independently written program of another shape through the offline preview command (its
main run in-process, the real pack served in-process): two multi-region trails splitting read and
write management events, one shared bucket from a component, alarms in a component of their own
(Maximum, GreaterThanThreshold 0, 1 of 5 datapoints), and the hipaa profile declared only by the
stack's tags.

It passes as written; each named break is caught, the declared profile even under the sandbox config.
"""

from __future__ import annotations

import pytest
from preview_helpers import FIXTURES, REPO, run_cli_in_process

PROGRAM = FIXTURES / "split_trails"
SANDBOX = str(REPO / "policy" / "config" / "sandbox.json")
RUNS = {
    "baseline-default": ((), None),
    "baseline-sandbox": ((), SANDBOX),
    "writer-without-validation": (("writer-without-validation",), SANDBOX),
    "writer-single-region": (("writer-single-region",), SANDBOX),
    "alarm-reversed": (("alarm-reversed",), None),
}


@pytest.fixture(scope="module")
def results():
    def run(breaks, config):
        args = ["preview", "--stack", "test", "--cwd", str(PROGRAM), "--policy-pack", str(REPO / "policy"),
                "--config-path", *(a for i, b in enumerate(breaks) for a in ("--config", f"breaks[{i}]={b}"))]
        if config:
            args += ["--policy-pack-config", config]
        # The command's own main with the real pack served in-process: what is tested is the policies'
        # outcome on this program's shape, not the processes (test_preview_cli runs those).
        return run_cli_in_process(*args)

    return {name: run(*args) for name, args in RUNS.items()}


def mandatory(stdout: str) -> list[str]:
    return sorted(line.split()[2] for line in stdout.splitlines() if "- [mandatory]" in line)


@pytest.mark.parametrize("name", ["baseline-default", "baseline-sandbox"])
def test_split_coverage_passes(results, name):
    result = results[name]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert mandatory(result.stdout) == []


def test_unvalidated_second_trail_fails_under_the_declared_profile(results):
    result = results["writer-without-validation"]
    assert result.returncode == 1
    assert mandatory(result.stdout) == ["aws-cloudtrail-stack-security-trail",
                                        "aws-cloudtrail-trail-log-file-validation"]
    assert "Trail 'split-writers': set enableLogFileValidation to true." in result.stdout
    assert ("Enforced profiles: hipaa (stack tag spawn-audit:compliance-profiles on 'access-logs')."
            in result.stdout)


def test_write_events_from_one_region_only_fail(results):
    result = results["writer-single-region"]
    assert result.returncode == 1
    assert mandatory(result.stdout) == ["aws-cloudtrail-stack-security-trail",
                                        "aws-cloudtrail-trail-management-events"]
    assert "Record write management events from every source in every region" in result.stdout


def test_reversed_alarm_fails(results):
    result = results["alarm-reversed"]
    assert result.returncode == 1
    assert mandatory(result.stdout) == ["aws-cloudwatch-stack-monitoring-alarms"]
    assert ("Make alarm 'alarms-vpc-changes-alarm' fire on one matching event (value 1): set "
            "comparisonOperator GreaterThanOrEqualToThreshold with threshold at most 1 (is "
            "LessThanOrEqualToThreshold 0)") in result.stdout
