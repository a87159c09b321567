"""Metadata lint over every policy, the pack layout, and the generated files being current."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest
import yaml
from audit_policies import controls, matrix
from policy_harness import POLICIES, Pack
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, StackValidationPolicy

NAME = re.compile(r"^aws-(cloudtrail|s3|kms|cloudwatch|sns|athena)-[a-z0-9]+(-[a-z0-9]+)+$")
SERVICE = re.compile(r"^aws-([a-z0-9]+)-")


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_policy_metadata(name):
    policy = POLICIES[name]
    assert NAME.match(name), name
    assert policy.description[0].isupper() and policy.description.endswith("."), policy.description
    assert policy.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY)
    assert policy.severity is not None
    assert policy.remediation_steps and policy.remediation_steps.endswith(".")
    assert policy.url and policy.url.startswith("https://")
    assert policy.framework is not None and policy.framework.name and policy.framework.reference
    entry = controls.clauses(name)
    cited = entry.hipaa + entry.pci_dss + entry.soc2 + entry.cis + entry.security_hub
    assert cited, f"{name} serves no clause"
    assert SERVICE.match(name).group(1) in policy.tags
    assert set(controls.tags(name)) <= set(policy.tags)
    assert {"hipaa", "pci-dss", "soc2"} & set(policy.tags)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_profile_aware_policies_take_both_profile_keys(name):
    schema = POLICIES[name].config_schema
    keys = set(schema.properties) if schema else set()
    assert ("profiles" in keys) == ("auditPeriodDays" in keys)
    if POLICIES[name].enforcement_level == EnforcementLevel.MANDATORY:
        assert "profiles" in keys, f"{name} is mandatory but ignores the profile"
    for key, spec in (schema.properties.items() if schema else []):
        assert "default" in spec and spec.get("description"), key


def test_clause_table_has_exactly_the_pack_policies():
    assert set(controls.CONTROLS) == set(POLICIES)


def test_stack_policies_are_named_and_typed_consistently():
    for name, policy in POLICIES.items():
        if "-stack-" in name:
            assert isinstance(policy, StackValidationPolicy)


def test_analyzer_info_announces_every_level_and_schema():
    info = Pack().servicer.GetAnalyzerInfo(None, None)
    assert info.name == "spawn-audit-compliance" and info.supportsConfig
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert levels == {n: (proto.MANDATORY if p.enforcement_level == EnforcementLevel.MANDATORY
                          else proto.ADVISORY) for n, p in POLICIES.items()}
    for item in info.policies:
        expected = POLICIES[item.name].config_schema
        assert set(item.configSchema.properties) == (set(expected.properties) if expected else set())


@pytest.mark.parametrize("path", sorted(str(p) for p in matrix.outputs()))
def test_generated_file_is_current(path):
    from pathlib import Path

    expected = matrix.outputs()[Path(path)]
    actual = Path(path).read_text() if Path(path).exists() else None
    assert actual == expected, f"{path} is stale: run python policy/tools/generate.py"


def test_controls_md_lists_every_policy():
    text = (matrix.POLICY_DIR / "CONTROLS.md").read_text()
    for name in POLICIES:
        assert f"| `{name}` |" in text


def test_pack_files():
    meta = yaml.safe_load((matrix.POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert meta["runtime"]["name"] == "python" and meta["version"] and meta["description"]
    # The CLI runs the pack with this virtualenv's interpreter, which gets the pack's requirements.
    assert meta["runtime"]["options"] == {"virtualenv": "venv"}
    pins = (matrix.POLICY_DIR / "requirements.txt").read_text().split()
    assert pins == ["pulumi==3.272.0", "pulumi-policy==1.21.0"]


def test_main_only_builds_the_pack():
    tree = ast.parse((matrix.POLICY_DIR / "__main__.py").read_text())
    calls = [n for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
    others = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom, ast.Expr))]
    assert others == []
    # The pack's servicer (one decode per request) is installed first, then the pack is built.
    assert [ast.unparse(c.value.func) for c in calls] == ["servicer.install", "PolicyPack"]


def test_shared_tables_import_with_the_standard_library_only():
    """The Pulumi program imports spawn_compliance where pulumi_policy may be absent; nothing in it
    may pull in the policy SDK or the Pulumi SDK."""
    code = ("import sys; from spawn_compliance import clauses, monitoring, profiles; "
            "leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_policy')); "
            "assert not leaked, leaked")
    subprocess.run([sys.executable, "-c", code], cwd=matrix.POLICY_DIR, check=True)
