"""How every policy in the pack is built: metadata from the one table, config, gating and unknowns.

``resource_policy`` and ``stack_policy`` wrap a rule's check function so that each policy

* takes its clauses, tags, framework, URL and remediation steps from ``controls.CONTROLS``;
* reads its config through ``settings.read`` (defaults applied, invalid values reported as a violation
  at the policy's level naming the key, the value and what is allowed; the check does not run);
* calls ``args.not_applicable`` when it is a profile-driven control the chosen profiles do not
  require (``applies`` returns False);
* sees plain properties (``props.plain``) and defers unknown values through ``props.Findings``, so a
  value unknown during preview yields the SDK's ADVISORY "can't run policy" diagnostic, never a
  mandatory failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from audit_policies import controls, declared, settings, stack_keys
from audit_policies.graph import Graph
from audit_policies.props import Findings, plain


@dataclass
class Context:
    """What a check receives besides the resource(s): settings, findings, and citation helpers."""

    policy_name: str
    settings: settings.Settings
    findings: Findings

    @property
    def req(self):
        return self.settings.requirements

    def cite(self) -> str:
        return controls.cite(self.policy_name, self.settings.profiles)


Applies = Callable[[settings.Settings], bool]


def framework_for(policy_name: str) -> PolicyComplianceFramework:
    """The primary framework a policy reports under: CIS when it maps to a CIS recommendation."""
    entry = controls.clauses(policy_name)
    if entry.cis:
        return PolicyComplianceFramework(name="CIS AWS Foundations Benchmark", version="4.0.1",
                                         reference=", ".join(entry.cis))
    if entry.security_hub:
        return PolicyComplianceFramework(name="AWS Security Hub", reference=", ".join(entry.security_hub))
    if entry.pci_dss:
        return PolicyComplianceFramework(name="PCI DSS", version="4.0.1", reference=", ".join(entry.pci_dss))
    if entry.hipaa:
        return PolicyComplianceFramework(name="HIPAA Security Rule", reference=", ".join(entry.hipaa))
    return PolicyComplianceFramework(name="SOC 2", reference=", ".join(entry.soc2))


def _metadata(name: str, service: str) -> dict[str, Any]:
    entry = controls.clauses(name)
    return {
        "framework": framework_for(name),
        "tags": [service, *controls.tags(name), *stack_keys.tags(name)],
        "remediation_steps": entry.remediation,
        "url": entry.url,
    }


PROFILES_PREFIX = " Enforced profiles: "


def _prepare(name: str, properties: Mapping[str, Mapping[str, Any]], raw_config: Any,
             findings: Findings, applies: Applies | None, not_applicable: Callable[[str], None],
             stack_declares: declared.Declared | None = None) -> Context | None:
    values, errors = settings.read(name, properties, plain(raw_config) if raw_config else {},
                                   stack_declares)
    if errors:
        for error in errors:
            findings.violation(error)
        return None
    if values.requirements is not None:
        # Every result of a profile-aware policy names what it enforced and where that came from.
        findings.suffix = f"{PROFILES_PREFIX}{values.describe_sources()}."
    if applies is not None and not applies(values):
        not_applicable(f"not required by {values.describe_profiles()}{findings.suffix}")
    return Context(name, values, findings)


def resource_policy(*, name: str, description: str, service: str, resource_types: tuple[str, ...],
                    level: EnforcementLevel, severity: Severity,
                    check: Callable[[Context, dict[str, Any], Any], None],
                    config: Mapping[str, Mapping[str, Any]] | None = None,
                    applies: Applies | None = None) -> ResourceValidationPolicy:
    properties = dict(config or {})

    def validate(args, report_violation) -> None:
        if args.resource_type not in resource_types:
            return
        findings = Findings(report_violation)
        props = plain(args.props) or {}
        ctx = _prepare(name, properties, args.get_config(), findings, applies, args.not_applicable,
                       declared.from_resources([(args.name, props)]))
        if ctx is None:
            return
        check(ctx, props, args)
        findings.finish()

    policy = ResourceValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=level,
        config_schema=PolicyConfigSchema(properties=properties) if properties else None,
        severity=severity, **_metadata(name, service),
    )
    # The servicer skips this policy for other resource types (validate returns at once for them).
    policy.resource_types = resource_types
    return _annotate(policy, applies, resource_types)


def stack_policy(*, name: str, description: str, service: str, level: EnforcementLevel,
                 severity: Severity, check: Callable[[Context, Graph, Any], None],
                 config: Mapping[str, Mapping[str, Any]] | None = None,
                 applies: Applies | None = None) -> StackValidationPolicy:
    properties = dict(config or {})

    def validate(args, report_violation) -> None:
        findings = Findings(report_violation)
        # The pack's servicer builds one Graph per AnalyzeStack and shares it (servicer.py).
        stack = getattr(args, "graph", None)
        if stack is None:
            stack = Graph(args.resources)
        ctx = _prepare(name, properties, args.get_config(), findings, applies, args.not_applicable,
                       stack.declared())
        if ctx is None:
            return
        check(ctx, stack, args)
        findings.finish()

    policy = StackValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=level,
        config_schema=PolicyConfigSchema(properties=properties) if properties else None,
        severity=severity, **_metadata(name, service),
    )
    policy.uses_graph = True  # the check takes the shared Graph the servicer passes as args.graph
    return _annotate(policy, applies, ("stack",))


def _annotate(policy, applies: Applies | None, scope: tuple[str, ...]):
    """Attach what the generated docs say about when the policy applies and what it inspects."""
    policy.applies_when = (applies.__doc__ or "").strip() if applies else "Always."
    policy.scope = scope
    return policy


# --- common applicability predicates (each names the profile flag it follows) ------------------------

def audit_logging_required(s: settings.Settings) -> bool:
    """When any profile is chosen (not in the sandbox)."""
    return s.requirements is not None and not s.requirements.sandbox


def kms_required(s: settings.Settings) -> bool:
    """When a chosen profile sets kms_encryption or config requireKms is true."""
    return bool(s.values.get("requireKms")) or bool(s.requirements and s.requirements.kms_encryption)


def flag_required(flag_name: str) -> Applies:
    def applies(s: settings.Settings) -> bool:
        return bool(s.requirements is not None and getattr(s.requirements, flag_name))
    applies.__name__ = f"requires_{flag_name}"
    applies.__doc__ = f"When a chosen profile sets {flag_name}."
    return applies


def encryption_required(s: settings.Settings) -> bool:
    """When a chosen profile sets encryption_at_rest (KMS when it sets kms_encryption or requireKms)."""
    return flag_required("encryption_at_rest")(s) or kms_required(s)
