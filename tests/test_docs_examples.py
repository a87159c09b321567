"""The docs' examples do what the docs say: each is extracted from the page and run.

- every ``python -m offline_preview preview`` and ``pulumi preview`` command in a ``sh`` block of
  ``docs/`` runs offline with exit 0 (the real stacks are compliant), the real pack served in-process;
- the error shown in ``docs/configuration.md`` is the program's message, word for word;
- the ``--policy-pack-config`` example of ``docs/policy-pack.md`` ("HIPAA plus a ten-year archive and KMS
  everywhere") passes the HIPAA prod stack with a ten-year archive, and fails it, on the KMS policies
  only, when the stack switches to SSE-S3.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from pack_in_process import InProcessPack, run_cli_in_process
from recorded import run_program  # shared by the tests of this process

from offline_preview.pack_run import run_policy_pack

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _preview_commands() -> list[tuple[str, ...]]:
    """Arguments of each preview command in the docs' sh blocks, as the offline preview takes them."""
    found: dict[tuple[str, ...], None] = {}
    for page in sorted(DOCS.glob("*.md")):
        for block in re.findall(r"```sh\n(.*?)```", page.read_text(), re.S):
            for line in block.replace("\\\n", " ").splitlines():
                words = shlex.split(line, comments=True)
                for start in ("python -m offline_preview preview", "pulumi preview"):
                    head = start.split()
                    if words[:len(head)] == head:
                        found[("preview", *words[len(head):])] = None
    return list(found)


COMMANDS = _preview_commands()


def test_the_docs_have_preview_commands() -> None:
    assert ("preview", "--stack", "prod", "--policy-pack", "policy", "--policy-pack-config",
            "policy/config/hipaa.json") in COMMANDS


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[1:]) for a in COMMANDS])
def test_documented_preview_command_passes(args: tuple[str, ...], monkeypatch) -> None:
    # The command's own main with the real pack served in-process: the documented command's outcome is
    # tested here, the launch of its processes by the preview CLI tests.
    monkeypatch.chdir(ROOT)
    result = run_cli_in_process(*args, "--format", "json")
    code, out = result.returncode, result.stdout
    assert code == 0, out
    assert json.loads(out)["summary"]["mandatory"] == 0


def test_documented_config_error_is_the_programs_message() -> None:
    page = (DOCS / "configuration.md").read_text()
    shown = re.search(r"for example\n\n```\n(.*?)\n```", page, re.S)
    assert shown is not None
    run = run_program(ROOT, "prod", overrides={"archiveRetentionDays": 30})
    assert str(run.error) == shown.group(1)


def _pack_example(tmp_path: Path) -> Path:
    page = (DOCS / "policy-pack.md").read_text()
    block = re.search(r"Example, HIPAA plus a ten-year archive and KMS everywhere.*?```json\n(.*?)```", page,
                      re.S)
    assert block is not None
    path = tmp_path / "hipaa-ten-years-kms.json"
    path.write_text(block.group(1))
    return path


def _mandatory(tmp_path: Path, overrides: dict) -> list[str]:
    run = run_program(ROOT, "prod", overrides=overrides)
    assert run.error is None, run.error_traceback
    pack = InProcessPack(ROOT / "policy", project=run.project.name, stack=run.stack,
                         config=dict(run.config.values), secret_keys=list(run.config.secret_keys),
                         dry_run=run.preview)
    result = run_policy_pack(run, ROOT / "policy", _pack_example(tmp_path), process=pack)
    return sorted({d.policy for d in result.diagnostics if d.enforcement_level == "mandatory"})


def test_hipaa_ten_year_kms_example_passes_the_hipaa_stack_with_a_ten_year_archive(tmp_path: Path) -> None:
    assert _mandatory(tmp_path, {"archiveRetentionDays": 3653}) == []


def test_hipaa_ten_year_kms_example_requires_kms_everywhere(tmp_path: Path) -> None:
    assert _mandatory(tmp_path, {"archiveRetentionDays": 3653, "encryption": "sse-s3"}) == [
        # The Athena results (SSE_S3) and their bucket (AES256) need KMS too.
        "aws-athena-workgroup-results-bucket-protected",
        "aws-athena-workgroup-results-encrypted",
        "aws-cloudtrail-stack-security-trail",
        "aws-cloudtrail-trail-kms-encryption-required",
        "aws-cloudwatch-log-group-kms-encryption-required",
        "aws-s3-bucket-encryption",
        "aws-sns-topic-kms-encryption-required",
    ]
