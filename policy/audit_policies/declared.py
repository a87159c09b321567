"""The compliance profiles a stack declares on its own resources, and where each declaration sits.

A program declares the profiles it must satisfy by tagging its resources with ``TAG_KEY`` (the value
lists profile names separated by spaces or commas; ``sandbox`` or an empty value declares none). S3
tag values allow no commas, hence spaces in spawn-audit's own program.

The pack enforces the union of its configured ``profiles`` (the organisation's floor, set in
``--policy-pack-config``) and the profiles the stack declares: a stack can raise the bar, never lower
it below the pack config. A resource policy sees the declarations on the resource it checks; a stack
policy sees every declaration in the stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from spawn_compliance import profiles

TAG_KEY = "spawn-audit:compliance-profiles"
SANDBOX_VALUE = "sandbox"
PACK_CONFIG = "pack config"


@dataclass(frozen=True)
class Declared:
    """Profiles declared by the stack (profile -> where), and declarations the pack cannot read."""

    sources: dict[str, str] = field(default_factory=dict)
    errors: tuple[str, ...] = ()


def parse(value: str) -> list[str]:
    tokens = [t for t in re.split(r"[\s,]+", value.strip()) if t]
    return [t for t in tokens if t != SANDBOX_VALUE]


def from_resources(resources: Iterable[tuple[str, Any]]) -> Declared:
    """Declarations in ``(resource name, plain props)`` pairs, in stack order."""
    sources: dict[str, str] = {}
    errors: list[str] = []
    for name, props in resources:
        tags = props.get("tags") if isinstance(props, dict) else None
        value = tags.get(TAG_KEY) if isinstance(tags, dict) else None
        if not isinstance(value, str):
            continue  # absent, or unknown during preview: nothing declared here
        for profile in parse(value):
            if profile not in profiles.PROFILE_NAMES:
                errors.append(f"tag {TAG_KEY} of resource '{name}' declares unknown profile "
                              f"\"{profile}\"; allowed: {', '.join(profiles.PROFILE_NAMES)} or "
                              f"{SANDBOX_VALUE}")
                continue
            sources.setdefault(profile, f"stack tag {TAG_KEY} on '{name}'")
    return Declared(sources, tuple(dict.fromkeys(errors)))


def combine(configured: list[str], declared: Declared) -> tuple[list[str], dict[str, str]]:
    """The union in the table's order, and where each enforced profile comes from."""
    sources: dict[str, str] = {}
    for profile in profiles.PROFILE_NAMES:
        where = [PACK_CONFIG] if profile in configured else []
        if profile in declared.sources:
            where.append(declared.sources[profile])
        if where:
            sources[profile] = " and ".join(where)
    return list(sources), sources


def describe(sources: dict[str, str]) -> str:
    if not sources:
        return f"none (sandbox: the {PACK_CONFIG} and the stack's {TAG_KEY} tags declare no profile)"
    return ", ".join(f"{p} ({where})" for p, where in sources.items())
