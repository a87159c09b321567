"""Read ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` the way the Pulumi CLI does.

The CLI merges project-level config defaults into the stack's config, checks each value against
the type the project declares, and hands the program a flat map of ``namespace:key`` to string
(objects and arrays as JSON text). This module reproduces that, with the CLI's own error texts
(pulumi/sdk/go/common/workspace: "Stack 'dev' with configuration key 'x' must be of type
'integer'", "Stack 'dev' is missing configuration value 'x'"), so that a program sees exactly the
config it would see under ``pulumi preview``.

Both files are parsed as the CLI parses them (Go's yaml.v3, YAML 1.2 core schema): ``yes``, ``no``,
``on`` and ``off`` are strings, not booleans, and ``017`` is the integer 17. Every scalar then
reaches the type check and the program as text (``createConfigValue``: ``fmt.Sprintf("%v", v)``), so a
string key set to ``123`` is the string "123" and a boolean key set to ``yes`` fails.

What it does not reproduce: ESC environments, and decryption of ``secure:`` values. A secure value
reaches the program as the placeholder ``[secret]`` and its key is marked secret, so that
``Config.get_secret`` yields a secret output and nothing is ever decrypted.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SECRET_PLACEHOLDER = "[secret]"
_PROJECT_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_SIMPLE_TYPES = ("string", "integer", "boolean", "array")


class _Yaml12Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """PyYAML's safe loader with the YAML 1.2 core schema's implicit types instead of YAML 1.1's.

    Built on libyaml's parser where PyYAML has it (its wheels do), which reads a stack file about ten
    times faster than the pure-Python one; the resolver and constructors are the same either way."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                           "tag:yaml.org,2002:null")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
               r"|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))


def _construct_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    text = loader.construct_scalar(node)
    if text.startswith(("0o", "0x")):
        return int(text, 0)
    return int(text, 10)


_Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    """yaml.v3 refuses a key given twice in one mapping; PyYAML silently keeps the last one, so a
    second ``archiveRetentionDays`` further down a stack file would win unseen."""
    seen: dict[Any, int] = {}
    for key_node, _value in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            key = key_node.value
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f'mapping key "{key}" already defined at line {seen[key] + 1}',
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Yaml12Loader.construct_mapping = _construct_mapping  # type: ignore[method-assign]


class ProjectError(Exception):
    """A project or stack file that the CLI would refuse; the message is what it would print."""


@dataclass(frozen=True)
class ConfigDeclaration:
    """One key of the project's ``config:`` block."""

    key: str  # namespaced, e.g. "spawn-audit:auditPeriodDays"
    type: str | None
    items: dict[str, Any] | None
    default: Any
    has_default: bool
    secret: bool
    description: str | None


@dataclass(frozen=True)
class Project:
    name: str
    directory: Path
    runtime: str
    main: Path
    config: dict[str, ConfigDeclaration]
    stack_config_dir: Path


@dataclass
class StackConfig:
    """What the program receives: ``values`` (namespaced key -> string) and the secret keys."""

    stack: str
    path: Path
    values: dict[str, str] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)


# yaml.v3 refuses a document whose aliases expand it past a few hundred thousand nodes ("document
# contains excessive aliasing"); without a bound, nine nested aliases of nine items each (9^9 values)
# hang the preview while the config is turned into text.
_MAX_EXPANDED_VALUES = 400_000


def _expanded_size(value: Any, seen: dict[int, int]) -> int:
    """How many values ``value`` holds once shared (aliased) lists and mappings are expanded."""
    if not isinstance(value, (list, dict)):
        return 1
    if id(value) in seen:
        return seen[id(value)]
    seen[id(value)] = 1  # a recursive alias counts once while it is being measured
    items = list(value.keys()) + list(value.values()) if isinstance(value, dict) else value
    total = 1 + sum(_expanded_size(v, seen) for v in items)
    seen[id(value)] = total
    return total


# Documents already parsed, by file and text: a process that runs many previews (the tests, the
# benchmarks) reads the same Pulumi.yaml each time, and parsing it is most of reading it. A changed file
# has other text and is parsed again; each caller gets its own copy.
_parsed: dict[tuple[str, str], Any] = {}
_PARSED_MAX = 64


def _load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(f"no {path.name} in {path.parent}") from None
    except OSError as exc:
        raise ProjectError(f"could not read {path}: {exc.strerror}") from None
    key = (str(path), text)
    if key in _parsed:
        return copy.deepcopy(_parsed[key])
    try:
        data = yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 - a SafeLoader subclass
        if _expanded_size(data, {}) > _MAX_EXPANDED_VALUES:
            raise ProjectError(
                f"could not parse {path}: document contains excessive aliasing (more than "
                f"{_MAX_EXPANDED_VALUES:,} values once aliases are expanded)")
        if len(_parsed) >= _PARSED_MAX:
            _parsed.clear()
        _parsed[key] = data
        return copy.deepcopy(data)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProjectError(f"could not parse {path}{where}: {problem}") from None


def namespaced(project_name: str, key: str) -> str:
    """``key`` with the project as its namespace unless it names one (``aws:region``)."""
    return key if ":" in key else f"{project_name}:{key}"


def load_project(directory: str | Path) -> Project:
    directory = Path(directory).resolve()
    path = directory / "Pulumi.yaml"
    if not path.exists() and (directory / "Pulumi.yml").exists():
        path = directory / "Pulumi.yml"
    data = _load_yaml(path)
    if not isinstance(data, dict):
        raise ProjectError(f"{path}: a project file must be a mapping with 'name' and 'runtime'")
    name = data.get("name")
    if not isinstance(name, str) or not _PROJECT_NAME.match(name):
        raise ProjectError(
            f"{path}: 'name' must be a string of alphanumerics, hyphens, underscores or periods; "
            f"is {name!r}"
        )
    runtime = data.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if not isinstance(runtime_name, str) or not runtime_name:
        raise ProjectError(f"{path}: 'runtime' is required")
    if runtime_name != "python":
        raise ProjectError(
            f"{path}: runtime {runtime_name!r} is not supported; only python programs run here"
        )
    main = directory / (data.get("main") or "")
    if main.is_dir():
        main = main / "__main__.py"
    if not main.exists():
        raise ProjectError(f"{path}: the program {main} does not exist")
    raw_config = data.get("config") or {}
    if not isinstance(raw_config, dict):
        raise ProjectError(f"{path}: 'config' must be a mapping of keys to declarations")
    declarations: dict[str, ConfigDeclaration] = {}
    for key, decl in raw_config.items():
        full = namespaced(name, str(key))
        if isinstance(decl, dict):
            typ = decl.get("type")
            if typ is not None and typ not in _SIMPLE_TYPES:
                raise ProjectError(
                    f"{path}: config key '{key}' has type {typ!r}; allowed: {', '.join(_SIMPLE_TYPES)}"
                )
            if typ == "array" and not isinstance(decl.get("items"), dict):
                raise ProjectError(f"{path}: config key '{key}' is an array and must declare 'items'")
            declarations[full] = ConfigDeclaration(
                key=full, type=typ, items=decl.get("items"), default=decl.get("default"),
                has_default="default" in decl or "value" in decl, secret=bool(decl.get("secret")),
                description=decl.get("description"),
            )
            if "value" in decl and "default" not in decl:
                declarations[full] = ConfigDeclaration(
                    key=full, type=typ, items=decl.get("items"), default=decl["value"], has_default=True,
                    secret=bool(decl.get("secret")), description=decl.get("description"),
                )
        else:
            # A bare value is the key's value for every stack (the CLI's short form).
            declarations[full] = ConfigDeclaration(
                key=full, type=None, items=None, default=decl, has_default=True, secret=False,
                description=None,
            )
    stack_dir = directory / (data.get("stackConfigDir") or "")
    return Project(name=name, directory=directory, runtime=runtime_name, main=main,
                   config=declarations, stack_config_dir=stack_dir)


def _type_name(typ: str, items: dict[str, Any] | None) -> str:
    if typ == "array" and items:
        return f"array<{_type_name(items.get('type', ''), items.get('items'))}>"
    return typ


def _scalar(value: Any) -> bool:
    return not isinstance(value, (list, dict)) and value is not None


def _matches(typ: str, items: dict[str, Any] | None, value: Any) -> bool:
    """The CLI's ValidateConfigValue (sdk/go/common/workspace/project.go). A stack value that is a
    scalar reaches it as text: "string" takes any scalar, "integer" text that Go's ``strconv.Atoi``
    reads, "boolean" exactly "true" or "false". An array's items are checked as decoded JSON."""
    if typ == "string":
        return _scalar(value)
    if typ == "integer":
        if isinstance(value, float) and value.is_integer():
            return True  # an array item decoded from JSON (not verified against the engine)
        return _scalar(value) and re.fullmatch(r"[+-]?[0-9]+", _to_config_string(value)) is not None
    if typ == "boolean":
        return _scalar(value) and _to_config_string(value) in ("true", "false")
    if typ == "array":
        if not isinstance(value, list) or not items:
            return False
        return all(_item_matches(items.get("type", ""), items.get("items"), v) for v in value)
    return True


def _item_matches(typ: str, items: dict[str, Any] | None, value: Any) -> bool:
    """An array item keeps its JSON type: a number is not a string item."""
    if typ == "string":
        return isinstance(value, str)
    if typ == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value) is not None)
    return _matches(typ, items, value)


def _to_config_string(value: Any) -> str:
    """How the CLI hands a value to the program: scalars as Go's ``%v`` prints them, the rest as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, (int, str)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def load_stack_config(project: Project, stack: str,
                      overrides: dict[str, Any] | None = None) -> StackConfig:
    """The merged, type-checked config for ``stack``.

    ``overrides`` (key -> value, keys namespaced or not) play the part of ``pulumi config set``:
    they replace the stack file's value before validation, as if written there.
    """
    path = project.stack_config_dir / f"Pulumi.{stack}.yaml"
    if not path.exists() and path.with_suffix(".yml").exists():
        path = path.with_suffix(".yml")
    data = _load_yaml(path) if path.exists() else None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProjectError(f"{path}: a stack file must be a mapping")
    raw = data.get("config") or {}
    if not isinstance(raw, dict):
        raise ProjectError(f"{path}: 'config' must be a mapping of keys to values")
    stack_values: dict[str, Any] = {namespaced(project.name, str(k)): v for k, v in raw.items()}
    for key, value in (overrides or {}).items():
        stack_values[namespaced(project.name, key)] = value

    result = StackConfig(stack=stack, path=path)
    secure: set[str] = set()
    for key, value in stack_values.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            secure.add(key)

    missing = []
    for key in sorted(project.config):
        decl = project.config[key]
        short = key.split(":", 1)[1] if key.startswith(project.name + ":") else key
        if key not in stack_values:
            if decl.has_default:
                stack_values[key] = decl.default
            elif key.startswith(project.name + ":"):
                missing.append(short)
            continue
        if decl.secret and key not in secure:
            raise ProjectError(
                f"Stack '{stack}' with configuration key '{short}' must be encrypted as it's secret"
            )
        if decl.type and key not in secure and not _matches(decl.type, decl.items, stack_values[key]):
            raise ProjectError(
                f"Stack '{stack}' with configuration key '{short}' must be of type "
                f"'{_type_name(decl.type, decl.items)}'"
            )
    if missing:
        names = [f"'{m}'" for m in sorted(missing)]
        joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        plural = "value" if len(names) == 1 else "values"
        raise ProjectError(f"Stack '{stack}' is missing configuration {plural} {joined}")

    for key, value in stack_values.items():
        if key in secure:
            result.values[key] = SECRET_PLACEHOLDER
            result.secret_keys.append(key)
        elif value is None:
            continue
        else:
            result.values[key] = _to_config_string(value)
    return result


# --- `--config-path`: `-c 'key[0]=x'`, `-c 'key.sub=x'` ------------------------------------------------
# The CLI's preview builds a fresh config map from every `-c` (pkg/cmd/pulumi/newcmd `ParseConfig`,
# `config.Map.Set(key, NewValue(value), path)`), then replaces each named key of the stack file with it
# (`SaveConfig`): `-c 'complianceProfiles[0]=soc2'` makes the stack's list ["soc2"], it does not edit the
# list in the file. Under a path, "true"/"false" become booleans and a value Go's `strconv.Atoi` reads
# becomes an integer unless it has a leading 0 (sdk/go/common/resource/config/map.go
# `adjustObjectValue`); a key with one segment keeps its string. `resource.ParsePropertyPath` syntax:
# names joined by `.`, `[N]` list indices, `["any key"]` quoted map keys.

_PATH_NAME = re.compile(r"[^.\[\]\"]+")


def parse_config_path(path: str) -> list[str | int]:
    """``a.b[0]["c.d"]`` -> ["a", "b", 0, "c.d"]; ValueError names what is not supported."""
    segments: list[str | int] = []
    i = 0
    while i < len(path):
        if path[i] == "[":
            end = path.find("]", i)
            inner = path[i + 1:end] if end != -1 else ""
            if end == -1:
                raise ValueError("missing closing bracket in property access")
            if re.fullmatch(r"[0-9]+", inner):
                if len(inner) > 18:  # past any list's length, and too long for int() to convert
                    raise ValueError("array index out of range")
                segments.append(int(inner))
            elif len(inner) >= 2 and inner[0] == inner[-1] == '"' and '"' not in inner[1:-1]:
                segments.append(inner[1:-1])
            else:
                raise ValueError(f"[{inner}] is not supported here; a list index [0], [1], ... or a quoted "
                                 'map key ["name"] is')
            i = end + 1
            if i < len(path) and path[i] not in ".[":
                raise ValueError("expected '.' or '[' after ']'")
            if i < len(path) and path[i] == ".":
                i += 1
                if i == len(path):
                    raise ValueError("a '.' must be followed by a key")
            continue
        match = _PATH_NAME.match(path, i)
        if not match:
            raise ValueError(f"expected a key at character {i + 1}")
        segments.append(match.group())
        i = match.end()
        if i < len(path) and path[i] == ".":
            i += 1
            if i == len(path):
                raise ValueError("a '.' must be followed by a key")
    if not segments:
        raise ValueError("empty config key path")
    if not isinstance(segments[0], str):
        raise ValueError("first path segment of config key must be a string")
    return segments


def _path_value(value: str) -> Any:
    """``adjustObjectValue``: booleans and integers become typed, the rest stays a string."""
    if value in ("true", "false"):
        return value == "true"
    if len(value) > 1 and value[0] == "0":
        return value
    if re.fullmatch(r"[+-]?[0-9]+", value) and -(2**63) <= int(value) < 2**63:
        return int(value)
    return value


def set_config_path(values: dict[str, Any], key: str, value: str) -> None:
    """``config.Map.Set(key, value, path=true)`` on ``values`` (root key -> value); ValueError on a
    path the CLI refuses or this does not implement."""
    namespace, colon, name = key.partition(":") if ":" in key else ("", "", key)
    segments = parse_config_path(name)
    root = f"{namespace}{colon}{segments[0]}"
    if len(segments) == 1:
        values[root] = value
        return
    holder: dict[str, Any] = {"": values.get(root) if not isinstance(values.get(root), str) else None}
    container: Any = holder
    slot: str | int = ""
    for seg in segments[1:]:
        current = _get(container, slot)
        if isinstance(seg, int):
            if current is None:
                current = _put(container, slot, [])
            elif not isinstance(current, list):
                raise ValueError(f"an array was expected for index {seg}")
        else:
            if current is None:
                current = _put(container, slot, {})
            elif not isinstance(current, dict):
                raise ValueError(f'a map was expected for key "{seg}"')
        container, slot = current, seg
    _put(container, slot, _path_value(value))
    if isinstance(container, dict) and set(container) == {"secure"}:
        raise ValueError('"secure" key in maps of length 1 are reserved')
    values[root] = holder[""]


def _get(container: Any, slot: str | int) -> Any:
    if isinstance(container, list):
        assert isinstance(slot, int)
        if slot > len(container):
            raise ValueError("array index out of range")
        return container[slot] if slot < len(container) else None
    return container.get(slot)


def _put(container: Any, slot: str | int, value: Any) -> Any:
    if isinstance(container, list):
        assert isinstance(slot, int)
        if slot > len(container):
            raise ValueError("array index out of range")
        if slot == len(container):
            container.append(value)
        else:
            container[slot] = value
    else:
        container[slot] = value
    return value
