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

import asyncio
import contextvars
import importlib.machinery
import logging
import os
import runpy
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any
from urllib.parse import unquote, urlparse

import pulumi
import pulumi.runtime
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime._callbacks import _CallbackServicer
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from . import source_positions
from .project import SECRET_PLACEHOLDER, Project, StackConfig, load_project, load_stack_config
from .state import StackState, StoredResource, plan, planned_outputs

UNKNOWN = rpc.UNKNOWN
PLACEHOLDER_ACCOUNT_ID = "123456789012"
DEFAULT_PROGRAM_TIMEOUT = 300.0
# How long one transform callback may take before the registration fails.
TRANSFORM_TIMEOUT = 60.0


class ProgramTimeout(Exception):
    """The program did not finish in time (it waits on something that never comes)."""


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
    op: str = "create"  # the step: create, same, update, replace (``--state`` decides)
    changed: list[str] = field(default_factory=list)  # input keys that differ from the state
    outputs: dict[str, Any] | None = None  # what the step leaves as outputs (AnalyzeStack sees them)
    version: str = ""


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
    state: StackState | None = None
    # The Stack registration itself (its outputs are the exports), the default providers the engine
    # would register, components' registered outputs, and stored resources no longer registered.
    stack_record: ResourceRecord | None = None
    default_providers: list[ResourceRecord] = field(default_factory=list)
    registered_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: list[StoredResource] = field(default_factory=list)
    # Called with each registration the engine would analyze, as it is recorded (see ``run_program``).
    on_record: Callable[[ResourceRecord], None] | None = field(default=None, repr=False, compare=False)

    def _recorded(self, record: ResourceRecord) -> None:
        if self.on_record is not None:
            self.on_record(record)

    @property
    def stack_op(self) -> str:
        if self.state is not None and self.state.get(self.stack_urn) is not None:
            return "same"
        return "create"

    def analyzed_records(self) -> list[ResourceRecord]:
        """Every registration the engine sends through ``Analyze``, in registration order: the Stack,
        each default provider before the first resource that uses it, components and custom
        resources."""
        records: list[ResourceRecord] = [self.stack_record] if self.stack_record else []
        providers = {p.urn: p for p in self.default_providers}
        for record in self.resources:
            ref = (record.provider or "").rsplit("::", 1)[0]
            provider = providers.pop(ref, None)
            if provider is not None:
                records.append(provider)
            records.append(record)
        return records

    def record(self, urn: str) -> ResourceRecord | None:
        if self.stack_record is not None and urn == self.stack_record.urn:
            return self.stack_record
        for record in (*self.default_providers, *self.resources):
            if record.urn == urn:
                return record
        return None

    @property
    def stack_urn(self) -> str:
        name = self.project.name
        return f"urn:pulumi:{self.stack}::{name}::pulumi:pulumi:Stack::{name}-{self.stack}"

    def by_type(self, type_: str) -> list[ResourceRecord]:
        return [r for r in self.resources if r.type == type_]


_step = threading.local()  # the plan of the registration being served on this thread


class OfflineMocks(pulumi_mocks.Mocks):
    """Answers registrations the way a preview does, and the common identity invokes.

    A resource the state holds unchanged (``same``) gets its stored ID and outputs; an update
    gets its stored ID and outputs with the new inputs laid over them; a create or replace echoes
    its inputs, with what only the cloud can compute (IDs, ARNs, generated names) unknown.
    ``preview=False`` is for tests that want every output known: IDs are the logical names and
    ARNs are made up from the placeholder account.
    """

    def __init__(self, run: ProgramRun, region: str) -> None:
        self.run = run
        self.region = region

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        step = getattr(_step, "value", None)
        if step is not None and step[0] in ("same", "update") and step[1] is not None:
            op, stored, inputs = step
            return stored.id, _program_visible(planned_outputs(op, stored, inputs))
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


def _program_visible(value: Any) -> Any:
    """Stored outputs as the program may see them: a stored secret is ciphertext that cannot be
    decrypted here, so it becomes a secret holding the placeholder, as secure config does."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            inner = SECRET_PLACEHOLDER if "ciphertext" in value else value.get("value", SECRET_PLACEHOLDER)
            return {rpc._special_sig_key: rpc._special_secret_sig, "value": _program_visible(inner)}
        return {k: _program_visible(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_program_visible(v) for v in value]
    return value


def _downgrade_resource_refs(value: Any) -> Any:
    """A resource passed as an input becomes what the engine sends a provider that does not take
    resource references (sdk/go/common/resource/plugin/rpc.go, MarshalPropertyValue): a custom
    resource's ID (unknown while it is being created), else a component's URN."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_resource_sig:
            if "id" in value:
                return value["id"] if value["id"] != "" else UNKNOWN
            return value.get("urn", UNKNOWN)
        return {k: _downgrade_resource_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_downgrade_resource_refs(v) for v in value]
    return value


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(value)
    return result


def _callback(token: str) -> tuple[Any, asyncio.AbstractEventLoop] | None:
    for servicer in _CallbackServicer._servicers:
        fn = servicer._callbacks.get(token)
        if fn is not None:
            return fn, servicer._loop
    return None


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: OfflineMocks, run: ProgramRun) -> None:
        super().__init__(mocks)
        self.run = run
        self._stack_transform_tokens: list[str] = []
        self._transforms_by_urn: dict[str, list[str]] = {}
        self._parents: dict[str, str] = {}
        self._lock = threading.Lock()

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

    # -- transforms, as the engine's resource monitor runs them (source_eval.go, RegisterResource):
    #    the resource's own, then each parent's up the chain, then the stack's, in registration order.

    def RegisterStackTransform(self, request):  # noqa: N802 - gRPC method name
        with self._lock:
            self._stack_transform_tokens.append(request.token)
        return super().RegisterStackTransform(request)

    def _apply_transforms(self, request):
        own = [cb.token for cb in request.transforms]
        with self._lock:
            tokens = list(own)
            current = request.parent
            while current:
                tokens += self._transforms_by_urn.get(current, [])
                current = self._parents.get(current, "")
            tokens += self._stack_transform_tokens
        if not tokens:
            return request, own
        request_copy = type(request)()
        request_copy.CopyFrom(request)
        request = request_copy
        for token in tokens:
            found = _callback(token)
            if found is None:
                raise RuntimeError(f"transform {token} of {request.type} {request.name!r} is not registered")
            fn, loop = found
            options = resource_pb2.TransformResourceOptions(
                depends_on=list(request.dependencies), protect=request.protect,
                ignore_changes=list(request.ignoreChanges), replace_on_changes=list(request.replaceOnChanges),
                version=request.version, provider=request.provider, retain_on_delete=request.retainOnDelete,
                additional_secret_outputs=list(request.additionalSecretOutputs),
                plugin_download_url=request.pluginDownloadURL,
            )
            if request.deleteBeforeReplaceDefined:
                options.delete_before_replace = request.deleteBeforeReplace
            for key, ref in request.providers.items():
                options.providers[key] = ref
            transform_request = resource_pb2.TransformRequest(
                type=request.type, name=request.name, custom=request.custom, parent=request.parent,
                properties=request.object, options=options,
            )
            future = asyncio.run_coroutine_threadsafe(fn(transform_request.SerializeToString()), loop)
            response = future.result(timeout=TRANSFORM_TIMEOUT)
            if response.HasField("properties"):
                request.object.CopyFrom(response.properties)
            if response.HasField("options"):
                opts = response.options
                request.protect = opts.protect
                del request.ignoreChanges[:]
                request.ignoreChanges.extend(opts.ignore_changes)
                del request.replaceOnChanges[:]
                request.replaceOnChanges.extend(opts.replace_on_changes)
                del request.additionalSecretOutputs[:]
                request.additionalSecretOutputs.extend(opts.additional_secret_outputs)
                request.retainOnDelete = opts.retain_on_delete
                request.provider = opts.provider
                if opts.HasField("delete_before_replace"):
                    request.deleteBeforeReplace = opts.delete_before_replace
                    request.deleteBeforeReplaceDefined = True
                added = [d for d in opts.depends_on if d not in request.dependencies]
                request.dependencies.extend(added)
        return request, own

    # -- registrations

    def RegisterResourceOutputs(self, request):  # noqa: N802 - gRPC method name
        outputs = {}
        if request.HasField("outputs"):
            # Resource references reach analyzers as IDs or URNs, as inputs do.
            outputs = _unwrap_secrets(_downgrade_resource_refs(json_format.MessageToDict(request.outputs)))
        with self._lock:
            self.run.registered_outputs[request.urn] = outputs
        return super().RegisterResourceOutputs(request)

    def _default_provider(self, request) -> str:
        """The engine's default provider for the package of a custom resource registered without one
        (default_providers in source_eval.go): ``default_<version>``, its inputs the stack's config in
        the package's namespace plus ``version``. Returns the provider reference ``<urn>::<id>``."""
        package = request.type.split(":", 1)[0]
        version = request.version
        name = "default_" + version.replace(".", "_").replace("-", "_") if version else "default"
        urn = f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::pulumi:providers:{package}::{name}"
        with self._lock:
            existing = next((p for p in self.run.default_providers if p.urn == urn), None)
            if existing is None:
                inputs: dict[str, Any] = {}
                for key, value in sorted(self.run.config.values.items()):
                    namespace, _, short = key.partition(":")
                    if namespace == package:
                        inputs[short] = value
                if version:
                    inputs["version"] = version
                stored = self.run.state.get(urn) if self.run.state is not None else None
                op, changed = ("create", [])
                if self.run.state is not None:
                    op, changed = plan(stored, f"pulumi:providers:{package}", inputs)
                provider_id = stored.id if stored is not None and op in ("same", "update") else UNKNOWN
                existing = ResourceRecord(
                    urn=urn, type=f"pulumi:providers:{package}", name=name, custom=True, parent=None,
                    inputs=inputs, properties=_struct(inputs), dependencies=[], property_dependencies={},
                    protect=False, provider=None, delete_before_replace=None, ignore_changes=[],
                    additional_secret_outputs=[], retain_on_delete=False, source_file=None, source_line=None,
                    id=provider_id, op=op, changed=changed, outputs=planned_outputs(op, stored, inputs),
                    version=version,
                )
                self.run.default_providers.append(existing)
                self.run._recorded(existing)
        return f"{urn}::{existing.id}"

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        if request.type == "pulumi:pulumi:Stack":
            response = super().RegisterResource(request)
            self.run.stack_record = ResourceRecord(
                urn=response.urn, type=request.type, name=request.name, custom=False, parent=None,
                inputs={}, properties=struct_pb2.Struct(), dependencies=[], property_dependencies={},
                protect=False, provider=None, delete_before_replace=None, ignore_changes=[],
                additional_secret_outputs=[], retain_on_delete=False, source_file=None, source_line=None,
                op=self.run.stack_op,
            )
            self.run._recorded(self.run.stack_record)
            return response
        request, own_transforms = self._apply_transforms(request)
        raw = json_format.MessageToDict(request.object)
        downgraded = _downgrade_resource_refs(raw)
        if downgraded != raw:
            request_copy = type(request)()
            request_copy.CopyFrom(request)
            request_copy.object.Clear()
            request_copy.object.update(downgraded)
            request = request_copy
        urn = self.make_urn(request.parent, request.type, request.name)
        with self._lock:
            if own_transforms:
                self._transforms_by_urn[urn] = own_transforms
            if request.parent:
                self._parents[urn] = request.parent
        inputs = _unwrap_secrets(downgraded)
        stored = self.run.state.get(urn) if self.run.state is not None else None
        op, changed = plan(stored, request.type, inputs) if self.run.state is not None else ("create", [])
        provider_ref = request.provider or None
        if request.custom and not provider_ref and not request.type.startswith("pulumi:providers:"):
            provider_ref = self._default_provider(request)
        _step.value = (op, stored, inputs)
        try:
            response = super().RegisterResource(request)
        finally:
            _step.value = None
        properties = _struct(inputs)
        position = request.sourcePosition if request.HasField("sourcePosition") else None
        source_file = None
        if position is not None and position.uri.startswith("file://"):
            source_file = unquote(urlparse(position.uri).path)
        record = ResourceRecord(
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
            provider=provider_ref,
            delete_before_replace=request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None,
            ignore_changes=list(request.ignoreChanges),
            additional_secret_outputs=list(request.additionalSecretOutputs),
            retain_on_delete=bool(request.retainOnDelete),
            source_file=source_file,
            source_line=position.line if position is not None else None,
            id=response.id or None,
            op=op,
            changed=changed,
            # What the step leaves as the resource's outputs, as the monitor answered the program.
            outputs=_unwrap_secrets(json_format.MessageToDict(response.object)) if request.custom else None,
            version=request.version,
        )
        self.run.resources.append(record)
        self.run._recorded(record)
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
                preview: bool = True, stack_config: StackConfig | None = None,
                state: StackState | None = None,
                timeout: float | None = DEFAULT_PROGRAM_TIMEOUT,
                on_record: Callable[[ResourceRecord], None] | None = None) -> ProgramRun:
    """Run the project's program for ``stack`` under the mock runtime and return what it did.

    Config comes from ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` as the CLI merges them
    (``overrides`` act like ``pulumi config set``). A ``ProjectError`` from reading them is
    raised; an exception from the program is captured in ``ProgramRun.error``. With ``state`` (a
    ``pulumi stack export``), each registration is planned against it. A program still running after
    ``timeout`` seconds is abandoned with a ``ProgramTimeout`` in ``ProgramRun.error``; its thread
    is left behind, so a command-line caller should exit promptly after reporting it.

    ``on_record``, when given, is called on the program's thread with each registration the engine
    would send through ``Analyze`` (the Stack, each default provider before the first resource that
    uses it, components and custom resources), as it is recorded: the engine analyzes each resource
    as the program registers it. It must be quick and must not raise.
    """
    project = load_project(project_dir)
    config = stack_config or load_stack_config(project, stack, overrides)
    run = ProgramRun(project=project, stack=stack, config=config, preview=preview, state=state,
                     on_record=on_record)
    old_cwd = os.getcwd()
    old_path = list(sys.path)
    # A fresh context per run: the SDK keeps its settings, config and root stack in context
    # variables, so runs in one process cannot see each other's state. The program runs on its own
    # thread so that one waiting forever (on an output that never resolves, a lock, a socket)
    # cannot hold the caller past ``timeout``.
    worker = threading.Thread(target=contextvars.Context().run, args=(_run_on_thread, run),
                              name="pulumi-program", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        os.chdir(old_cwd)
        sys.path[:] = old_path
        run.error = ProgramTimeout(
            f"the program did not finish within {timeout:g}s (registered {len(run.resources)} resources); "
            "it is waiting on something that never completes"
        )
        run.error_traceback = f"{type(run.error).__name__}: {run.error}\n"
        return run
    run.on_record = None  # done: a copy of the run must not carry the caller's listener
    if state is not None and run.error is None:
        registered = {r.urn for r in run.resources} | {p.urn for p in run.default_providers} | {run.stack_urn}
        run.deleted = [s for urn, s in state.resources.items() if urn not in registered]
    return run


def _run_on_thread(run: ProgramRun) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    thread_loops = _set_default_executor(loop)
    try:
        _run_in_context(run)
    except BaseException as exc:  # noqa: BLE001 - reported to the caller, never swallowed
        run.error = exc
        run.error_traceback = "".join(traceback.format_exception(exc))
    finally:
        _close_loops(loop, thread_loops)


def _set_default_executor(loop: asyncio.AbstractEventLoop) -> list[asyncio.AbstractEventLoop]:
    """Give ``loop`` the executor asyncio would create, whose threads each start with an event loop
    of their own (the SDK creates one on first use in any thread without one); the list fills with
    those loops so that the run can close them."""
    thread_loops: list[asyncio.AbstractEventLoop] = []

    def start_thread() -> None:
        thread_loop = asyncio.new_event_loop()
        asyncio.set_event_loop(thread_loop)
        thread_loops.append(thread_loop)

    loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="asyncio", initializer=start_thread))
    return thread_loops


def _close_loops(loop: asyncio.AbstractEventLoop, thread_loops: list[asyncio.AbstractEventLoop]) -> None:
    """Stop the executor's threads and close every loop of the run. Left open, each run in a process
    kept about 6 threads and 20 descriptors (each loop's socket pair and epoll) until the process ended."""
    try:
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
        for thread_loop in thread_loops:
            thread_loop.close()


def _run_in_context(run: ProgramRun) -> None:
    source_positions.install()
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
    # Modules of the same top-level name as the program's own packages, imported from elsewhere (by the
    # caller, or another program in this process): set aside, so the program imports its own, and
    # restored afterwards.
    shadowed = _shadowed_modules(Path(program_dir), str(project.directory))
    for name in shadowed:
        del sys.modules[name]
    old_modules = set(sys.modules)
    os.chdir(project.directory)
    sys.path.insert(0, program_dir)
    finder = _ProgramModuleFinder(str(project.directory))
    finder.install()
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
        finder.uninstall()
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


# Compiled code of the program's own modules, by file and source: each run executes the modules afresh
# (new module objects, so no state is shared), but does not compile unchanged source again. That is
# most of a module's import cost when no bytecode cache is written (PYTHONDONTWRITEBYTECODE, a
# read-only checkout). A changed file has other source, so it is compiled again.
_compiled: dict[tuple[str, bytes], CodeType] = {}
_COMPILED_MAX = 512


class _CachedCodeLoader(importlib.machinery.SourceFileLoader):
    """The standard source loader (bytecode cache included), keeping the code it compiles."""

    def source_to_code(self, data, path, *, _optimize=-1):  # noqa: ANN001 - importlib's signature
        key = (str(path), bytes(data))
        code = _compiled.get(key)
        if code is None:
            code = super().source_to_code(data, path, _optimize=_optimize)
            if len(_compiled) >= _COMPILED_MAX:
                _compiled.clear()
            _compiled[key] = code
        return code


class _ProgramModuleFinder:
    """During a run, finds modules exactly as the path finder does (it sits right before it), and
    gives the program's own source modules a ``_CachedCodeLoader``. Installed packages keep theirs,
    also when the virtualenv lives inside the project directory."""

    def __init__(self, project_dir: str) -> None:
        self.project_dir = project_dir.rstrip(os.sep) + os.sep
        self.installed = (sys.prefix, sys.base_prefix)

    def install(self) -> None:
        finder = importlib.machinery.PathFinder
        index = sys.meta_path.index(finder) if finder in sys.meta_path else len(sys.meta_path)
        sys.meta_path.insert(index, self)

    def uninstall(self) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001, ANN201 - the finder protocol
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = spec.loader if spec is not None else None
        if type(loader) is importlib.machinery.SourceFileLoader:
            origin = spec.origin or ""
            if origin.startswith(self.project_dir) and not origin.startswith(self.installed):
                spec.loader = _CachedCodeLoader(loader.name, loader.path)
        return spec


def _shadowed_modules(program_dir: Path, project_dir: str) -> dict[str, Any]:
    """Loaded modules whose top-level name is a package or module in ``program_dir`` but whose file
    lies outside the project (e.g. another project's ``components`` package)."""
    local = {p.stem for p in program_dir.glob("*.py")} | {p.name for p in program_dir.iterdir() if p.is_dir()}
    found: dict[str, Any] = {}
    for name, module in list(sys.modules.items()):
        if name.split(".", 1)[0] not in local or name == "__main__":
            continue
        module_file = getattr(module, "__file__", None) or ""
        if module_file and not module_file.startswith(project_dir):
            found[name] = module
    return found

