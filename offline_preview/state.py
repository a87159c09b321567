"""Read a ``pulumi stack export`` document and plan each registration against it.

``pulumi preview`` of an existing stack compares what the program registers with the stack's last
deployment: an unchanged resource is ``same`` and keeps its stored ID and outputs, so policies see
known values where a preview of a create would only see unknowns. This module reproduces the plan
the engine's step generator makes (pulumi/pkg/resource/deploy/step_generator.go,
``generateSteps`` / ``diff``): ``same`` when the inputs match, ``update`` or ``replace`` when they
differ, ``create`` for a URN the state does not hold, ``delete`` for a stored resource the program
no longer registers.

What decides update versus replace is the provider's ``Diff``, from its schema's replace-on-change
properties. The pulumi-aws Python package ships no schema (only ``pulumi-plugin.json``), so unless
``REPLACE_ON_CHANGES`` names a property for a type, a change is planned as ``update``. Inputs are
compared the way a provider's ``Diff`` sees them after ``Check``: keys the provider filled in with a
default (listed in the stored ``__defaults``) are not changes when the program leaves them out.

An export holds what the engine stores: inputs and outputs of every resource, secrets as
ciphertext (``{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
"ciphertext": ...}``), and outputs that reveal account ids and ARNs. Secret values stay secret
here: a policy sees them as secrets, never decrypted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

SECRET_SIG = rpc._special_secret_sig
SIG_KEY = rpc._special_sig_key
UNKNOWN = rpc.UNKNOWN

# Properties whose change makes the provider replace the resource, per type, where known. The
# pulumi-aws package ships no schema to read them from; extend this only from the provider's schema.
REPLACE_ON_CHANGES: dict[str, frozenset[str]] = {}


class StateError(Exception):
    """A ``--state`` file that is not a stack export; the message names the file and the problem."""


@dataclass
class StoredResource:
    urn: str
    type: str
    id: str | None
    custom: bool
    parent: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    protect: bool = False
    provider: str | None = None


@dataclass
class StackState:
    path: Path
    resources: dict[str, StoredResource] = field(default_factory=dict)  # by URN, in file order

    def get(self, urn: str) -> StoredResource | None:
        return self.resources.get(urn)


def load_state(path: str | Path, *, project: str | None = None, stack: str | None = None) -> StackState:
    """Parse ``pulumi stack export`` output (``{"version": 3, "deployment": {"resources": [...]}}``).

    With ``project`` and ``stack``, every URN must belong to that stack (``urn:pulumi:<stack>::
    <project>::...``): the engine only ever compares a program with its own stack's state, so an
    export of another stack is refused rather than planned as a delete of everything it holds."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StateError(f"cannot read --state {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise StateError(f"--state {path}: byte {exc.start} is not UTF-8; `pulumi stack export` "
                         "writes UTF-8 JSON") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(
            f"--state {path} is not JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    except ValueError as exc:  # an integer too long to convert
        raise StateError(f"--state {path} is not a usable stack export: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("deployment"), dict):
        raise StateError(
            f"--state {path} is not a stack export: expected an object with \"version\" and "
            "\"deployment\" (the output of `pulumi stack export`)")
    version = doc.get("version")
    if version not in (1, 2, 3):
        raise StateError(f"--state {path}: deployment version {version!r} is not supported; allowed: 1, 2, 3")
    resources = doc["deployment"].get("resources") or []
    if not isinstance(resources, list):
        raise StateError(f"--state {path}: \"deployment.resources\" must be a list")
    state = StackState(path=path)
    for i, res in enumerate(resources):
        if not isinstance(res, dict) or not all(isinstance(res.get(k), str) for k in ("urn", "type")):
            raise StateError(f"--state {path}: resource #{i} has no \"urn\" and \"type\"")
        for key in ("inputs", "outputs"):
            if res.get(key) is not None and not isinstance(res[key], dict):
                raise StateError(f"--state {path}: resource #{i} ({res['urn']}): \"{key}\" is "
                                 f"{type(res[key]).__name__}; allowed: an object")
        if project is not None and stack is not None and not res["urn"].startswith(
                f"urn:pulumi:{stack}::{project}::"):
            raise StateError(f"--state {path}: resource #{i} ({res['urn']}) is not in stack "
                             f"'{stack}' of project '{project}'; allowed: an export of that stack "
                             f"(`pulumi stack export --stack {stack}`)")
        if res.get("delete") or res.get("pendingReplacement"):
            continue  # left over from an interrupted replacement; the engine deletes it separately
        state.resources[res["urn"]] = StoredResource(
            urn=res["urn"], type=res["type"], id=res.get("id") or None, custom=bool(res.get("custom")),
            parent=res.get("parent") or None, inputs=dict(res.get("inputs") or {}),
            outputs=dict(res.get("outputs") or {}), protect=bool(res.get("protect")),
            provider=res.get("provider") or None,
        )
    return state


def _plain(value: Any) -> Any:
    """A value without secret wrappers, for comparing (a secret input compares by its plaintext;
    a stored secret is ciphertext, which never equals a new plaintext: then the provider would see
    the decrypted value, which is not available here, so a secret input always counts as equal)."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return _SECRET
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class _Secret:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Secret)

    def __hash__(self) -> int:
        return 0


_SECRET = _Secret()


def _equal(old: Any, new: Any) -> bool:
    old, new = _plain(old), _plain(new)
    if old is _SECRET or new is _SECRET:
        return True
    if isinstance(old, (int, float)) and isinstance(new, (int, float)) and not isinstance(old, bool) \
            and not isinstance(new, bool):
        return float(old) == float(new)  # numbers cross the protocol as floats
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_equal(old[k], new[k]) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_equal(a, b) for a, b in zip(old, new, strict=True))
    return old == new


def changed_keys(old_inputs: dict[str, Any], new_inputs: dict[str, Any]) -> list[str]:
    """Top-level input keys that differ, as a provider's ``Diff`` would report them after ``Check``.

    A key the program leaves out that the provider defaulted (named in ``__defaults``) is no change;
    an unknown new value is a change (the engine cannot know it stays the same).
    """
    defaults = set(old_inputs.get("__defaults") or [])
    keys = (set(old_inputs) | set(new_inputs)) - {"__defaults"}
    changed = []
    for key in sorted(keys):
        if key not in new_inputs:
            if key in defaults:
                continue
            changed.append(key)
        elif key not in old_inputs or new_inputs[key] == UNKNOWN:
            changed.append(key)
        elif not _equal(old_inputs[key], new_inputs[key]):
            changed.append(key)
    return changed


def plan(stored: StoredResource | None, type_: str, new_inputs: dict[str, Any]) -> tuple[str, list[str]]:
    """The step for one registration: (``create``/``same``/``update``/``replace``, changed keys)."""
    if stored is None:
        return "create", []
    if stored.type != type_:
        return "replace", ["type"]
    changed = changed_keys(stored.inputs, new_inputs)
    if not changed:
        return "same", []
    forces = REPLACE_ON_CHANGES.get(type_, frozenset())
    if any(key in forces for key in changed):
        return "replace", changed
    return "update", changed


def planned_outputs(op: str, stored: StoredResource | None, new_inputs: dict[str, Any]) -> dict[str, Any]:
    """The outputs a preview shows for a step: stored ones for ``same``; for ``update``, the stored
    outputs with the new inputs laid over them (what a provider's preview of an update returns for
    the properties it does not recompute); for ``create``/``replace``, the inputs alone."""
    if op == "same" and stored is not None:
        return dict(stored.outputs)
    if op == "update" and stored is not None:
        merged = dict(stored.outputs)
        merged.update(new_inputs)
        return merged
    return dict(new_inputs)


__all__ = ["REPLACE_ON_CHANGES", "StackState", "StateError", "StoredResource", "changed_keys", "load_state",
           "plan", "planned_outputs"]
