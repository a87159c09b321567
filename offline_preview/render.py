"""Render an offline preview: the CLI's text layout, JSON, Markdown, SARIF 2.1.0 and JUnit XML.

The text format follows ``pulumi preview --policy-pack``: the resource tree with its Plan column,
the ``Policies:`` section grouped by pack (❌ mandatory, ⚠️ advisory only, ✅ clean), diagnostics,
outputs and the ``Resources:`` summary, plus one policy summary line. The other formats carry the
same facts for machines and pull requests: Markdown for a PR comment or ``$GITHUB_STEP_SUMMARY``,
SARIF for code-scanning annotations (at the program line that created the resource where known,
else the stack file), JUnit for test reporters. Every path in a report is relative to the repo root.
"""

from __future__ import annotations

import hashlib
import json
import traceback
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from . import __version__
from .pack_run import Diagnostic, PackResult
from .runner import UNKNOWN, ProgramRun, ResourceRecord

FORMATS = ("text", "json", "markdown", "sarif", "junit")
UNKNOWN_TEXT = "output<string>"
UNKNOWN_JSON = "<unknown during preview>"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_ICON = {"mandatory": "❌", "advisory": "⚠️", "clean": "✅"}


@dataclass
class PreviewReport:
    """Everything one offline preview found, for any renderer."""

    run: ProgramRun
    packs: list[PackResult] = field(default_factory=list)
    repo_root: Path = Path.cwd()
    error: str | None = None  # a config or pack error that stopped the preview (exit 2)
    durations: bool = True  # False: every duration is reported as 0, for byte-identical reports

    @property
    def stack(self) -> str:
        return self.run.stack

    @property
    def stack_name(self) -> str:
        return f"{self.run.project.name}-{self.run.stack}"

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d for p in self.packs for d in p.diagnostics]

    def count(self, level: str) -> int:
        return sum(p.count(level) for p in self.packs)

    @property
    def exit_code(self) -> int:
        if self.error or self.run.error is not None:
            return 2
        return 1 if self.count("mandatory") else 0

    @property
    def resource_count(self) -> int:
        return len(self.run.resources) + 1  # the stack itself is created too

    @property
    def step_counts(self) -> dict[str, int]:
        """Resources per step (create, same, update, replace, delete), the stack included."""
        counts: dict[str, int] = {}
        ops = [self.run.stack_op, *(r.op for r in self.run.resources), *("delete" for _ in self.run.deleted)]
        for op in ops:
            counts[op] = counts.get(op, 0) + 1
        return counts

    def relative(self, path: str | Path | None) -> str | None:
        """``path`` relative to the repo root (POSIX form), or None when it lies outside it."""
        if not path:
            return None
        try:
            return Path(path).resolve().relative_to(self.repo_root.resolve()).as_posix()
        except ValueError:
            return None

    @property
    def stack_file(self) -> str:
        return self.relative(self.run.config.path) or self.run.config.path.name

    def location(self, urn: str) -> tuple[str, int | None]:
        """Where a finding points: the program line that created the resource, else the stack file."""
        record = self.resource(urn)
        if record is not None:
            rel = self.relative(record.source_file)
            if rel is not None:
                return rel, record.source_line
        return self.stack_file, None

    def resource(self, urn: str) -> ResourceRecord | None:
        return next((r for r in self.run.resources if r.urn == urn), None)


# --------------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------------

def display_type(token: str) -> str:
    """The CLI's short type: ``aws:s3/bucket:Bucket`` -> ``aws:s3:Bucket``."""
    parts = token.split(":")
    if len(parts) == 3 and "/" in parts[1]:
        module, _, last = parts[1].rpartition("/")
        if last.lower() == parts[2].lower():
            return f"{parts[0]}:{module}:{parts[2]}"
    return token


def _sorted_diagnostics(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    order = {"mandatory": 0, "remediate": 0, "advisory": 1}
    return sorted(diagnostics, key=lambda d: (order.get(d.enforcement_level, 2), d.policy,
                                              d.resource_type or "", d.resource_name or "", d.message,
                                              d.urn, d.pack))


def _sibling_key(r: ResourceRecord) -> tuple[str, int, str, str]:
    """Program order: the file and line that created a resource; resources made on one line (a loop)
    by name, then type, so that the order never depends on when a registration completed."""
    return (r.source_file or "", r.source_line or 0, r.name, r.type)


def program_order(run: ProgramRun) -> list[ResourceRecord]:
    """Every resource, parents before their children, siblings in program order (``_sibling_key``).

    Registrations complete in an order that varies between runs; this one does not."""
    urns = {r.urn for r in run.resources}
    children: dict[str, list[ResourceRecord]] = {}
    for r in run.resources:
        children.setdefault(r.parent if r.parent in urns else run.stack_urn, []).append(r)
    result: list[ResourceRecord] = []

    def walk(urn: str) -> None:
        for kid in sorted(children.get(urn, []), key=_sibling_key):
            result.append(kid)
            walk(kid.urn)

    walk(run.stack_urn)
    return result


def make_stable(run: ProgramRun) -> None:
    """Put ``run`` in an order that identical runs share: resources in ``program_order``, and each
    resource's dependencies (sets to the engine, collected in completion order) sorted."""
    run.resources[:] = program_order(run)
    for r in run.resources:
        r.dependencies.sort()
        for urns in r.property_dependencies.values():
            urns.sort()
        r.property_dependencies = dict(sorted(r.property_dependencies.items()))


def program_logs(report: PreviewReport) -> list[tuple[str, str]]:
    """What the program logged (``pulumi.log.warn`` and friends), debug messages left out, then the
    warnings about policy-pack config entries that configure no policy."""
    logs = [(level, message) for level, message in report.run.logs if level != "debug"]
    return logs + [("warning", w) for p in report.packs for w in p.warnings]


def stack_config_keys(report: PreviewReport, d: Diagnostic) -> list[tuple[str, str]]:
    """(key, value as shown) of the stack config keys that govern ``d``'s policy, as the pack names them
    in its policy tags (``stack-config:<key>``); secret values are not shown."""
    pack = next((p.pack for p in report.packs if p.pack.name == d.pack), None)
    policy = pack.policy(d.policy) if pack else None
    if policy is None or d.preview_unknown:
        return []
    found = []
    for tag in policy.tags:
        if not tag.startswith("stack-config:"):
            continue
        key = tag.split(":", 1)[1]
        if key in report.run.config.secret_keys:
            value = "[secret, not shown]"
        else:
            value = report.run.config.values.get(key, "(not set)")
        found.append((key, value))
    return found


def _config_hint(report: PreviewReport, d: Diagnostic) -> str:
    keys = stack_config_keys(report, d)
    if not keys:
        return ""
    shown = ", ".join(f"{k} = {v or chr(34) * 2}" for k, v in keys)
    return f"stack config to change: {shown} (set it in {report.stack_file})"


def profiles_enforced(report: PreviewReport) -> list[tuple[str, list[str]]]:
    """Each compliance profile the gate judged the stack against, with where it came from: the policy
    pack's config (the ``profiles`` property of its enabled policies) and the stack's own
    ``<project>:complianceProfiles``. Derived from what the pack was configured with and the stack
    config; a pack that reports its own sources would be read instead."""
    sources: dict[str, list[str]] = {}
    for p in report.packs:
        where = f"pack config {p.config_file}" if p.config_file else f"{p.pack.name} defaults"
        for policy_name, cfg in p.config.items():
            # "all" and names the pack does not have are passed on but configure no policy: their
            # properties are enforced nowhere, so they are no source of a profile.
            if cfg.enforcement_level == "disabled" or p.pack.policy(policy_name) is None:
                continue
            chosen = cfg.properties.get("profiles")
            for name in chosen if isinstance(chosen, list) else []:
                if isinstance(name, str) and where not in sources.setdefault(name, []):
                    sources[name].append(where)
    key = f"{report.run.project.name}:complianceProfiles"
    raw = report.run.config.values.get(key)
    try:
        declared = json.loads(raw) if raw and key not in report.run.config.secret_keys else []
    except ValueError:
        declared = []
    for name in declared if isinstance(declared, list) else []:
        if isinstance(name, str):
            sources.setdefault(name, []).append(f"stack config {key} ({report.stack_file})")
    return sorted(sources.items())


def controls_count(report: PreviewReport) -> dict[str, int]:
    """Enabled policies by outcome: failed (a violation; ``mandatory`` of them block), not applicable
    (the pack said so and found nothing), undecided (only values unknown during preview), passed."""
    counts = {"passed": 0, "failed": 0, "mandatory": 0, "not_applicable": 0, "undecided": 0}
    for p in report.packs:
        for pol in p.pack.policies:
            if p.config[pol.name].enforcement_level == "disabled":
                continue
            found = [d for d in p.diagnostics if d.policy == pol.name]
            violations = [d for d in found if not d.preview_unknown]
            if violations:
                counts["failed"] += 1
                if any(d.enforcement_level in ("mandatory", "remediate") for d in violations):
                    counts["mandatory"] += 1
            elif found:
                counts["undecided"] += 1
            elif any(n.policy == pol.name for n in p.not_applicable):
                counts["not_applicable"] += 1
            else:
                counts["passed"] += 1
    return counts


def verdict(report: PreviewReport) -> str:
    mandatory, advisory = report.count("mandatory") + report.count("remediate"), report.count("advisory")
    if report.exit_code == 2:
        return "ERROR: the preview could not be completed (exit 2)"
    if mandatory:
        return f"FAILED: {mandatory} mandatory policy violation(s) (exit 1)"
    if not report.packs:
        return "NOT JUDGED: no policy pack was run (exit 0)"
    extra = f", {advisory} advisory violation(s)" if advisory else ""
    return f"PASSED: no mandatory policy violation{extra} (exit 0)"


def officer_summary(report: PreviewReport) -> list[str]:
    """What a compliance officer reads first: verdict, stack, profiles and their sources, controls."""
    lines = [f"Verdict: {verdict(report)}",
             f"Stack: {report.stack} (project {report.run.project.name}, {report.stack_file})"]
    profiles = profiles_enforced(report)
    if profiles:
        lines.append("Profiles enforced: " + "; ".join(f"{name} (from {' and '.join(where)})"
                                                      for name, where in profiles))
    elif report.packs:
        lines.append("Profiles enforced: none (sandbox: no regulatory profile in the pack or stack config)")
    if report.packs:
        c = controls_count(report)
        lines.append(f"Controls: {c['passed']} passed, {c['failed']} failed ({c['mandatory']} mandatory), "
                     f"{c['not_applicable']} not applicable, {c['undecided']} undecided during preview")
    return lines


def _resource_label(d: Diagnostic) -> str:
    if d.resource_type and d.resource_name:
        return f"{d.resource_type}: {d.resource_name}"
    return ""


def _json_value(value: Any) -> Any:
    if value == UNKNOWN:
        return UNKNOWN_JSON
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _is_run_error(report: PreviewReport) -> bool:
    """``pulumi.RunError`` ends a program cleanly: the language host prints its message alone."""
    return isinstance(report.run.error, pulumi.RunError)


def _program_failure_heading(report: PreviewReport) -> str:
    return "Program failed" if _is_run_error(report) else "Program failed with an unhandled exception"


def _program_traceback(report: PreviewReport) -> str:
    """The program's traceback from its own first frame on, as the language host would print it;
    for a ``pulumi.RunError`` (a deliberate, user-facing stop) only its message, as Pulumi prints it."""
    exc = report.run.error
    if exc is None:
        return ""
    if _is_run_error(report):
        return f"{exc}\n"
    main = str(report.run.project.main)
    own = str(Path(__file__).resolve().parent)
    project_dir = str(report.run.project.directory)
    frames = traceback.extract_tb(exc.__traceback__)
    start = next((i for i, f in enumerate(frames) if f.filename == main), None)
    if start is None:
        start = next((i for i, f in enumerate(frames)
                      if f.filename.startswith(project_dir) and not f.filename.startswith(own)), None)
    if start is None:
        return report.run.error_traceback or "".join(traceback.format_exception(exc))
    lines = ["Traceback (most recent call last):\n"]
    lines += traceback.format_list(frames[start:])
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


def _output_text(value: Any) -> str:
    if value == UNKNOWN:
        return UNKNOWN_TEXT
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return "null"
    return json.dumps(_json_value(value), ensure_ascii=False)


# --------------------------------------------------------------------------------------------------
# Text: the layout of `pulumi preview`
# --------------------------------------------------------------------------------------------------

def tree_rows(report: PreviewReport) -> list[tuple[str, str, str, str]]:
    """(tree prefix + display type, name, plan, info) for the stack and every resource, parents first."""
    run = report.run
    urns = {r.urn for r in run.resources}
    children: dict[str, list[ResourceRecord]] = {}
    for r in run.resources:
        parent = r.parent if r.parent in urns else run.stack_urn
        children.setdefault(parent, []).append(r)
    # Registrations complete in an order that can vary from run to run; program order is stable.
    for kids in children.values():
        kids.sort(key=_sibling_key)
    stack_info = "1 error" if run.error is not None else ""
    rows = [("pulumi:pulumi:Stack", report.stack_name, run.stack_op, stack_info)]

    def walk(urn: str, indent: str) -> None:
        kids = children.get(urn, [])
        for i, child in enumerate(kids):
            last = i == len(kids) - 1
            branch = "└─ " if last else "├─ "
            info = "[protect]" if child.protect else ""
            rows.append((indent + branch + display_type(child.type), child.name, child.op, info))
            walk(child.urn, indent + ("   " if last else "│  "))

    walk(run.stack_urn, "")
    rows += [(display_type(d.type), d.urn.rsplit("::", 1)[-1], "delete", "") for d in run.deleted]
    return rows


# The CLI's step symbols (pkg/display: OpSame is blank, OpUpdate "~", OpReplace "+-", OpDelete "-").
_OP_SYMBOL = {"create": " +   ", "same": "     ", "update": " ~   ", "replace": " +-  ", "delete": " -   "}
_OP_SUMMARY = (("create", "+", "to create"), ("update", "~", "to update"), ("delete", "-", "to delete"),
               ("replace", "+-", "to replace"))


def _resource_summary(report: PreviewReport) -> list[str]:
    counts = report.step_counts
    lines = [f"    {sym} {counts[op]} {label}" for op, sym, label in _OP_SUMMARY if counts.get(op)]
    if counts.get("same"):
        lines.append(f"    {counts['same']} unchanged")
    return lines


def render_tree(report: PreviewReport) -> list[str]:
    rows = tree_rows(report)
    type_w = max(len("Type"), *(len(r[0]) for r in rows)) + 2
    name_w = max(len("Name"), *(len(r[1]) for r in rows)) + 2
    has_info = any(r[3] for r in rows)
    plan_w = len("replace") + 4
    header = "     " + "Type".ljust(type_w) + "Name".ljust(name_w) + ("Plan".ljust(plan_w) + "Info"
                                                                        if has_info else "Plan")
    lines = [header.rstrip()]
    for typ, name, plan, info in rows:
        plan_info = plan.ljust(plan_w) + info if info else plan
        line = _OP_SYMBOL.get(plan, " +   ") + typ.ljust(type_w) + name.ljust(name_w) + plan_info
        lines.append(line.rstrip())
    return lines


def render_policies(report: PreviewReport) -> list[str]:
    if not report.packs:
        return []
    lines = ["Policies:"]
    for result in report.packs:
        mandatory = any(d.enforcement_level in ("mandatory", "remediate") for d in result.diagnostics)
        status = "mandatory" if mandatory else "advisory" if result.diagnostics else "clean"
        icon = _ICON[status]
        lines.append(f"    {icon} {result.pack.label} (local: {result.pack.display_path})")
        for d in _sorted_diagnostics(result.diagnostics):
            label = _resource_label(d)
            head = f"        - [{d.enforcement_level}]  {d.policy}"
            lines.append(head + (f"  ({label})" if label else ""))
            for text in d.full_message.splitlines() or [""]:
                lines.append(f"          {text}".rstrip())
            hint = _config_hint(report, d)
            if hint:
                lines.append(f"          {hint}")
    return lines


def _diagnostic_lines(report: PreviewReport) -> list[str]:
    run = report.run
    stack_lines: list[str] = []
    if run.error is not None:
        if _is_run_error(report):
            stack_lines += [f"error: {line}" if i == 0 else line for i, line in
                            enumerate(_program_traceback(report).rstrip("\n").splitlines())]
        else:
            stack_lines.append("error: Program failed with an unhandled exception:")
            stack_lines += _program_traceback(report).rstrip("\n").splitlines()
    elif report.count("mandatory"):
        stack_lines.append("error: preview failed")
    for level, message in program_logs(report):
        stack_lines += [f"{level}: {line}" if i == 0 else line for i, line in enumerate(message.splitlines())]
    for token in sorted(set(run.unanswered_invokes)):
        stack_lines.append(
            f"warning: offline preview: invoke {token} has no offline answer; "
            "the program received an empty result"
        )
    if not stack_lines:
        return []
    lines = ["Diagnostics:", f"  pulumi:pulumi:Stack ({report.stack_name}):"]
    lines += [f"    {line}".rstrip() for line in stack_lines]
    return lines


def render_outputs(report: PreviewReport) -> list[str]:
    outputs = report.run.outputs
    if not outputs:
        return []
    width = max(len(k) for k in outputs)
    return ["Outputs:"] + [f"    {k.ljust(width)}: {_output_text(v)}" for k, v in outputs.items()]


def policy_summary(report: PreviewReport) -> str:
    if not report.packs:
        return "Policy summary: no policy packs were run"
    mandatory, advisory = report.count("mandatory") + report.count("remediate"), report.count("advisory")
    unknown = sum(1 for d in report.diagnostics if d.preview_unknown)
    packs = ", ".join(p.pack.label for p in report.packs)
    policies = sum(len(p.pack.policies) for p in report.packs)
    enabled = sum(1 for p in report.packs for c in p.config.values() if c.enforcement_level != "disabled")
    analyzed = report.packs[0].analyzed
    extra = f" ({unknown} could not run on values unknown during preview)" if unknown else ""
    verdict = "FAILED" if mandatory else "passed"
    return (f"Policy summary: {verdict}: {mandatory} mandatory, {advisory} advisory violation(s){extra}; "
            f"{packs}: {enabled} of {policies} policies enabled, {analyzed} resources analyzed")


def render_text(report: PreviewReport) -> str:
    lines = [*officer_summary(report), "", f"Previewing update ({report.stack})", ""]
    if report.packs:
        lines += ["Loading policy packs...", ""]
    lines += render_tree(report)
    for section in (render_policies(report), _diagnostic_lines(report), render_outputs(report)):
        if section:
            lines += [""] + section
    lines += ["", "Resources:", *_resource_summary(report), ""]
    if report.error:
        lines.append(report.error)
    lines.append(policy_summary(report))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------------

def to_json(report: PreviewReport) -> dict[str, Any]:
    run = report.run
    resources = [{
        "urn": run.stack_urn, "type": "pulumi:pulumi:Stack", "name": report.stack_name, "custom": False,
        "parent": None, "plan": run.stack_op,
    }]
    for r in run.resources:
        rel = report.relative(r.source_file)
        resources.append({
            "urn": r.urn, "type": r.type, "name": r.name, "custom": r.custom, "parent": r.parent,
            "plan": r.op, "protect": r.protect, "provider": r.provider,
            "dependencies": r.dependencies, "property_dependencies": r.property_dependencies,
            "ignore_changes": r.ignore_changes, "delete_before_replace": r.delete_before_replace,
            "retain_on_delete": r.retain_on_delete, "additional_secret_outputs": r.additional_secret_outputs,
            "inputs": _json_value(r.inputs),
            "source": {"file": rel, "line": r.source_line} if rel else None,
        })
    for d in run.deleted:  # stored resources the program no longer registers (--state)
        resources.append({"urn": d.urn, "type": d.type, "name": d.urn.rsplit("::", 1)[-1], "custom": d.custom,
                          "parent": d.parent, "plan": "delete", "protect": d.protect})
    diagnostics = []
    for d in _sorted_diagnostics(report.diagnostics):
        path, line = report.location(d.urn)
        diagnostics.append({
            "policy_pack": d.pack, "policy_pack_version": d.pack_version, "policy": d.policy,
            "enforcement_level": d.enforcement_level, "severity": d.severity, "urn": d.urn,
            "resource_type": d.resource_type, "resource_name": d.resource_name,
            "description": d.description, "message": d.message,
            "kind": "preview-unknown" if d.preview_unknown else "violation",
            "location": {"file": path, "line": line},
            "stack_config": [{"key": k, "value": v} for k, v in stack_config_keys(report, d)],
        })
    packs = [{
        "name": p.pack.name, "version": p.pack.version, "path": p.pack.display_path,
        "policies": [{
            "name": pol.name, "description": pol.description, "type": pol.policy_type,
            "enforcement_level": p.config[pol.name].enforcement_level,
            "config": _json_value(p.config[pol.name].properties), "severity": pol.severity,
        } for pol in p.pack.policies],
        "resources_analyzed": p.analyzed, "seconds": round(p.seconds, 3) if report.durations else 0,
    } for p in report.packs]
    program_error = None
    if run.error is not None:
        program_error = {"message": f"{type(run.error).__name__}: {run.error}",
                         "traceback": _program_traceback(report)}
    counts = controls_count(report)
    return {
        "version": 1,
        "tool": {"name": "offline_preview", "version": __version__},
        "project": run.project.name,
        "stack": run.stack,
        "verdict": verdict(report),
        "profiles": [{"name": name, "sources": where} for name, where in profiles_enforced(report)],
        "controls": {k: counts[k] for k in ("passed", "failed", "mandatory", "not_applicable", "undecided")},
        "preview": run.preview,
        "stack_file": report.stack_file,
        "resources": resources,
        "outputs": {k: _json_value(v) for k, v in run.outputs.items()},
        "policy_packs": packs,
        "diagnostics": diagnostics,
        "not_applicable": sorted(
            ({"policy_pack": n.pack, "policy": n.policy, "urn": n.urn, "reason": n.reason}
             for p in report.packs for n in p.not_applicable),
            key=lambda n: (n["policy_pack"], n["policy"], n["urn"], n["reason"])),
        "program_logs": [{"severity": level, "message": message} for level, message in program_logs(report)],
        "unanswered_invokes": sorted(set(run.unanswered_invokes)),
        "error": report.error,
        "program_error": program_error,
        "summary": {
            "resources": report.step_counts,
            "mandatory": report.count("mandatory") + report.count("remediate"),
            "advisory": report.count("advisory"),
            "preview_unknown": sum(1 for d in report.diagnostics if d.preview_unknown),
            "exit_code": report.exit_code,
        },
    }


def render_json(report: PreviewReport) -> str:
    return json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------------

def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def render_markdown(report: PreviewReport) -> str:
    run = report.run
    mandatory, advisory = report.count("mandatory") + report.count("remediate"), report.count("advisory")
    if report.exit_code == 2:
        status = "❌ preview error"
    elif mandatory:
        status = f"❌ {mandatory} mandatory policy violation(s)"
    elif advisory:
        status = f"⚠️ {advisory} advisory policy violation(s), no mandatory ones"
    else:
        status = "✅ all policies pass"
    packs = ", ".join(f"`{p.pack.label}`" for p in report.packs) or "no policy pack"
    lines = [
        f"### Offline preview of `{run.stack}` ({run.project.name}): {status}",
        "",
        f"{report.resource_count} resources to create · {packs} · exit code {report.exit_code}",
        "",
    ]
    lines = [lines[0], "", *(f"{line}  " for line in officer_summary(report)), "", *lines[2:]]
    if report.error:
        lines += ["```text", report.error, "```", ""]
    logs = program_logs(report)
    if logs:
        lines += ["**Program warnings:**", ""] + [f"- {level}: {_cell(message)}" for level, message in logs]
        lines.append("")
    if run.error is not None:
        lines += [f"**{_program_failure_heading(report)}:**", "", "```text",
                  _program_traceback(report).rstrip(), "```", ""]
    diagnostics = _sorted_diagnostics(report.diagnostics)
    if diagnostics:
        lines += ["| Level | Policy | Resource | Message |", "| --- | --- | --- | --- |"]
        for d in diagnostics:
            hard = d.enforcement_level in ("mandatory", "remediate")
            icon = _ICON["mandatory"] if hard else _ICON["advisory"]
            resource = f"`{d.resource_name}` ({display_type(d.resource_type)})" if d.resource_name else "—"
            path, line = report.location(d.urn)
            where = f"{path}:{line}" if line else path
            message = d.message or d.description
            hint = _config_hint(report, d)
            if hint:
                message = f"{message}\n{hint}"
            lines.append(f"| {icon} {d.enforcement_level} | `{_cell(d.policy)}` | {_cell(resource)}<br>"
                         f"<sub>{_cell(where)}</sub> | {_cell(message)} |")
        lines.append("")
    elif report.packs:
        lines += ["No policy violations.", ""]
    lines += [
        "<details><summary>Resources (" + str(report.resource_count) + " to create)</summary>",
        "",
        "```text",
        *render_tree(report),
        "```",
        "",
        "</details>",
        "",
    ]
    lines.append("<sub>Offline preview: the program ran under the Pulumi mock runtime and the policy pack "
                 "through its gRPC protocol; provider defaults, input validation and real URNs are not "
                 "reproduced.</sub>")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------
# SARIF 2.1.0
# --------------------------------------------------------------------------------------------------

def _sarif_level(level: str) -> str:
    return {"mandatory": "error", "remediate": "error", "advisory": "warning"}.get(level, "none")


def to_sarif(report: PreviewReport) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    rule_index: dict[tuple[str, str], int] = {}
    multi = len(report.packs) > 1
    for p in report.packs:
        for pol in p.pack.policies:
            rule_id = f"{p.pack.name}/{pol.name}" if multi else pol.name
            level = p.config[pol.name].enforcement_level
            rule: dict[str, Any] = {
                "id": rule_id,
                "name": pol.display_name or pol.name,
                "shortDescription": {"text": pol.description},
                "fullDescription": {"text": pol.description},
                "defaultConfiguration": {"level": _sarif_level(level), "enabled": level != "disabled"},
                "properties": {"tags": list(pol.tags) + ["policy-as-code", p.pack.name],
                               "enforcementLevel": level},
            }
            if pol.remediation_steps:
                rule["help"] = {"text": pol.remediation_steps, "markdown": pol.remediation_steps}
            if pol.url:
                rule["helpUri"] = pol.url
            if pol.severity:
                rule["properties"]["severity"] = pol.severity
            if pol.framework:
                rule["properties"]["framework"] = pol.framework
            rule_index[(p.pack.name, pol.name)] = len(rules)
            rules.append(rule)
    results = []
    for d in _sorted_diagnostics(report.diagnostics):
        path, line = report.location(d.urn)
        region = {"startLine": line} if line else {"startLine": 1}
        text = d.message or d.description
        if d.resource_name:
            text = f"{text} ({d.resource_type}: {d.resource_name})"
        hint = _config_hint(report, d)
        if hint:
            text = f"{text}; {hint}"
        fingerprint = hashlib.sha256(f"{d.pack}|{d.policy}|{d.urn}|{d.message}".encode()).hexdigest()
        result: dict[str, Any] = {
            "ruleId": f"{d.pack}/{d.policy}" if multi else d.policy,
            "level": _sarif_level(d.enforcement_level),
            "message": {"text": text},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
                    "region": region,
                },
                "logicalLocations": [{
                    "name": d.resource_name or report.stack_name,
                    "fullyQualifiedName": d.urn or report.run.stack_urn,
                    "kind": "resource",
                }],
            }],
            "partialFingerprints": {"offlinePreviewFinding/v1": fingerprint},
            "properties": {"enforcementLevel": d.enforcement_level, "stack": report.stack,
                           "previewUnknown": d.preview_unknown},
        }
        if (d.pack, d.policy) in rule_index:
            result["ruleIndex"] = rule_index[(d.pack, d.policy)]
        results.append(result)
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "offline_preview",
            "version": __version__,
            "informationUri": "https://www.pulumi.com/docs/iac/using-pulumi/crossguard/",
            "rules": rules,
        }},
        "automationDetails": {"id": f"offline-preview/{report.stack}/"},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": report.repo_root.resolve().as_uri() + "/"}},
        "results": results,
        "invocations": [{
            "executionSuccessful": report.exit_code != 2,
            "exitCode": report.exit_code,
            **({"toolExecutionNotifications": _sarif_notifications(report)}
               if report.error or program_logs(report) else {}),
        }],
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _sarif_notifications(report: PreviewReport) -> list[dict[str, Any]]:
    """The program's warnings (SARIF levels: error, warning, note) and a config or pack error."""
    levels = {"error": "error", "warning": "warning"}
    notes = [{"level": levels.get(level, "note"), "message": {"text": message}}
             for level, message in program_logs(report)]
    if report.error:
        notes.append({"level": "error", "message": {"text": report.error}})
    return notes


def render_sarif(report: PreviewReport) -> str:
    return json.dumps(to_sarif(report), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------------------------------
# JUnit XML
# --------------------------------------------------------------------------------------------------

def render_junit(report: PreviewReport) -> str:
    """One testsuite for the stack, one testcase per policy: a failure for mandatory violations,
    advisory ones in system-out, disabled policies skipped; a program or config error is an error."""
    suite_name = f"{report.run.project.name}.{report.stack}"
    suites = ET.Element("testsuites", name="offline-preview")
    suite = ET.SubElement(suites, "testsuite", name=suite_name)
    tests = failures = errors = skipped = 0
    seconds = sum(p.seconds for p in report.packs) if report.durations else 0.0
    if report.run.error is not None or report.error:
        tests += 1
        errors += 1
        case = ET.SubElement(suite, "testcase", classname=suite_name, name="preview", time="0")
        text = _program_traceback(report) if report.run.error is not None else report.error or ""
        failed = report.run.error is not None
        message = _program_failure_heading(report) if failed else "preview error"
        ET.SubElement(case, "error", message=message, type="error").text = text
    for p in report.packs:
        by_policy: dict[str, list[Diagnostic]] = {}
        for d in p.diagnostics:
            by_policy.setdefault(d.policy, []).append(d)
        for pol in p.pack.policies:
            tests += 1
            level = p.config[pol.name].enforcement_level
            case = ET.SubElement(suite, "testcase", classname=f"{suite_name}.{p.pack.name}", name=pol.name,
                                 time="0")
            if level == "disabled":
                skipped += 1
                ET.SubElement(case, "skipped", message="policy disabled by configuration")
                continue
            found = _sorted_diagnostics(by_policy.get(pol.name, []))
            hard = [d for d in found if d.enforcement_level in ("mandatory", "remediate")]
            soft = [d for d in found if d not in hard]
            if hard:
                failures += 1
                body = "\n\n".join(
                    f"[{d.enforcement_level}] {_resource_label(d) or report.stack_name} "
                    f"at {':'.join(str(x) for x in report.location(d.urn) if x)}\n{d.full_message}"
                    for d in hard)
                hint = _config_hint(report, hard[0])
                if hint:
                    body = f"{body}\n\n{hint}"
                ET.SubElement(case, "failure", type="mandatory",
                              message=f"{len(hard)} mandatory violation(s): {pol.description}").text = body
            if soft:
                ET.SubElement(case, "system-out").text = "\n\n".join(
                    f"[{d.enforcement_level}] {_resource_label(d) or report.stack_name}\n{d.full_message}"
                    for d in soft)
    logs = program_logs(report)
    if logs:
        ET.SubElement(suite, "system-err").text = "\n".join(f"{level}: {message}" for level, message in logs)
    for element in (suite, suites):
        element.set("tests", str(tests))
        element.set("failures", str(failures))
        element.set("errors", str(errors))
        element.set("skipped", str(skipped))
        element.set("time", f"{seconds:.3f}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def render_early_error(message: str, fmt: str, stack: str) -> str | None:
    """The report body for an error before the program ran (bad flag, stack file, state file), so
    that a SARIF upload or a JUnit reporter reads what went wrong instead of an empty file."""
    if fmt == "sarif":
        run = {
            "tool": {"driver": {"name": "offline_preview", "version": __version__,
                                "informationUri": "https://www.pulumi.com/docs/iac/using-pulumi/crossguard/",
                                "rules": []}},
            "automationDetails": {"id": f"offline-preview/{stack}/"},
            "results": [],
            "invocations": [{"executionSuccessful": False, "exitCode": 2, "toolExecutionNotifications": [
                {"level": "error", "message": {"text": message}}]}],
        }
        return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]},
                          indent=2, ensure_ascii=False) + "\n"
    if fmt == "junit":
        counts = {"tests": "1", "failures": "0", "errors": "1", "skipped": "0", "time": "0.000"}
        suites = ET.Element("testsuites", name="offline-preview", **counts)
        suite = ET.SubElement(suites, "testsuite", name=stack, **counts)
        case = ET.SubElement(suite, "testcase", classname=stack, name="preview", time="0")
        ET.SubElement(case, "error", message="preview error", type="error").text = message
        ET.indent(suites)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    return None


RENDERERS = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
    "sarif": render_sarif,
    "junit": render_junit,
}


def render(report: PreviewReport, fmt: str) -> str:
    return RENDERERS[fmt](report)
