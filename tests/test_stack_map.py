"""One map from stacks to pack configs (.ci/stacks.json), and everything that runs a gate agrees with it:
CI's script, the workflow's matrix, the generated docs, the README command and the stack files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
STACKS = json.loads((ROOT / ".ci" / "stacks.json").read_text())["stacks"]


def test_every_stack_file_is_mapped_to_an_existing_pack_config() -> None:
    stack_files = {p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml")}
    assert set(STACKS) == stack_files
    for config in STACKS.values():
        assert (ROOT / "policy" / "config" / f"{config}.json").is_file(), config


def test_ci_script_loops_over_the_map() -> None:
    listed = subprocess.run([sys.executable, str(ROOT / ".ci" / "stacks.py")], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    assert listed == [f"{stack} {config}" for stack, config in STACKS.items()]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 .ci/stacks.py | while read -r stack profile; do" in ci
    assert '--stack "$stack" --policy-pack policy' in ci and '"policy/config/$profile.json"' in ci
    # The README's own prod command (run verbatim by CI) uses the mapped config too.
    for stack, config in re.findall(r"offline_preview preview --stack (\S+) --policy-pack policy "
                                    r"--policy-pack-config policy/config/(\S+)\.json", ci):
        assert STACKS[stack] == config


def test_workflow_matrix_is_the_map() -> None:
    matrix = json.loads(subprocess.run([sys.executable, str(ROOT / ".ci" / "stacks.py"), "--matrix"],
                                       capture_output=True, text=True, check=True).stdout)
    assert matrix == {"include": [{"stack": s, "profile": c} for s, c in STACKS.items()]}
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "compliance-preview.yml").read_text())
    step = workflow["jobs"]["stacks"]["steps"][-1]
    assert step["run"] == 'echo "matrix=$(python3 .ci/stacks.py --matrix)" >> "$GITHUB_OUTPUT"'
    assert workflow["jobs"]["stacks"]["outputs"]["matrix"] == f"${{{{ steps.{step['id']}.outputs.matrix }}}}"
    for job in ("offline-gate", "pulumi-preview"):
        assert workflow["jobs"][job]["needs"] == "stacks"
        assert workflow["jobs"][job]["strategy"]["matrix"] == "${{ fromJSON(needs.stacks.outputs.matrix) }}"


def test_docs_list_the_map() -> None:
    docs = (ROOT / "docs" / "policy-pack.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| `policy/config/([\w-]+)\.json` \|$", docs, re.MULTILINE)
    assert dict(rows) == STACKS
