"""The engine's policy-pack config: what a pack declares, the user's config file, what ``Configure`` carries.

The Pulumi CLI does what the pulumi-policy SDK does not: it reads the user's ``--policy-pack-config``
file, fills in each policy's config-schema defaults, applies the pack's initial config and then the
user's entries, validates the result against each policy's schema, and gives every policy an
explicit enforcement level. This module reproduces those steps (pulumi/pkg/resource/analyzer/
config.go: parse, reconcile, validate), in the engine's order and with its error texts as the CLI
prints them, and yields the ``PolicyConfig`` per policy that ``Configure`` carries. It also holds what
the engine knows of a pack (``PackInfo``, from ``GetAnalyzerInfo``) and the error every policy step
raises (``PolicyError``).

It serves the compliance gate: a config the CLI would refuse stops the preview with the CLI's
message, and a config it would accept reaches the pack exactly as the engine would send it.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

LEVELS = ("advisory", "mandatory", "remediate", "disabled")


class PolicyError(Exception):
    """A policy pack that cannot be launched or configured; the message is for the user as is."""


@dataclass
class PolicyInfo:
    """One policy as ``GetAnalyzerInfo`` describes it."""

    name: str
    description: str
    enforcement_level: str  # the policy's own level, as GetAnalyzerInfo reports it
    config_schema: dict[str, Any] | None
    policy_type: str  # "resource", "stack" or "unknown"
    display_name: str = ""
    severity: str | None = None
    remediation_steps: str = ""
    url: str = ""
    tags: list[str] = field(default_factory=list)
    framework: dict[str, str] = field(default_factory=dict)


@dataclass
class PackInfo:
    """A pack as ``GetAnalyzerInfo`` describes it, with its version as the CLI reads it."""

    name: str
    version: str
    display_name: str
    description: str
    policies: list[PolicyInfo]
    initial_config: dict[str, dict[str, Any]]
    path: Path  # absolute
    display_path: str  # as the user wrote it, for "(local: policy)"

    @property
    def label(self) -> str:
        return f"{self.name}@v{self.version}"

    def policy(self, name: str) -> PolicyInfo | None:
        return next((p for p in self.policies if p.name == name), None)


@dataclass
class PolicyConfig:
    """What ``Configure`` carries for one policy: always an explicit level, plus properties."""

    enforcement_level: str
    properties: dict[str, Any]


# --------------------------------------------------------------------------------------------------
# Policy-pack config: parse, reconcile, validate (the engine's steps, in its order)
# --------------------------------------------------------------------------------------------------

def load_policy_config_file(path: str | Path) -> dict[str, tuple[str | None, dict[str, Any]]]:
    """Parse a ``--policy-pack-config`` file: policy name (or "all") -> level string or object.

    Returns name -> (level or None, properties); raises ``PolicyError`` with the CLI's wording for
    an invalid file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"could not read policy pack config {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise PolicyError(f"could not read policy pack config {path}: byte {exc.start} is not UTF-8; "
                          "save the file as UTF-8 JSON") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(
            f"could not parse policy pack config {path} (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
    except ValueError as exc:  # e.g. an integer longer than Python converts (4300 digits)
        raise PolicyError(f"could not parse policy pack config {path}: {exc}") from None
    return parse_policy_config(data, str(path))


def parse_policy_config(data: Any, source: str) -> dict[str, tuple[str | None, dict[str, Any]]]:
    """A decoded ``--policy-pack-config`` document as name -> (level or None, properties).

    Raises ``PolicyError`` naming ``source`` for a document the CLI would refuse.
    """
    if not isinstance(data, dict):
        raise PolicyError(f"policy pack config {source} must be a JSON object of policy names to settings")
    result: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, str):
            if value not in LEVELS:
                raise PolicyError(
                    f"{source}: parsing enforcement level for \"{name}\": \"{value}\" is not a valid "
                    f"enforcement level; use one of {', '.join(LEVELS)}"
                )
            result[name] = (value, {})
        elif isinstance(value, dict):
            props = dict(value)
            level = props.pop("enforcementLevel", None)
            if level is not None and (not isinstance(level, str) or level not in LEVELS):
                raise PolicyError(
                    f"{source}: parsing enforcement level for \"{name}\": {json.dumps(level)} is not a valid "
                    f"enforcement level; use one of {', '.join(LEVELS)}"
                )
            if level is None and not props:
                continue  # the engine drops an entry with neither a level nor properties
            result[name] = (level, props)
        else:
            raise PolicyError(
                f"{source}: parsing \"{name}\": {json.dumps(value)} is not a valid value; "
                "must be a string or object"
            )
    return result


def _apply(result: dict[str, PolicyConfig], given: dict[str, tuple[str | None, dict[str, Any]]]) -> None:
    """The engine's applyConfig (pkg/resource/analyzer/config.go): "all" with a level sets every
    policy's level; then every entry, "all" and names the pack does not have included, is merged in
    by name. An entry for a name without a level keeps the level it has, or none ("")."""
    all_level = given.get("all", (None, {}))[0]
    if all_level:
        for cfg in result.values():
            cfg.enforcement_level = all_level
    for name, (level, props) in given.items():
        current = result.get(name)
        if current is None:
            current = result[name] = PolicyConfig("", {})
        if level:
            current.enforcement_level = level
        current.properties.update(props)


def reconcile_config(pack: PackInfo, user_config: dict[str, tuple[str | None, dict[str, Any]]],
                     source: str = "policy pack config") -> dict[str, PolicyConfig]:
    """Schema defaults, then the pack's initial config, then the user's; then validation.

    As in the engine, a name the pack does not have is carried through to ``Configure`` (the
    pulumi-policy SDK ignores it): with a level it is harmless, without one ``Configure`` fails with
    ``invalid enforcement level ""``. Raises ``PolicyError`` with one line per validation problem,
    as the CLI reports them.
    """
    result: dict[str, PolicyConfig] = {}
    for policy in pack.policies:
        defaults = {}
        for prop, schema in ((policy.config_schema or {}).get("properties") or {}).items():
            if isinstance(schema, dict) and "default" in schema:
                defaults[prop] = schema["default"]
        result[policy.name] = PolicyConfig(policy.enforcement_level, defaults)
    _apply(result, {k: (v.get("enforcementLevel"), {p: x for p, x in v.items() if p != "enforcementLevel"})
                    for k, v in pack.initial_config.items()})
    _apply(result, user_config)

    # Loaded here, not with the module: the preview validates in a checker process of its own
    # (config_check), so its own process never pays for the import.
    import jsonschema  # noqa: PLC0415

    errors = _unknown_properties(pack, user_config, source)
    for policy in pack.policies:
        if not policy.config_schema:
            continue
        schema = {"type": "object"}
        if policy.config_schema.get("properties"):
            schema["properties"] = policy.config_schema["properties"]
        if policy.config_schema.get("required"):
            schema["required"] = policy.config_schema["required"]
        validator = jsonschema.Draft7Validator(schema)
        for err in sorted(validator.iter_errors(result[policy.name].properties),
                          key=lambda e: (list(map(str, e.absolute_path)), e.message)):
            errors.append(
                f"error: validating policy config: {pack.name} {pack.version}  {policy.name}: "
                f"{_describe_schema_error(err)}"
            )
    if errors:
        raise PolicyError("\n".join(errors))
    return result


def _unknown_properties(pack: PackInfo, user_config: dict[str, tuple[str | None, dict[str, Any]]],
                        source: str) -> list[str]:
    """Properties the user set that a policy's schema does not declare. The engine passes them on and
    a pack may report them as a violation (a mandatory one reads as "non-compliant", exit 1); they are
    a config mistake, so they stop the preview here as the other config errors do (exit 2)."""
    errors = []
    for name, (_level, props) in user_config.items():
        policy = pack.policy(name)
        declared = list((policy.config_schema or {}).get("properties") or {}) if policy else []
        for prop in sorted(set(props) - set(declared)) if policy else []:
            close = difflib.get_close_matches(prop, declared, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            allowed = ", ".join(declared) or "none (the policy takes no config)"
            errors.append(f"error: validating policy config: {pack.name} {pack.version}  {name}: unknown "
                          f"property {json.dumps(prop)} ({source}); allowed: {allowed}{hint}")
    return errors


def config_warnings(pack: PackInfo, user_config: dict[str, tuple[str | None, dict[str, Any]]],
                    source: str) -> list[str]:
    """Entries the engine passes on but that configure no policy: a name the pack does not have
    (with a level, so ``Configure`` accepts it) and properties under ``"all"``, which sets only the
    level. Both are silent under the CLI; here each gets a warning with what was probably meant."""
    names = [p.name for p in pack.policies]
    found = []
    for name, (_level, props) in sorted(user_config.items()):
        if name == "all":
            if props:
                found.append(f"{source}: \"all\" sets only the enforcement level; its "
                             f"{', '.join(sorted(props))} configure no policy of {pack.name} (set them "
                             "under each policy's name)")
        elif pack.policy(name) is None:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            found.append(f"{source}: {json.dumps(name)} is not a policy of {pack.name} and configures "
                         f"nothing{hint}")
    return found


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if value is None:
        return "null"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def _plain(value: Any) -> Any:
    """Schemas cross the protocol as Struct, so 1 arrives as 1.0; print it as the author wrote it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _describe_schema_error(err: jsonschema.ValidationError) -> str:
    """A jsonschema error in the wording of the engine's validator (gojsonschema), prefixed by the
    property path: ``minimumDays: Invalid type. Expected: integer, given: string``."""
    path = ".".join(str(p) for p in err.absolute_path)
    prefix = f"{path}: " if path else ""
    v, expected = err.validator, _plain(err.validator_value)
    if v == "type":
        wanted = expected if isinstance(expected, str) else "/".join(expected)
        return f"{prefix}Invalid type. Expected: {wanted}, given: {_json_type(err.instance)}"
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return f"{prefix}{missing} is required"
    if v == "enum":
        choices = ", ".join(json.dumps(x) for x in expected)
        # The engine names the field; naming the rejected value as well tells the user what to fix.
        return f"{prefix}{json.dumps(_plain(err.instance))} must be one of the following: {choices}"
    if v == "const":
        return f"{prefix}{json.dumps(_plain(err.instance))} does not match: {json.dumps(expected)}"
    if v == "minimum":
        return f"{prefix}Must be greater than or equal to {expected}; is {_plain(err.instance)}"
    if v == "maximum":
        return f"{prefix}Must be less than or equal to {expected}; is {_plain(err.instance)}"
    if v == "exclusiveMinimum":
        return f"{prefix}Must be greater than {expected}; is {_plain(err.instance)}"
    if v == "exclusiveMaximum":
        return f"{prefix}Must be less than {expected}; is {_plain(err.instance)}"
    if v == "maxLength":
        return f"{prefix}String length must be less than or equal to {expected}"
    if v == "minLength":
        return f"{prefix}String length must be greater than or equal to {expected}"
    if v == "pattern":
        return f"{prefix}Does not match pattern '{expected}'"
    if v == "minItems":
        return f"{prefix}Array must have at least {expected} items"
    if v == "maxItems":
        return f"{prefix}Array must have at most {expected} items"
    if v == "uniqueItems":
        return f"{prefix}array items must be unique"
    if v == "additionalProperties":
        return f"{prefix}{err.message}"
    return f"{prefix}{err.message}"


__all__ = [
    "LEVELS", "PackInfo", "PolicyConfig", "PolicyError", "PolicyInfo", "config_warnings",
    "load_policy_config_file", "parse_policy_config", "reconcile_config",
]
