"""Reading resource properties robustly: missing, null and unknown-during-preview values.

Every rule in the pack reads properties through this module so that three promises hold everywhere:

* a missing or null key means "not set" and never raises;
* a value that is unknown during ``pulumi preview`` (the engine sends a sentinel string, which the
  SDK's proxy turns into ``UnknownValueError`` on access) is never mistaken for "not set" or for a
  wrong value, so it can never cause a false mandatory failure;
* a rule only turns an unknown into the SDK's ADVISORY "can't run policy ... during preview"
  diagnostic when its decision truly depends on that value (``Findings.defer``).

``plain()`` unwraps the SDK's proxies into ordinary dicts and lists in which every unknown sentinel is
replaced by an ``Unknown`` object carrying its property path, so rules can inspect presence without
tripping the proxy (``key in proxy`` would raise on an unknown value, because ``Mapping.__contains__``
reads the value).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

_SENTINELS = frozenset({
    UNKNOWN_ARCHIVE_VALUE, UNKNOWN_ARRAY_VALUE, UNKNOWN_ASSET_VALUE, UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE, UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE,
})


@dataclass(frozen=True)
class Unknown:
    """A value the engine cannot know during preview, with where it sits."""

    sentinel: str
    path: tuple[str, ...]

    def error(self) -> UnknownValueError:
        return UnknownValueError(self.sentinel, list(self.path))


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown)


def plain(value: Any, path: tuple[str, ...] = ()) -> Any:
    """Unwrap SDK proxies (recursively) into dicts/lists; unknown sentinels become ``Unknown``."""
    if isinstance(value, str):
        return Unknown(value, path) if value in _SENTINELS else value
    if isinstance(value, (bytes, int, float, bool)) or value is None:
        return value
    # The SDK's _DictProxy/_ListProxy hand out their raw target for the reserved key "__target";
    # reading items through the proxy would raise on the first unknown.
    target = _target(value)
    if isinstance(target, dict):
        return {k: plain(v, path + (str(k),)) for k, v in target.items()}
    if isinstance(target, (list, tuple)):
        return [plain(v, path + (str(i),)) for i, v in enumerate(target)]
    return value


def _target(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return value
    try:
        return value["__target"]
    except (KeyError, TypeError, IndexError):
        pass
    if hasattr(value, "keys"):
        return {k: value[k] for k in value.keys()}
    return value


def get(obj: Any, *path: str | int) -> Any:
    """The value at ``path`` in plain data; None when any step is missing or null.

    An ``Unknown`` met on the way is returned as is (its descendants are unknown too).
    """
    current = obj
    for step in path:
        if current is None or is_unknown(current):
            return current
        if isinstance(step, int):
            if not isinstance(current, list) or step >= len(current):
                return None
            current = current[step]
        else:
            if not isinstance(current, dict):
                return None
            current = current.get(step)
    return current


def items(value: Any) -> list[Any]:
    """A list property as a list: None -> [], a single object -> [object]; Unknown is kept as [Unknown]."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def is_set(value: Any) -> bool:
    """True when the value is present: unknown counts as set (e.g. ``kmsKeyId = key.arn`` in preview)."""
    if value is None:
        return False
    if is_unknown(value):
        return True
    if isinstance(value, (str, list, dict)):
        return len(value) > 0
    return True


def as_bool(value: Any) -> bool | None | Unknown:
    """Booleans as the engine may send them (bool, or "true"/"false" strings); None when unset."""
    if value is None or is_unknown(value) or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def as_number(value: Any) -> float | None | Unknown:
    """Numbers arrive as floats over the protocol; numeric strings are accepted too."""
    if value is None or is_unknown(value):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def fmt_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def parse_json_document(value: Any) -> dict | None | Unknown:
    """An IAM policy document given as a JSON string or as an object; None when absent or invalid."""
    if value is None or is_unknown(value):
        return value
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            doc = json.loads(value)
        except ValueError:
            return None
        return plain(doc) if isinstance(doc, dict) else None
    return None


@dataclass
class Findings:
    """Collects a policy's violations and the unknowns its decisions depended on.

    Violations are reported as they are found; unknowns are held until ``finish`` so that one unknown
    value does not hide real violations on other resources. ``finish`` then raises the first unknown,
    which the SDK turns into its ADVISORY "can't run policy ... during preview" diagnostic.
    """

    report: Callable[..., None]
    unknowns: list[Unknown] = field(default_factory=list)
    count: int = 0
    # Appended to every message once the policy knows which profiles it enforces, and why.
    suffix: str = ""

    def violation(self, message: str, urn: str | None = None) -> None:
        self.count += 1
        message = message + self.suffix
        if urn:
            self.report(message, urn)
        else:
            self.report(message)

    def defer(self, unknown: Unknown) -> None:
        self.unknowns.append(unknown)

    def finish(self) -> None:
        if self.unknowns:
            raise self.unknowns[0].error()
