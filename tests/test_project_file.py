"""Pulumi.yaml against Pulumi's own project-file JSON schema.

``tests/data/pulumi-project.schema.json`` is Pulumi's published schema for project files
(pulumi/pulumi, sdk/go/common/workspace/project.json); the CLI refuses a project file it rejects.
"""

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "tests/data/pulumi-project.schema.json").read_text())


def _project() -> dict:
    return yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


def test_project_file_is_valid() -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(_project())


def test_schema_rejects_an_undeclarable_type() -> None:
    project = _project()
    project["config"]["auditPeriodDays"]["type"] = "number"  # the schema allows no floats
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(project))
    assert errors, "a config type outside string/integer/boolean/array must be rejected"
