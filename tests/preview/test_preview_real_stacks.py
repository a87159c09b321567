"""The repository's own stacks through the offline gate, as CI runs it: both must pass (exit 0).

The two gates run as CI runs them (subprocesses, the real pack over gRPC); the config checks of the
real pack run the command in this process with the pack served in-process (``run_cli_in_process``)."""

from __future__ import annotations

import json

import pytest
from preview_helpers import REPO, run_cli, run_cli_in_process

# The one stack -> pack config map that CI and the workflow read.
PROFILES = json.loads((REPO / ".ci" / "stacks.json").read_text())["stacks"]


@pytest.mark.parametrize("stack", sorted(PROFILES))
def test_real_stack_passes_the_gate(stack: str) -> None:
    config = REPO / "policy" / "config" / f"{PROFILES[stack]}.json"
    result = run_cli("preview", "--stack", stack, "--policy-pack", "policy",
                     "--policy-pack-config", str(config.relative_to(REPO)))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert f"Previewing update ({stack})" in result.stdout
    assert "[mandatory]" not in result.stdout


def test_invalid_config_for_the_real_pack_is_refused_before_any_preview(tmp_path) -> None:
    # The engine's steps on the real pack: schema validation of --policy-pack-config, every problem
    # named with the policy, the property, the value and what is allowed; exit 2, no preview output.
    config = tmp_path / "bad.json"
    config.write_text('{"aws-s3-bucket-lifecycle-retention": {"profiles": ["gdpr"], "minRetentionDays": -1}}')
    result = run_cli_in_process("preview", "--stack", "prod", "--cwd", str(REPO), "--policy-pack", "policy",
                                "--policy-pack-config", str(config))
    assert result.returncode == 2
    assert result.stdout == ""
    prefix = ("error: validating policy config: spawn-audit-compliance 0.1.0  "
              "aws-s3-bucket-lifecycle-retention: ")
    assert result.stderr.splitlines() == [
        prefix + "minRetentionDays: Must be greater than or equal to 0; is -1",
        prefix + 'profiles.0: "gdpr" must be one of the following: "hipaa", "pci-dss", "soc2"',
    ]


def test_the_real_pack_gets_its_schema_defaults_without_a_config_file() -> None:
    # No config file: every policy gets its schema defaults, i.e. all three profiles at once. prod is a
    # hipaa stack: it transitions to GLACIER at day 90, inside PCI DSS 10.5.1's 92-day window, and lets
    # the account's own principals read the logs, which PCI DSS 10.3.1 limits to the auditor roles.
    result = run_cli_in_process("preview", "--stack", "prod", "--cwd", str(REPO), "--policy-pack", "policy")
    assert result.returncode == 1
    mandatory = [line.split()[2] for line in result.stdout.splitlines() if "- [mandatory]" in line]
    assert mandatory == ["aws-s3-bucket-lifecycle-immediate-access",
                         "aws-s3-bucket-reads-limited-to-auditors"]
