"""Project and stack files the CLI would refuse: exit 2, the CLI's message, never a traceback.

The command runs in this process (``run_cli_in_process``: its own ``main``, output captured apart);
the usage error runs as a real subprocess, as a user meets it."""

from __future__ import annotations

from pathlib import Path

import pytest
from preview_helpers import preview_args, run_cli
from preview_helpers import run_cli_in_process as run_here

from offline_preview.project import ProjectError, load_project, load_stack_config


def _assert_clean_error(result, expected: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_type_error_is_reported_like_the_cli(program: Path) -> None:
    (program / "Pulumi.dev.yaml").write_text("config:\n  fixture-audit:retentionDays: a year\n")
    result = run_here(*preview_args(program))
    _assert_clean_error(
        result, "error: Stack 'dev' with configuration key 'retentionDays' must be of type 'integer'")


def test_override_type_error(program: Path) -> None:
    result = run_here(*preview_args(program, "--config", "logFileValidation=maybe"))
    _assert_clean_error(
        result, "Stack 'dev' with configuration key 'logFileValidation' must be of type 'boolean'")


def test_missing_required_value(program: Path) -> None:
    project = program / "Pulumi.yaml"
    project.write_text(project.read_text() + "  trailName:\n    type: string\n    description: Required.\n")
    result = run_here(*preview_args(program))
    _assert_clean_error(result, "Stack 'dev' is missing configuration value 'trailName'")


def test_malformed_stack_yaml(program: Path) -> None:
    (program / "Pulumi.dev.yaml").write_text("config:\n  aws:region: [eu-west-1\n")
    result = run_here(*preview_args(program))
    _assert_clean_error(result, "could not parse")
    assert "Pulumi.dev.yaml" in result.stderr and "line" in result.stderr


def test_a_tab_after_a_key_is_accepted_as_the_cli_accepts_it(program: Path) -> None:
    # yaml.v3 (the CLI) and libyaml take a tab as separation after "key:"; PyYAML's own parser did not.
    from offline_preview.project import _load_yaml

    path = program / "tabs.yaml"
    path.write_text("config:\n  aws:region:\teu-west-1\t\n")
    assert _load_yaml(path) == {"config": {"aws:region": "eu-west-1"}}


def test_malformed_project_yaml(program: Path) -> None:
    (program / "Pulumi.yaml").write_text("name: fixture-audit\nruntime: python\nconfig: {oops\n")
    result = run_here(*preview_args(program))
    _assert_clean_error(result, "could not parse")


def test_unknown_stack(program: Path) -> None:
    result = run_here(*preview_args(program, stack="prdo"))
    _assert_clean_error(result, "no stack named 'prdo'")
    assert "stacks with a file: dev" in result.stderr


def test_bad_override_syntax(program: Path) -> None:
    result = run_here(*preview_args(program, "--config", "retentionDays"))
    _assert_clean_error(result, "--config expects KEY=VALUE")


def test_usage_error_exits_2() -> None:
    result = run_cli("preview")
    assert result.returncode == 2
    assert "--stack" in result.stderr and "Traceback" not in result.stderr


def test_markdown_report_carries_the_error(program: Path) -> None:
    (program / "Pulumi.dev.yaml").write_text("config:\n  fixture-audit:protectBucket: sometimes\n")
    result = run_here(*preview_args(program, "--format", "markdown"))
    assert result.returncode == 2
    assert "❌ error" in result.stdout
    assert "must be of type 'boolean'" in result.stdout


def test_secure_values_reach_the_program_as_secret_placeholders(program: Path) -> None:
    (program / "Pulumi.dev.yaml").write_text(
        "config:\n  fixture-audit:apiToken:\n    secure: AAABAKxyz==\n")
    project = load_project(program)
    config = load_stack_config(project, "dev")
    assert config.values["fixture-audit:apiToken"] == "[secret]"
    assert config.secret_keys == ["fixture-audit:apiToken"]


def test_project_defaults_and_namespaces(program: Path) -> None:
    config = load_stack_config(load_project(program), "dev")
    assert config.values["aws:region"] == "eu-west-1"
    assert config.values["fixture-audit:retentionDays"] == "400"
    assert config.values["fixture-audit:logFileValidation"] == "true"
    assert config.values["fixture-audit:alarmEmails"] == "[]"


def test_project_error_is_raised_not_printed(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="no Pulumi.yaml"):
        load_project(tmp_path)


def test_a_key_given_twice_is_refused_like_the_cli(program: Path) -> None:
    stack = program / "Pulumi.dev.yaml"
    stack.write_text("config:\n  fixture-audit:retentionDays: 400\n")
    assert run_here(*preview_args(program)).returncode == 0
    # One change: the same key again further down (yaml.v3 refuses it; PyYAML kept the last).
    stack.write_text("config:\n  fixture-audit:retentionDays: 400\n  fixture-audit:retentionDays: 1\n")
    result = run_here(*preview_args(program))
    _assert_clean_error(
        result, 'Pulumi.dev.yaml (line 3, column 3): mapping key "fixture-audit:retentionDays" '
                "already defined at line 2")
    assert result.stderr.count("error:") == 1


def _aliased(depth: int) -> str:
    """A value of nine aliases of the level above, ``depth`` levels deep: 9**depth leaves."""
    lines = ["  fixture-audit:nested:", "    l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"    l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, depth)]
    return "config:\n  fixture-audit:retentionDays: 400\n" + "\n".join(lines) + "\n"


def test_excessive_aliasing_is_refused_not_expanded(program: Path) -> None:
    stack = program / "Pulumi.dev.yaml"
    stack.write_text(_aliased(3))  # 729 values: fine
    assert run_here(*preview_args(program)).returncode == 0
    stack.write_text(_aliased(9))  # one change: 387,420,489 values once expanded
    result = run_here(*preview_args(program))
    _assert_clean_error(result, "Pulumi.dev.yaml: document contains excessive aliasing")
    assert result.stderr.count("error:") == 1


def test_sarif_and_junit_reports_carry_a_stack_file_error(program: Path) -> None:
    """A SARIF upload or a JUnit reporter gets a document naming the error, not an empty file."""
    import json
    import xml.etree.ElementTree as ET

    (program / "Pulumi.dev.yaml").write_text("config:\n  fixture-audit:protectBucket: sometimes\n")
    expected = "Stack 'dev' with configuration key 'protectBucket' must be of type 'boolean'"
    sarif = run_here(*preview_args(program, "--format", "sarif"))
    assert sarif.returncode == 2 and sarif.stderr.count("error:") == 1
    invocation = json.loads(sarif.stdout)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 2
    assert invocation["toolExecutionNotifications"] == [{"level": "error", "message": {"text": expected}}]
    junit = run_here(*preview_args(program, "--format", "junit"))
    assert junit.returncode == 2 and junit.stderr.count("error:") == 1
    suites = ET.fromstring(junit.stdout.split("\n", 1)[1])
    assert (suites.get("tests"), suites.get("errors"), suites.get("failures")) == ("1", "1", "0")
    assert suites.find("testsuite/testcase/error").text == expected


@pytest.mark.parametrize("stack", ["../dev", "org/dev", "", "d ev"])
def test_a_stack_name_the_cli_refuses_is_one_error_line(program: Path, stack: str) -> None:
    assert run_here(*preview_args(program, stack="dev")).returncode == 0
    result = run_here(*preview_args(program, stack=stack))
    _assert_clean_error(result, f"error: --stack {stack!r}: a stack name may only contain alphanumeric, "
                                "hyphens, underscores, or periods")
    assert result.stderr.count("error:") == 1
