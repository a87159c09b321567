"""Launch a policy pack the way the Pulumi CLI does and drive it the way the engine does.

The CLI starts a Python policy pack as ``python -u -m pulumi.policy <engine-address> <pack-dir>``
(cwd = the pack, ``PULUMI_PROJECT``/``PULUMI_STACK``/``PULUMI_DRY_RUN``/``PULUMI_CONFIG`` set),
reads the gRPC port from the first line the pack prints, and talks to its Analyzer service on
127.0.0.1. The engine then does what the pulumi-policy SDK does not: it fills in each policy's
config-schema defaults, applies the pack's initial config and the user's ``--policy-pack-config``,
validates the result against each policy's schema, and sends an explicit enforcement level for
every policy in ``Configure``. It then sends ``Analyze`` for each resource and ``AnalyzeStack`` once.

This module reproduces those steps (pulumi/pkg/resource/analyzer/config.go: parse, reconcile,
validate; error texts as the CLI prints them) and turns the responses into ``Diagnostic`` records.
It serves the compliance gate: a mandatory violation found here is one ``pulumi preview
--policy-pack`` would report. Not reproduced: remediations (``remediate`` policies are reported as
mandatory violations, as the SDK does when a remediated resource still violates), and the provider
``Check`` that would add defaults to the properties the policies see.
"""

from __future__ import annotations

import collections
import contextlib
import difflib
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import jsonschema
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from .runner import ProgramRun, ResourceRecord

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
_LEVEL_TO_PROTO = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
_PROTO_TO_LEVEL = {v: k for k, v in _LEVEL_TO_PROTO.items()}
_SEVERITIES = {0: None, 1: "low", 2: "medium", 3: "high", 4: "critical"}
_GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", 400 * 1024 * 1024),
    ("grpc.max_send_message_length", 400 * 1024 * 1024),
    # The pack listens on 127.0.0.1 only; never route that through an HTTP proxy from the environment.
    ("grpc.enable_http_proxy", 0),
]
PREVIEW_UNKNOWN_PREFIX = "can't run policy '"


class PolicyError(Exception):
    """A policy pack that cannot be launched or configured; the message is for the user as is."""


@dataclass
class PolicyInfo:
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


@dataclass
class Diagnostic:
    """One policy diagnostic: a violation, or a policy that could not run on unknown values."""

    pack: str
    pack_version: str
    policy: str
    description: str
    message: str  # the reported message, without the description line
    enforcement_level: str
    urn: str  # "" for a stack-level violation
    resource_type: str | None = None
    resource_name: str | None = None
    severity: str | None = None
    preview_unknown: bool = False  # "can't run policy ... during preview"

    @property
    def full_message(self) -> str:
        """The message as it crosses the protocol and as the CLI prints it."""
        if self.preview_unknown:
            return self.message
        return f"{self.description}\n{self.message}" if self.message else self.description


@dataclass
class NotApplicable:
    pack: str
    policy: str
    urn: str
    reason: str


@dataclass
class PackResult:
    pack: PackInfo
    config: dict[str, PolicyConfig]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    not_applicable: list[NotApplicable] = field(default_factory=list)
    analyzed: int = 0  # resources sent through Analyze
    stack_resources: int = 0  # resources sent in AnalyzeStack
    seconds: float = 0.0
    config_file: str | None = None  # the --policy-pack-config file, as given
    warnings: list[str] = field(default_factory=list)  # config entries that configure no policy


    def count(self, level: str) -> int:
        return sum(1 for d in self.diagnostics if d.enforcement_level == level)


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


# --------------------------------------------------------------------------------------------------
# Launching the pack and talking to it
# --------------------------------------------------------------------------------------------------

def pack_info_from_proto(info: analyzer_pb2.AnalyzerInfo, path: Path, display_path: str) -> PackInfo:
    """What ``GetAnalyzerInfo`` answered, as the engine reads it."""
    policies = []
    for p in info.policies:
        schema = None
        if p.HasField("configSchema"):
            schema = {"properties": json_format.MessageToDict(p.configSchema.properties),
                      "required": list(p.configSchema.required)}
        framework = {}
        if p.HasField("framework"):
            framework = {k: v for k, v in json_format.MessageToDict(
                p.framework, preserving_proto_field_name=True).items() if v}
        policies.append(PolicyInfo(
            name=p.name, description=p.description,
            enforcement_level=_PROTO_TO_LEVEL.get(p.enforcementLevel, "advisory"),
            config_schema=schema,
            policy_type={1: "resource", 2: "stack"}.get(p.policy_type, "unknown"),
            display_name=p.displayName, severity=_SEVERITIES.get(p.severity),
            remediation_steps=p.remediation_steps, url=p.url, tags=list(p.tags), framework=framework,
        ))
    initial = {}
    for key, cfg in info.initialConfig.items():
        entry = json_format.MessageToDict(cfg.properties)
        # As the engine converts it: an entry without a level arrives as 0, i.e. advisory.
        entry["enforcementLevel"] = _PROTO_TO_LEVEL.get(cfg.enforcementLevel, "advisory")
        initial[key] = entry
    return PackInfo(
        name=info.name, version=pack_version(path, info.version), display_name=info.displayName,
        description=info.description, policies=policies, initial_config=initial, path=path,
        display_path=display_path,
    )


def _to_struct(values: dict[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(values)
    return result


def _unused_port() -> int:
    """An engine address to pass along; the Python policy host ignores it, as the CLI's does not."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pack_version(pack_dir: Path, reported: str) -> str:
    """The CLI takes a Python pack's version from PulumiPolicy.yaml; the SDK always reports 0.0.1."""
    meta = pack_dir / "PulumiPolicy.yaml"
    try:
        data = yaml.safe_load(meta.read_text(encoding="utf-8")) if meta.exists() else None
    except (OSError, yaml.YAMLError):
        data = None
    if isinstance(data, dict) and data.get("version") not in (None, ""):
        return str(data["version"]).lstrip("v")
    return reported


# Every pack process spawned and not yet closed, so that a signal handler can end them all.
LIVE_PROCESSES: set[PolicyPackProcess] = set()


def _child_pids() -> set[int]:
    """This process's children, as Linux lists them; catches a pack forked a moment before its
    ``PolicyPackProcess`` recorded it. Empty where /proc has no children lists."""
    pids: set[int] = set()
    for children in Path("/proc/self/task").glob("*/children"):
        try:
            pids.update(int(pid) for pid in children.read_text().split())
        except (OSError, ValueError):
            continue
    return pids


def terminate_live_processes(grace: float = 2.0) -> None:
    """End every pack this process started (SIGTERM, then SIGKILL after ``grace`` seconds), and reap
    them, so that none outlives the preview. Only ever used on the way out (a signal handler): the
    program runs in this process, so any child is a pack."""
    pids = {p.process.pid for p in list(LIVE_PROCESSES) if p.process is not None} | _child_pids()
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        for pid in list(pids):
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    pids.discard(pid)
            except ChildProcessError:  # already reaped, or not ours
                pids.discard(pid)
        time.sleep(0.01)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def pack_interpreter(pack_dir: str | Path) -> list[str]:
    """The interpreter the Pulumi CLI starts a Python pack with. The CLI passes each runtime option of
    ``PulumiPolicy.yaml`` to its ``pulumi-analyzer-policy-python`` launcher as ``-<name>=<value>``
    (analyzer_plugin.go, NewPolicyAnalyzer); with ``virtualenv`` the launcher runs that virtualenv's
    ``python`` (relative to the pack directory), without it ``python3`` from PATH."""
    pack_dir = Path(pack_dir)
    try:
        meta = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        meta = None
    runtime = meta.get("runtime") if isinstance(meta, dict) else None
    options = runtime.get("options") if isinstance(runtime, dict) else None
    virtualenv = options.get("virtualenv") if isinstance(options, dict) else None
    if virtualenv:
        venv = Path(virtualenv) if Path(virtualenv).is_absolute() else pack_dir / virtualenv
        scripts = "Scripts" if os.name == "nt" else "bin"
        return [str(venv / scripts / ("python.exe" if os.name == "nt" else "python"))]
    return [shutil.which("python3") or "python3"]


class PolicyPackProcess:
    """One running policy pack; use as a context manager so the process always ends."""

    def __init__(self, pack_dir: str | Path, *, project: str, stack: str,
                 config: dict[str, str] | None = None, secret_keys: list[str] | None = None,
                 dry_run: bool = True, timeout: float = 60.0) -> None:
        self.display_path = str(pack_dir)
        self.path = Path(pack_dir).resolve()
        self.project = project
        self.stack = stack
        self.config = config or {}
        self.secret_keys = secret_keys or []
        self.dry_run = dry_run
        self.timeout = timeout
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stderr = None
        self._stdout_lines: list[str] = []
        self._first_line: queue.Queue[str] = queue.Queue()
        self._spawned_at = 0.0
        self._policy_names: list[str] = []

    # -- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> PolicyPackProcess:
        try:
            if self.process is None:
                self.start()
            else:
                self.wait_ready()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Launch the pack and wait until its Analyzer answers."""
        self.spawn()
        self.wait_ready()

    def spawn(self) -> None:
        """Launch the pack without waiting, so that it can start while the program runs."""
        if not self.path.is_dir():
            what = "is not a directory" if self.path.exists() else "does not exist"
            raise PolicyError(f"policy pack directory {self.display_path} {what}; allowed: the directory "
                              "that holds the pack's PulumiPolicy.yaml")
        if not (self.path / "__main__.py").exists():
            raise PolicyError(
                f"policy pack {self.display_path} has no __main__.py; only Python policy packs run offline"
            )
        env = dict(os.environ)
        env.update({
            "PULUMI_PROJECT": self.project,
            "PULUMI_STACK": self.stack,
            "PULUMI_DRY_RUN": "true" if self.dry_run else "false",
            "PULUMI_CONFIG": json.dumps(self.config),
            "PULUMI_CONFIG_SECRET_KEYS": json.dumps(self.secret_keys),
            "PYTHONUNBUFFERED": "1",
        })
        self._stderr = tempfile.TemporaryFile(mode="w+b")
        # The interpreter the CLI would use when it exists (the pack's virtualenv, set up as the README
        # says); otherwise this one, which has the preview's pinned requirements.
        interpreter = pack_interpreter(self.path)[0]
        if not (Path(interpreter).parent.parent / "pyvenv.cfg").exists():
            interpreter = sys.executable
        args = [interpreter, "-u", "-m", "pulumi.policy", f"127.0.0.1:{_unused_port()}", str(self.path)]
        self.process = subprocess.Popen(
            args, cwd=self.path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        LIVE_PROCESSES.add(self)
        self._spawned_at = time.monotonic()
        first_line: queue.Queue[str] = queue.Queue()
        self._first_line = first_line

        def pump() -> None:
            # Keep draining stdout so that a chatty policy can never block on a full pipe.
            assert self.process is not None and self.process.stdout is not None
            first = True
            for raw in iter(self.process.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if first:
                    first_line.put(line)
                    first = False
                else:
                    self._stdout_lines.append(line)
            if first:
                first_line.put("")

        threading.Thread(target=pump, name="policy-pack-stdout", daemon=True).start()

    def wait_ready(self) -> None:
        """Read the port from the pack's first stdout line and connect to it on 127.0.0.1."""
        if self.stub is not None:
            return
        if self.process is None:
            self.spawn()
        assert self.process is not None
        first_line = self._first_line
        deadline = self._spawned_at + self.timeout
        line = None
        while line is None:
            try:
                line = first_line.get(timeout=0.05)
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise PolicyError(
                        f"policy pack {self.display_path} did not print its port within "
                        f"{self.timeout:.0f}s{self._stderr_tail()}"
                    ) from None
        if not line.strip().isdigit():
            self._wait_briefly()
            code = self.process.poll()
            status = f"exited with code {code}" if code is not None else "printed no port"
            shown = f"; it printed {line!r}" if line else ""
            raise PolicyError(f"policy pack {self.display_path} {status}{shown}{self._stderr_tail()}")
        self.port = int(line.strip())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}", options=_GRPC_OPTIONS)
        try:
            grpc.channel_ready_future(self.channel).result(timeout=max(1.0, deadline - time.monotonic()))
        except grpc.FutureTimeoutError:
            raise PolicyError(
                f"policy pack {self.display_path} printed port {self.port} but does not answer on "
                f"127.0.0.1{self._stderr_tail()}"
            ) from None
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def _wait_briefly(self) -> None:
        if self.process is not None:
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass

    def stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.flush()
            self._stderr.seek(0)
            return self._stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def _stderr_tail(self, limit: int = 4000) -> str:
        text = self.stderr_text().strip()
        if not text:
            return ""
        if len(text) > limit:
            text = "...\n" + text[-limit:]
        return "; its stderr:\n" + text

    def close(self) -> None:
        proc, self.process = self.process, None
        LIVE_PROCESSES.discard(self)
        if proc is not None and proc.poll() is None:
            # The SDK's server sleeps forever; SIGTERM ends it, SIGKILL if it lingers.
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.channel is not None:
            # Closed after the server is gone: closing a channel to a live server waits ~0.2 s.
            self.channel.close()
            self.channel = None
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    # -- protocol ---------------------------------------------------------------------------------

    def _call(self, method: str, request: Any) -> Any:
        assert self.stub is not None, "start() first"
        try:
            return getattr(self.stub, method)(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise PolicyError(
                    f"policy pack {self.display_path} did not answer {method} within {self.timeout:g}s"
                    f"{self._stderr_tail()}") from None
            details = exc.details() if hasattr(exc, "details") else str(exc)
            raise PolicyError(
                f"policy pack {self.display_path}: {method} failed ({code.name if code else 'error'}): "
                f"{details}{self._stderr_tail()}"
            ) from None

    def get_info(self) -> PackInfo:
        info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        pack = pack_info_from_proto(info, self.path, self.display_path)
        self._policy_names = [p.name for p in pack.policies]
        return pack

    def configure(self, config: dict[str, PolicyConfig], pack_name: str = "") -> None:
        """``Configure`` as the engine's analyzer plugin sends it: every entry with its level and a
        properties Struct, empty when the policy has none (``structpb.NewStruct(nil)``)."""
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, cfg in config.items():
            if cfg.enforcement_level not in _LEVEL_TO_PROTO:
                raise PolicyError(
                    f"configuring policy pack \"{pack_name}\" at \"{self.display_path}\": invalid "
                    f"enforcement level {json.dumps(cfg.enforcement_level)} (the entry \"{name}\" has no "
                    "enforcementLevel and the pack has no policy of that name to take one from)"
                )
            entry = request.policyConfig[name]
            entry.enforcementLevel = _LEVEL_TO_PROTO[cfg.enforcement_level]
            entry.properties.CopyFrom(_to_struct(cfg.properties))
        self._call("Configure", request)

    def configure_stack(self) -> None:
        """Optional in the protocol; a pack built on an SDK without it is fine."""
        request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=self.stack, project=self.project, organization="organization", dry_run=self.dry_run,
            config=self.config, config_secret_keys=self.secret_keys,
        )
        assert self.stub is not None
        try:
            self.stub.ConfigureStack(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise PolicyError(
                    f"policy pack {self.display_path}: ConfigureStack failed: {exc.details()}") from None

    def analyze(self, request: analyzer_pb2.AnalyzeRequest) -> analyzer_pb2.AnalyzeResponse:
        return self._call("Analyze", request)

    def analyze_many(self, records: list[ResourceRecord], window: int = 4,
                     providers: dict[str, ResourceRecord] | None = None
                     ) -> list[analyzer_pb2.AnalyzeResponse]:
        """``Analyze`` for each record, responses in record order. Up to ``window`` calls are in
        flight at once, as the engine's parallel steps do; the SDK serves them on 4 threads."""
        assert self.stub is not None, "start() first"
        pending: collections.deque = collections.deque()
        responses: list[analyzer_pb2.AnalyzeResponse] = []

        def collect() -> None:
            future = pending.popleft()
            try:
                responses.append(future.result())
            except grpc.RpcError as exc:
                for other in pending:
                    other.cancel()
                if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                    raise PolicyError(
                        f"policy pack {self.display_path} did not answer Analyze within {self.timeout:g}s"
                        f"{self._stderr_tail()}") from None
                raise PolicyError(
                    f"policy pack {self.display_path}: Analyze failed ({exc.code().name}): "
                    f"{exc.details()}{self._stderr_tail()}"
                ) from None

        for record in records:
            pending.append(self.stub.Analyze.future(analyze_request(record, providers), timeout=self.timeout))
            if len(pending) >= window:
                collect()
        while pending:
            collect()
        return responses

    def analyze_stack(self, request: analyzer_pb2.AnalyzeStackRequest) -> analyzer_pb2.AnalyzeResponse:
        return self._call("AnalyzeStack", request)

    def plugin_version(self) -> str:
        return self._call("GetPluginInfo", empty_pb2.Empty()).version


# --------------------------------------------------------------------------------------------------
# Requests from recorded resources
# --------------------------------------------------------------------------------------------------

def _options(record: ResourceRecord) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=record.protect,
        ignoreChanges=record.ignore_changes,
        deleteBeforeReplace=bool(record.delete_before_replace),
        deleteBeforeReplaceDefined=record.delete_before_replace is not None,
        additionalSecretOutputs=record.additional_secret_outputs,
        parent=record.parent or "",
    )


def _provider(record: ResourceRecord, providers: dict[str, ResourceRecord] | None = None
              ) -> analyzer_pb2.AnalyzerProviderResource | None:
    """The resource's provider as the engine sends it (step_generator.go, getProviderResource): type,
    URN, name and the provider's inputs -- for a default provider, the stack's config in the
    provider's namespace (``region`` and the rest of ``aws:``) and its ``version``."""
    if not record.provider:
        return None
    ref_urn = record.provider.rsplit("::", 1)[0] if record.provider.count("::") > 3 else record.provider
    if ref_urn.count("::") < 3:
        return None
    name = ref_urn.rsplit("::", 1)[-1]
    ptype = ref_urn.split("::")[-2].split("$")[-1]
    provider = analyzer_pb2.AnalyzerProviderResource(type=ptype, urn=ref_urn, name=name)
    known = (providers or {}).get(ref_urn)
    if known is not None:
        provider.properties.CopyFrom(known.properties)
    return provider


def analyze_request(record: ResourceRecord,
                    providers: dict[str, ResourceRecord] | None = None) -> analyzer_pb2.AnalyzeRequest:
    """``Analyze`` for one registration: its inputs, options and provider (analyzer_plugin.go, Analyze)."""
    request = analyzer_pb2.AnalyzeRequest(
        type=record.type, urn=record.urn, name=record.name, options=_options(record),
    )
    request.properties.CopyFrom(record.properties)
    provider = _provider(record, providers)
    if provider is not None:
        request.provider.CopyFrom(provider)
    return request


def stack_resource(record: ResourceRecord, providers: dict[str, ResourceRecord] | None = None,
                   outputs: dict[str, Any] | None = None) -> analyzer_pb2.AnalyzerResource:
    """One resource of ``AnalyzeStack``. The engine sends each resource's outputs there ("AnalyzeStack
    is called on the final outputs of each resource"): a preview of a create has its inputs echoed,
    a ``same`` step the stored outputs, a component its registered outputs, the Stack its exports."""
    resource = analyzer_pb2.AnalyzerResource(
        type=record.type, urn=record.urn, name=record.name, options=_options(record),
        parent=record.parent or "", dependencies=record.dependencies,
    )
    props = outputs if outputs is not None else record.outputs
    if props is None:
        resource.properties.CopyFrom(record.properties)
    else:
        resource.properties.update(props)
    for key, urns in record.property_dependencies.items():
        resource.propertyDependencies[key].urns.extend(urns)
    provider = _provider(record, providers)
    if provider is not None:
        resource.provider.CopyFrom(provider)
    return resource


# --------------------------------------------------------------------------------------------------
# The whole policy step of a preview
# --------------------------------------------------------------------------------------------------

def _analyzed_records(run: ProgramRun) -> list[ResourceRecord]:
    records = run.analyzed_records()
    if run.stack_record is None:  # a run assembled by hand (benchmarks): the Stack is still there
        stack = ResourceRecord(
            urn=run.stack_urn, type="pulumi:pulumi:Stack", name=f"{run.project.name}-{run.stack}",
            custom=False, parent=None, inputs={}, properties=struct_pb2.Struct(), dependencies=[],
            property_dependencies={}, protect=False, provider=None, delete_before_replace=None,
            ignore_changes=[], additional_secret_outputs=[], retain_on_delete=False, source_file=None,
            source_line=None,
        )
        records.insert(0, stack)
    return records


def _diagnostic(pack: PackInfo, d: analyzer_pb2.AnalyzeDiagnostic, urn: str,
                by_urn: dict[str, ResourceRecord], stack_name: str, stack_urn: str) -> Diagnostic:
    level = _PROTO_TO_LEVEL.get(d.enforcementLevel, "advisory")
    unknown = d.message.startswith(PREVIEW_UNKNOWN_PREFIX) and level == "advisory"
    message = d.message
    if not unknown:
        # Violation messages arrive as "<description>\n<message>" (or the description alone).
        if d.description and message == d.description:
            message = ""
        elif d.description and message.startswith(d.description + "\n"):
            message = message[len(d.description) + 1:]
    record = by_urn.get(urn)
    rtype = record.type if record else ("pulumi:pulumi:Stack" if urn and urn == stack_urn else None)
    rname = record.name if record else (stack_name if urn and urn == stack_urn else None)
    return Diagnostic(
        pack=pack.name, pack_version=pack.version, policy=d.policyName, description=d.description,
        message=message, enforcement_level=level, urn=urn, resource_type=rtype, resource_name=rname,
        severity=_SEVERITIES.get(d.severity), preview_unknown=unknown,
    )


def launch_pack(pack_dir: str | Path, run_config: Any, project: str, stack: str, *, dry_run: bool = True,
                timeout: float = 60.0) -> PolicyPackProcess:
    """Spawn a pack for ``stack`` now (it boots while the program runs); ``run_policy_pack`` takes it."""
    process = PolicyPackProcess(pack_dir, project=project, stack=stack, config=dict(run_config.values),
                                secret_keys=list(run_config.secret_keys), dry_run=dry_run, timeout=timeout)
    try:
        if process.path.is_dir() and (process.path / "__main__.py").exists():
            process.spawn()
    except BaseException:
        process.close()
        raise
    return process


def run_policy_pack(run: ProgramRun, pack_dir: str | Path, config_file: str | Path | None = None, *,
                    timeout: float = 60.0, process: PolicyPackProcess | None = None) -> PackResult:
    """Launch the pack (or take one from ``launch_pack``), configure it like the engine, analyze every
    resource, and stop it."""
    started = time.perf_counter()
    if process is None:
        process = PolicyPackProcess(pack_dir, project=run.project.name, stack=run.stack,
                                    config=dict(run.config.values), secret_keys=list(run.config.secret_keys),
                                    dry_run=run.preview, timeout=timeout)
    try:
        user_config = load_policy_config_file(config_file) if config_file else {}
    except BaseException:
        process.close()
        raise
    with process as pack_process:
        pack = pack_process.get_info()
        source = str(config_file) if config_file else "policy pack config"
        config = reconcile_config(pack, user_config, source)
        pack_process.configure(config, pack.name)
        pack_process.configure_stack()
        result = PackResult(pack=pack, config=config, config_file=str(config_file) if config_file else None,
                            warnings=config_warnings(pack, user_config, source))
        records = _analyzed_records(run)
        by_urn = {r.urn: r for r in records}
        providers = {r.urn: r for r in records if r.type.startswith("pulumi:providers:")}
        stack_name = f"{run.project.name}-{run.stack}"
        # As the engine: Analyze for every registration (the Stack, default providers, components and
        # custom resources), each with its inputs and its provider's inputs.
        for record, response in zip(records, pack_process.analyze_many(records, providers=providers),
                                    strict=True):
            result.analyzed += 1
            for d in response.diagnostics:
                # The engine attributes a diagnostic without a URN to the resource it analyzed.
                result.diagnostics.append(
                    _diagnostic(pack, d, d.urn or record.urn, by_urn, stack_name, run.stack_urn))
            for na in response.not_applicable:
                result.not_applicable.append(NotApplicable(pack.name, na.policy_name, record.urn, na.reason))
        stack_request = analyzer_pb2.AnalyzeStackRequest()
        for record in records:
            outputs = None
            if record.type == "pulumi:pulumi:Stack":
                outputs = dict(run.outputs)
            elif not record.custom:
                outputs = run.registered_outputs.get(record.urn, {})
            stack_request.resources.append(stack_resource(record, providers, outputs))
        result.stack_resources = len(stack_request.resources)
        response = pack_process.analyze_stack(stack_request)
        for d in response.diagnostics:
            # A stack policy's violation without a URN is shown against the stack itself.
            result.diagnostics.append(
                _diagnostic(pack, d, d.urn or run.stack_urn, by_urn, stack_name, run.stack_urn))
        for na in response.not_applicable:
            result.not_applicable.append(NotApplicable(pack.name, na.policy_name, "", na.reason))
    result.seconds = time.perf_counter() - started
    return result


__all__ = [
    "Diagnostic", "LEVELS", "NotApplicable", "PackInfo", "PackResult", "PolicyConfig", "PolicyError",
    "PolicyInfo", "PolicyPackProcess", "analyze_request", "config_warnings", "launch_pack",
    "load_policy_config_file",
    "pack_info_from_proto", "pack_interpreter", "parse_policy_config",
    "reconcile_config",
    "run_policy_pack", "stack_resource",
]
