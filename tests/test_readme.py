"""The README's promises: its two opening commands are the ones CI runs, and it names every key."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _opening_commands() -> list[str]:
    return re.findall(r"```sh\n(python3 -m venv .+)\n```", README)[:2]


def test_ci_runs_the_readme_commands_verbatim() -> None:
    commands = _opening_commands()
    assert len(commands) == 2
    assert "offline_preview preview --stack prod" in commands[0]
    assert "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    for command in commands:
        assert command in ci


def test_readme_names_every_config_key() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert [key for key in declared if f"`{key}`" not in README] == []
