"""The tables program and pack share have one home each: ``policy/spawn_compliance``, reached by the
program only through ``components/compliance.py``, with every regulation clause written once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from audit_policies import controls
from spawn_compliance import clauses, profiles

ROOT = Path(__file__).resolve().parent.parent
PROGRAM_FILES = sorted([ROOT / "__main__.py", *(ROOT / "components").glob("*.py")])
BRIDGE = ROOT / "components" / "compliance.py"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names


@pytest.mark.parametrize("path", [p for p in PROGRAM_FILES if p != BRIDGE], ids=lambda p: p.name)
def test_the_program_reaches_the_pack_directory_only_through_the_bridge(path: Path) -> None:
    text = path.read_text()
    assert "sys.path" not in text, f"{path.name} changes sys.path; import from components.compliance"
    assert not _imports(path) & {"spawn_compliance", "audit_policies"}, path.name


def test_the_bridge_exports_the_shared_modules() -> None:
    from components import compliance

    assert compliance.profiles is profiles and compliance.clauses is clauses


def _cited_regulation_clauses() -> set[str]:
    return {c for entry in controls.CONTROLS.values() for c in entry.hipaa + entry.pci_dss + entry.soc2}


def test_every_cited_clause_is_in_the_clause_table_and_every_entry_is_cited() -> None:
    cited = _cited_regulation_clauses() | set(clauses.ACCESS_LOGGING.values()) | {clauses.IMMEDIATE_ACCESS}
    assert cited - set(clauses.TITLES) == set()
    assert set(clauses.TITLES) - cited == set()


def test_controls_write_no_clause_identifier_of_their_own() -> None:
    """controls.py takes each regulation identifier from the clause table, never a literal."""
    source = (ROOT / "policy" / "audit_policies" / "controls.py").read_text()
    literals = [n.value for n in ast.walk(ast.parse(source))
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
                and n.value.startswith(("45 CFR", "PCI DSS ", "SOC 2 "))]
    assert literals == []


def test_every_profile_cites_a_retention_clause() -> None:
    assert set(clauses.RETENTION) == set(profiles.PROFILE_NAMES)
    assert set(clauses.ACCESS_LOGGING) == {n for n, p in profiles.PROFILES.items() if p.access_logging}


@pytest.mark.parametrize("name", controls.REQUIRED_TWINS)
def test_each_required_twin_is_its_policy_and_follows_it(name: str) -> None:
    names = list(controls.CONTROLS)
    assert controls.CONTROLS[f"{name}-required"] is controls.CONTROLS[name]
    assert names.index(f"{name}-required") == names.index(name) + 1


@pytest.mark.parametrize(("chosen", "expected"), [
    (("hipaa", "pci-dss"), (2192, ("hipaa",))),
    (("pci-dss", "soc2"), (455, ("soc2",))),
    (("pci-dss",), (365, ("pci-dss",))),
    ((), (0, ())),
])
def test_binding_floor_names_the_profile_that_sets_the_retention_floor(chosen, expected) -> None:
    assert profiles.binding_floor(chosen, 365, lambda r: r.retention_floor_days) == expected


def test_binding_floor_names_every_profile_at_the_floor() -> None:
    """Two profiles at the same value are both named (soc2 with an audit period of 275 days = 365)."""
    assert profiles.binding_floor(("pci-dss", "soc2"), 275, lambda r: r.retention_floor_days) \
        == (365, ("pci-dss", "soc2"))


CLAUSE_TEXT = re.compile(r"45 CFR 164\.\d|\b164\.3\d\d\(|PCI DSS (v4\.0\.1 )?\d|SOC 2 (CC|A)\d")


def _strings_outside_docstrings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


@pytest.mark.parametrize("path", sorted([*PROGRAM_FILES, *(ROOT / "policy" / "audit_policies").glob("*.py")]),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_messages_take_clauses_from_the_table(path: Path) -> None:
    """No message, metadata or generated text writes a regulation clause of its own; only
    ``spawn_compliance/clauses.py`` does (comments and docstrings may cite, they print nothing)."""
    found = [(line, text) for line, text in _strings_outside_docstrings(path) if CLAUSE_TEXT.search(text)]
    assert found == []
