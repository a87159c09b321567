"""Run a Pulumi Python program under the SDK's mock runtime and record what it registers.

This stands in for the engine's resource monitor during ``pulumi preview``: every registration is
recorded with its type, name, parent, inputs (as the engine receives them, unknowns included),
dependencies, property dependencies, options such as ``protect``, and the program line that
created it. The recorded registrations are what the engine would forward to a policy pack.

Preview semantics follow the AWS provider's behaviour for a resource being created: its outputs
echo its inputs, and what only the cloud can compute (IDs, ARNs, generated names) is unknown.
URNs are made the engine's way: a child's type is qualified by its parent's full type chain, and
the root stack's type is left out. Not reproduced: the provider's ``Check`` (defaults, auto-names,
input validation), and invokes beyond the few well-known ones answered by ``OfflineMocks.call``.
"""

from __future__ import annotations

import contextvars
import logging
import os
import runpy
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pulumi
import pulumi.runtime
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from .project import Project, StackConfig, load_project, load_stack_config

UNKNOWN = rpc.UNKNOWN
PLACEHOLDER_ACCOUNT_ID = "123456789012"


@dataclass
class ResourceRecord:
    """One registration, as the engine would see it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    inputs: dict[str, Any]  # engine (camelCase) names; unknown values are ``UNKNOWN``
    properties: struct_pb2.Struct  # the same inputs in wire form, for the Analyzer protocol
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    provider: str | None
    delete_before_replace: bool | None
    ignore_changes: list[str]
    additional_secret_outputs: list[str]
    retain_on_delete: bool
    source_file: str | None
    source_line: int | None
    id: str | None = None


@dataclass
class ProgramRun:
    """The outcome of one program run."""

    project: Project
    stack: str
    config: StackConfig
    preview: bool
    resources: list[ResourceRecord] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    invokes: list[str] = field(default_factory=list)
    unanswered_invokes: list[str] = field(default_factory=list)
    logs: list[tuple[str, str]] = field(default_factory=list)
    error: BaseException | None = None
    error_traceback: str | None = None

    @property
    def stack_urn(self) -> str:
        name = self.project.name
        return f"urn:pulumi:{self.stack}::{name}::pulumi:pulumi:Stack::{name}-{self.stack}"

    def by_type(self, type_: str) -> list[ResourceRecord]:
        return [r for r in self.resources if r.type == type_]


class OfflineMocks(pulumi_mocks.Mocks):
    """Answers registrations the way a preview of a create does, and the common identity invokes.

    ``preview=False`` is for tests that want every output known: IDs are the logical names and
    ARNs are made up from the placeholder account.
    """

    def __init__(self, run: ProgramRun, region: str) -> None:
        self.run = run
        self.region = region

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        state = dict(args.inputs)
        if self.run.preview:
            return None, state
        state.setdefault("arn", f"arn:aws:mock:{self.region}:{PLACEHOLDER_ACCOUNT_ID}:{args.name}")
        return f"{args.name}-id", state

    def call(self, args: pulumi_mocks.MockCallArgs) -> dict:
        self.run.invokes.append(args.token)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": PLACEHOLDER_ACCOUNT_ID,
                "arn": f"arn:aws:iam::{PLACEHOLDER_ACCOUNT_ID}:user/offline-preview",
                "userId": "AIDAOFFLINEPREVIEW",
                "id": PLACEHOLDER_ACCOUNT_ID,
            }
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws",
                    "id": "aws"}
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region,
                    "endpoint": f"ec2.{self.region}.amazonaws.com",
                    "description": self.region}
        self.run.unanswered_invokes.append(args.token)
        return {}


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: OfflineMocks, run: ProgramRun) -> None:
        super().__init__(mocks)
        self.run = run

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The SDK's mock names only the direct parent's last type and keeps the root stack's; the
        # engine qualifies a child with its parent's whole chain and leaves the stack out.
        qualified = type_
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != "pulumi:pulumi:Stack":
                qualified = f"{parent_type}${type_}"
        project = pulumi.get_project()
        return f"urn:pulumi:{pulumi.get_stack()}::{project}::{qualified}::{name}"

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = _unwrap_secrets(json_format.MessageToDict(request.object))
        properties = struct_pb2.Struct()
        properties.update(inputs)
        position = request.sourcePosition if request.HasField("sourcePosition") else None
        source_file = None
        if position is not None and position.uri.startswith("file://"):
            source_file = unquote(urlparse(position.uri).path)
        self.run.resources.append(ResourceRecord(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent or None,
            inputs=inputs,
            properties=properties,
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            protect=bool(request.protect),
            provider=request.provider or None,
            delete_before_replace=request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None,
            ignore_changes=list(request.ignoreChanges),
            additional_secret_outputs=list(request.additionalSecretOutputs),
            retain_on_delete=bool(request.retainOnDelete),
            source_file=source_file,
            source_line=position.line if position is not None else None,
            id=response.id or None,
        ))
        return response


class _LogRecorder(logging.Handler):
    """Keeps what the program logs (``pulumi.log.warn`` ...) in ``ProgramRun.logs`` for the reports."""

    def __init__(self, run: ProgramRun) -> None:
        super().__init__(logging.INFO)
        self.run = run

    def emit(self, record: logging.LogRecord) -> None:
        self.run.logs.append((record.levelname.lower(), record.getMessage()))


def _program_logger(run: ProgramRun) -> logging.Logger:
    # Not registered globally; the SDK's own debug chatter is left out.
    logger = logging.Logger(f"offline_preview.program.{run.stack}", logging.INFO)
    logger.addHandler(_LogRecorder(run))
    return logger


def _unwrap_secrets(value: Any) -> Any:
    """Secret-wrapped inputs reach analyzers as their plain value, as the engine sends them."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _unwrap_secrets(value.get("value", UNKNOWN))
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


async def _resolve_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in outputs.items():
        output = pulumi.Output.from_input(value)
        known = await output.is_known()
        result[name] = await output.future() if known else UNKNOWN
    return result


def run_program(project_dir: str | Path, stack: str, *, overrides: dict[str, Any] | None = None,
                preview: bool = True, stack_config: StackConfig | None = None) -> ProgramRun:
    """Run the project's program for ``stack`` under the mock runtime and return what it did.

    Config comes from ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` as the CLI merges them
    (``overrides`` act like ``pulumi config set``). A ``ProjectError`` from reading them is
    raised; an exception from the program is captured in ``ProgramRun.error``.
    """
    project = load_project(project_dir)
    config = stack_config or load_stack_config(project, stack, overrides)
    run = ProgramRun(project=project, stack=stack, config=config, preview=preview)
    # A fresh context per run: the SDK keeps its settings, config and root stack in context
    # variables, so runs in one process cannot see each other's state.
    contextvars.Context().run(_run_in_context, run)
    return run


def _run_in_context(run: ProgramRun) -> None:
    project = run.project
    region = run.config.values.get("aws:region", "us-east-1")
    mocks = OfflineMocks(run, region)
    monitor = _RecordingMonitor(mocks, run)
    pulumi.runtime.set_all_config(dict(run.config.values), list(run.config.secret_keys))
    pulumi.runtime.set_mocks(mocks, project=project.name, stack=run.stack, preview=run.preview,
                             monitor=monitor, logger=_program_logger(run))
    settings = pulumi.runtime.settings.SETTINGS
    settings.rpc_manager.clear()
    settings.outputs.clear()

    old_cwd = os.getcwd()
    old_path = list(sys.path)
    program_dir = str(project.main.parent)
    # A module of the same name loaded from elsewhere (another program's ``components``) would
    # shadow the program's own: set it aside for the run and put it back after.
    shadowed = _shadowing_modules(Path(program_dir))
    for name in shadowed:
        del sys.modules[name]
    old_modules = set(sys.modules)
    os.chdir(project.directory)
    sys.path.insert(0, program_dir)
    try:
        def program() -> None:
            runpy.run_path(str(project.main), run_name="__main__")

        try:
            _sync_await(run_pulumi_func(program))
            root = pulumi.runtime.settings.get_root_resource()
            outputs = getattr(root, "outputs", {}) or {}
            run.outputs = _sync_await(_resolve_outputs(outputs))
        except BaseException as exc:  # noqa: BLE001 - reported to the caller, never swallowed
            if isinstance(exc, KeyboardInterrupt):
                raise
            run.error = exc
            run.error_traceback = "".join(traceback.format_exception(exc))
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path
        # The program's own modules are reloaded on the next run so that module-level state
        # (and a changed file) never leaks between runs. Installed packages stay loaded, even
        # when the virtualenv lives inside the project directory (.venv, venv).
        installed = (sys.prefix, sys.base_prefix)
        for name in set(sys.modules) - old_modules:
            module = sys.modules.get(name)
            module_file = getattr(module, "__file__", None) or ""
            if module_file.startswith(str(project.directory)) and not module_file.startswith(installed):
                del sys.modules[name]
        sys.modules.update(shadowed)


def _shadowing_modules(program_dir: Path) -> dict[str, Any]:
    """Loaded modules named like a top-level module or package of ``program_dir`` but loaded from
    somewhere else."""
    own = {p.stem for p in program_dir.glob("*.py")} | {p.name for p in program_dir.iterdir()
                                                         if (p / "__init__.py").exists()}
    own.discard("__main__")
    found = {}
    for name, module in list(sys.modules.items()):
        if name.split(".", 1)[0] in own:
            module_file = getattr(module, "__file__", None) or ""
            if not module_file.startswith(str(program_dir)):
                found[name] = module
    return found
