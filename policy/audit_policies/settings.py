"""Per-policy pack configuration: the config schemas, their defaults, and the pack's own validation.

Pulumi policy config is per policy. Every policy whose behaviour depends on the compliance profile
declares ``profiles`` and ``auditPeriodDays``; thresholds are extra floors whose defaults (0) mean
"nothing above the profiles'", so the effective value is ``max(profile-derived, configured)``. The
numbers themselves come from ``profiles.requirements`` (the table the Pulumi program also uses).

The engine applies schema defaults and validates ``--policy-pack-config`` before it calls the pack,
but the SDK passes config through untouched when the pack is driven any other way (and numbers arrive
as floats), so ``read`` applies the same defaults and re-validates: an invalid value becomes a
violation naming the key, the value and what is allowed, never an exception.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from spawn_compliance import profiles

from audit_policies import declared as declared_profiles

# Strict by default: an organisation that applies the pack without config gets every profile.
DEFAULT_PROFILES = list(profiles.PROFILE_NAMES)

PROFILE_PROPERTIES: dict[str, dict[str, Any]] = {
    "profiles": {
        "type": "array",
        "items": {"type": "string", "enum": list(profiles.PROFILE_NAMES)},
        "uniqueItems": True,
        "default": DEFAULT_PROFILES,
        "description": "Compliance profiles to enforce; several at once means the strictest value of "
                       "each parameter; [] is a sandbox with no required control.",
    },
    "auditPeriodDays": {
        "type": "integer",
        "minimum": 1,
        "default": profiles.DEFAULT_AUDIT_PERIOD_DAYS,
        "description": "SOC 2 audit period in days; the soc2 retention floor is this plus 90.",
    },
}


def days_floor(description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "default": 0, "description": description}


def flag(description: str, default: bool = False) -> dict[str, Any]:
    return {"type": "boolean", "default": default, "description": description}


REQUIRE_KMS = {
    "requireKms": flag("Require a customer managed KMS key even when no chosen profile does "
                       "(CIS 3.5 is a Level 2 recommendation)."),
}


@dataclass(frozen=True)
class Settings:
    """A policy's validated config, with defaults applied, and the combined profile requirements."""

    values: Mapping[str, Any]
    requirements: profiles.Requirements | None
    # Enforced profile -> where it comes from (pack config and/or a stack declaration).
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def profiles(self) -> tuple[str, ...] | None:
        """The chosen profiles, or None for a policy that does not depend on them."""
        return self.requirements.profiles if self.requirements is not None else None

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def describe_profiles(self) -> str:
        chosen = self.profiles or ()
        return " + ".join(chosen) if chosen else "the sandbox profile (none)"

    def describe_sources(self) -> str:
        """'hipaa (pack config), pci-dss (stack tag ... on 'trail')' -- what every result names."""
        return declared_profiles.describe(dict(self.sources))


def _is_whole_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def _shown(value: Any) -> str:
    """A config value as the user wrote it (numbers cross the protocol as floats: 0.0 -> 0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value) if isinstance(value, (list, dict, str, bool)) or value is None else repr(value)


def _check(key: str, spec: Mapping[str, Any], value: Any) -> str | None:
    kind = spec.get("type")
    if kind == "integer":
        minimum = spec.get("minimum")
        if not _is_whole_number(value) or (minimum is not None and value < minimum):
            bound = f", at least {minimum}" if minimum is not None else ""
            return f"{key} is {_shown(value)}; allowed: a whole number{bound}"
        return None
    if kind == "boolean":
        if not isinstance(value, bool):
            return f"{key} is {_shown(value)}; allowed: true or false"
        return None
    if kind == "array":
        allowed = spec.get("items", {}).get("enum")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            what = ", ".join(allowed) if allowed else "strings"
            return f"{key} is {_shown(value)}; allowed: a list of {what}"
        if allowed:
            bad = [v for v in value if v not in allowed]
            if bad:
                return f"{key} contains {_shown(bad[0])}; allowed: {', '.join(allowed)}"
        if spec.get("uniqueItems") and len(set(value)) != len(value):
            return f"{key} lists a value twice ({_shown(value)}); each value may appear once"
        return None
    if kind == "string" and not isinstance(value, str):
        return f"{key} is {_shown(value)}; allowed: a string"
    return None


def read(policy_name: str, properties: Mapping[str, Mapping[str, Any]],
         raw: Mapping[str, Any] | None,
         declared: declared_profiles.Declared | None = None) -> tuple[Settings | None, list[str]]:
    """Apply schema defaults to ``raw`` and validate it; return the settings or the error messages.

    A profile-aware policy enforces its configured ``profiles`` plus the profiles the stack
    declares (``declared``): the configured list is a floor the stack can only raise.
    """
    given = dict(raw or {})
    errors: list[str] = []
    values: dict[str, Any] = {}
    for key in sorted(set(given) - set(properties)):
        errors.append(f"unknown key {json.dumps(key)}; allowed: {', '.join(properties)}")
    for key, spec in properties.items():
        value = given.get(key, copy.deepcopy(spec.get("default")))
        problem = _check(key, spec, value)
        if problem:
            errors.append(problem)
        elif spec.get("type") == "integer":
            value = int(value)
        values[key] = value
    if errors:
        return None, [f"Invalid pack config for {policy_name}: {e}." for e in errors]
    requirements = None
    sources: dict[str, str] = {}
    if "profiles" in properties:
        declared = declared or declared_profiles.Declared()
        if declared.errors:
            return None, [f"Invalid stack declaration for {policy_name}: {e}." for e in declared.errors]
        enforced, sources = declared_profiles.combine(values["profiles"], declared)
        try:
            requirements = profiles.requirements(enforced, values["auditPeriodDays"])
        except profiles.ProfileError as exc:  # defensive: the checks above should catch these first
            return None, [f"Invalid pack config for {policy_name}: {exc}."]
    return Settings(values, requirements, sources), []
