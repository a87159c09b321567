"""The CI workflows, validated offline: the GitHub workflow JSON schema (check-jsonschema's vendored
copy) and zizmor's offline audits, plus the properties the gate relies on (pinned actions, least
privilege, no persisted credentials, the stack->profile mapping)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml
from preview_helpers import REPO

BIN = Path(sys.executable).parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


def test_workflows_exist() -> None:
    assert WORKFLOWS


def test_workflows_match_the_github_schema() -> None:
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_offline_audit_is_clean() -> None:
    result = subprocess.run(
        [str(BIN / "zizmor"), "--offline", str(REPO / ".github" / "workflows")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_actions_are_pinned_to_commits_with_a_version_comment() -> None:
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            if "uses:" in line:
                assert re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_least_privilege_and_no_persisted_credentials() -> None:
    for path in WORKFLOWS:
        data = _load(path)
        assert data["permissions"] == {}, path
        for job in data["jobs"].values():
            assert "write-all" not in str(job.get("permissions"))
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False


def test_offline_gate_covers_each_stack_with_its_profile() -> None:
    data = _load(REPO / ".github" / "workflows" / "compliance-preview.yml")
    triggers = data.get("on", data.get(True))  # YAML 1.1 reads the key `on` as True
    assert triggers is not None and "pull_request" in triggers
    gate = data["jobs"]["offline-gate"]
    # The matrix is .ci/stacks.json's (tests/test_stack_map.py proves the stacks job emits it).
    assert gate["needs"] == "stacks"
    assert gate["strategy"]["matrix"] == "${{ fromJSON(needs.stacks.outputs.matrix) }}"
    assert "secrets." not in yaml.safe_dump(gate)
    runs = " ".join(step.get("run", "") for step in gate["steps"])
    assert "python -m offline_preview preview" in runs and '"policy/config/$PROFILE.json"' in runs
    assert '>> "$GITHUB_STEP_SUMMARY"' in runs
    uses = [step.get("uses", "") for step in gate["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)


def test_real_preview_runs_only_with_credentials() -> None:
    data = _load(REPO / ".github" / "workflows" / "compliance-preview.yml")
    job = data["jobs"]["pulumi-preview"]
    # Pull requests from forks get no secrets, so the job runs only for this repository's branches.
    assert job["if"] == ("${{ github.event_name != 'pull_request' || "
                         "github.event.pull_request.head.repo.full_name == github.repository }}")
    pulumi_step = next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi_step["if"] == "${{ steps.credentials.outputs.present == 'true' }}"
    assert pulumi_step["with"]["policyPacks"] == "policy"
    assert pulumi_step["with"]["command"] == "preview"
