"""The policy step of a preview: drive a pack over a recorded program the way the engine does.

With the pack launched and configured (``pack_client``, ``pack_config``), the engine sends
``Analyze`` for every registration -- the Stack, default providers, components and custom
resources, each with its inputs, options and its provider's inputs -- and then ``AnalyzeStack``
once with every resource's outputs. ``run_policy_pack`` builds those requests from what the
offline preview's runner recorded (``ProgramRun``), sends them, and turns the responses into
``Diagnostic`` and ``NotApplicable`` records, attributed to resources as the CLI prints them.

It serves the compliance gate: a mandatory violation found here is one ``pulumi preview
--policy-pack`` would report. Not reproduced: remediations (``remediate`` policies are reported as
mandatory violations, as the SDK does when a remediated resource still violates), and the provider
``Check`` that would add defaults to the properties the policies see.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from .pack_client import PROTO_TO_LEVEL, SEVERITIES, PolicyPackProcess
from .pack_config import PackInfo, PolicyConfig, config_warnings, load_policy_config_file
from .runner import ProgramRun, ResourceRecord

PREVIEW_UNKNOWN_PREFIX = "can't run policy '"


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
    """A policy the pack reported as not applicable to a resource (``urn`` "" for the stack)."""

    pack: str
    policy: str
    urn: str
    reason: str


@dataclass
class PackResult:
    """One pack's policy step: its description, the config it was sent, and what it reported."""

    pack: PackInfo
    config: dict[str, PolicyConfig]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    not_applicable: list[NotApplicable] = field(default_factory=list)
    analyzed: int = 0  # resources sent through Analyze
    stack_resources: int = 0  # resources sent in AnalyzeStack
    # The time the step added after the program finished (what it did while the program ran is not
    # counted).
    seconds: float = 0.0
    config_file: str | None = None  # the --policy-pack-config file, as given
    warnings: list[str] = field(default_factory=list)  # config entries that configure no policy

    def count(self, level: str) -> int:
        return sum(1 for d in self.diagnostics if d.enforcement_level == level)


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
    level = PROTO_TO_LEVEL.get(d.enforcementLevel, "advisory")
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
        severity=SEVERITIES.get(d.severity), preview_unknown=unknown,
    )


def _prepare(process: PolicyPackProcess, config_file: str | Path | None) -> PackResult:
    """The engine's first steps with a started pack: its description, the config reconciled against
    it (``config_file`` read first, so a bad file is reported whatever the pack does), ``Configure``
    and ``ConfigureStack``."""
    user_config = load_policy_config_file(config_file) if config_file else {}
    process.wait_ready()
    pack = process.get_info()
    source = str(config_file) if config_file else "policy pack config"
    config = process.reconcile(pack, user_config, source)
    process.configure(config, pack.name)
    process.configure_stack()
    return PackResult(pack=pack, config=config, config_file=str(config_file) if config_file else None,
                      warnings=config_warnings(pack, user_config, source))


class AnalysisStream:
    """A pack's policy step begun while the program still runs, as the engine begins it: the pack is
    configured as soon as it answers, and each registration is sent through ``Analyze`` as the
    program makes it (pass ``add`` as ``run_program``'s ``on_record``), up to ``window`` calls in
    flight, on a thread of its own. ``run_policy_pack(..., stream=)`` then finishes the step: every
    registration not streamed (a run recorded earlier streams none), ``AnalyzeStack``, and the report
    in program order, so the result is the one analyzing after the run gives. A failure is kept and
    raised there; closing the process ends the thread."""

    def __init__(self, process: PolicyPackProcess, config_file: str | Path | None, window: int = 16) -> None:
        self.process = process
        self.config_file = config_file
        self.window = window
        self.prepared: PackResult | None = None
        self.error: BaseException | None = None
        self.responses: dict[str, analyzer_pb2.AnalyzeResponse] = {}  # by URN
        self._queue: queue.SimpleQueue[ResourceRecord | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="policy-pack-stream", daemon=True)
        self._thread.start()

    def add(self, record: ResourceRecord) -> None:
        self._queue.put(record)

    def finish(self) -> None:
        """Wait until everything added is analyzed (or the stream has failed)."""
        self._queue.put(None)
        self._thread.join()

    def _work(self) -> None:
        pending: collections.deque[tuple[str, Any]] = collections.deque()
        providers: dict[str, ResourceRecord] = {}
        try:
            self.prepared = _prepare(self.process, self.config_file)
            while True:
                record = self._queue.get()
                if record is None:
                    break
                if record.type.startswith("pulumi:providers:"):
                    providers[record.urn] = record
                pending.append((record.urn, self.process.analyze_future(analyze_request(record, providers))))
                while pending and (len(pending) >= self.window or pending[0][1].done()):
                    urn, future = pending.popleft()
                    self.responses[urn] = self.process.analyze_result(future)
            while pending:
                urn, future = pending.popleft()
                self.responses[urn] = self.process.analyze_result(future)
        except BaseException as exc:  # noqa: BLE001 - raised by run_policy_pack, in the caller's thread
            self.error = exc
            for _, future in pending:
                future.cancel()


def run_policy_pack(run: ProgramRun, pack_dir: str | Path, config_file: str | Path | None = None, *,
                    timeout: float = 60.0, process: PolicyPackProcess | None = None,
                    stream: AnalysisStream | None = None) -> PackResult:
    """Launch the pack (or take one from ``pack_client.launch_pack``, or the one ``stream`` has begun
    with), configure it like the engine, analyze every resource, and stop it."""
    started = time.perf_counter()
    if stream is not None:
        process = stream.process
        stream.finish()
    elif process is None:
        process = PolicyPackProcess(pack_dir, project=run.project.name, stack=run.stack,
                                    config=dict(run.config.values), secret_keys=list(run.config.secret_keys),
                                    dry_run=run.preview, timeout=timeout)
    with contextlib.closing(process) as pack_process:
        if stream is None:
            result = _prepare(pack_process, config_file)
            streamed: dict[str, analyzer_pb2.AnalyzeResponse] = {}
        elif stream.error is not None:
            raise stream.error
        else:
            assert stream.prepared is not None
            result, streamed = stream.prepared, stream.responses
        pack = result.pack
        records = _analyzed_records(run)
        by_urn = {r.urn: r for r in records}
        providers = {r.urn: r for r in records if r.type.startswith("pulumi:providers:")}
        stack_name = f"{run.project.name}-{run.stack}"
        # As the engine: Analyze for every registration (the Stack, default providers, components and
        # custom resources), each with its inputs and its provider's inputs.
        requests = (analyze_request(r, providers) for r in records if r.urn not in streamed)
        sent = iter(pack_process.analyze_many(requests))
        for record in records:
            response = streamed[record.urn] if record.urn in streamed else next(sent)
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
    "PREVIEW_UNKNOWN_PREFIX", "AnalysisStream", "Diagnostic", "NotApplicable", "PackResult",
    "analyze_request", "run_policy_pack", "stack_resource",
]
