"""The pack's Analyzer service: the SDK's own servicer with each request decoded once, not once per policy.

What it replaces. pulumi-policy's ``_PolicyAnalyzerServicer`` (checked against pulumi-policy **1.21.0**,
``pulumi_policy/policy.py``) decodes the request's properties again for every policy:
``Analyze`` runs ``json_format.MessageToDict``, ``deserialize_properties`` and
``unknown_checking_proxy`` on the resource once per resource policy, even for the policies whose
resource types do not include it, and ``AnalyzeStack`` rebuilds every ``PolicyResource`` of the stack
once per stack policy. With 28 policies that is about two thirds of the pack's time. This subclass
keeps everything else of the SDK (``GetAnalyzerInfo``, ``Configure``, ``ConfigureStack``,
``Remediate``, the server, enforcement levels and config per policy, the violation and
"can't run policy ... during preview" diagnostics, not-applicable reasons) and overrides only
``Analyze`` and ``AnalyzeStack``:

* the request's properties are decoded once (the same conversion as ``MessageToDict``, then the
  SDK's own ``deserialize_properties``); each policy that runs still gets a fresh
  ``unknown_checking_proxy`` of them, as the SDK gives it;
* a policy built by ``base.resource_policy`` is not called for a resource type it does not inspect
  (its validate function returns at once for those, so the response is the same);
* ``AnalyzeStack`` builds the stack's ``PolicyResource`` list once and shares it, with one
  ``graph.Graph`` over it, across the stack policies (none of them changes either);
* the cyclic garbage collector is paused while a request is served: a stack request allocates
  hundreds of thousands of objects that reference counting frees, and the collector's full passes
  over them made ``AnalyzeStack`` grow faster than the stack;
* the Pulumi runtime settings (project, stack, dry run, config), which the SDK rebuilds from the
  process environment on every request (about 0.05 ms), are applied once per server thread: they
  live in context variables, and grpcio runs every request in a new, empty ``contextvars.Context``,
  so each server thread serves its requests in one context of its own, where the settings, once
  applied, stay (the process environment they come from does not change).

Responses are the SDK's, message for message and in the same order; ``tests/policy`` compares the two
paths on the real stacks and on a 2,000-resource replica of prod. ``install`` refuses to run on another
pulumi-policy version, because the private names used here may change with it.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from inspect import isawaitable
from typing import Any

from pulumi.runtime import proto
from pulumi_policy import policy as sdk
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy
from pulumi_policy.version import VERSION as SDK_VERSION

from audit_policies.graph import Graph

CHECKED_SDK_VERSION = "1.21.0"

_Base = sdk._PolicyAnalyzerServicer
_NotApplicable = sdk._NotApplicableError
_ADVISORY = proto.ADVISORY


def check_sdk_version(version: str = SDK_VERSION) -> None:
    """Fail loudly when the installed pulumi-policy is not the one this servicer was checked against."""
    if version != CHECKED_SDK_VERSION:
        raise RuntimeError(
            f"audit_policies.servicer was checked against pulumi-policy {CHECKED_SDK_VERSION}, but "
            f"{version} is installed: pin pulumi-policy=={CHECKED_SDK_VERSION} in policy/requirements.txt, "
            "or re-check the servicer against the new SDK's _PolicyAnalyzerServicer and update it"
        )


# --- decoding: the same values as json_format.MessageToDict on a google.protobuf.Struct ------------------

def _value(v: Any) -> Any:
    kind = v.WhichOneof("kind")
    if kind == "string_value":
        return v.string_value
    if kind == "bool_value":
        return v.bool_value
    if kind == "number_value":
        x = v.number_value
        if math.isinf(x) or math.isnan(x):
            # MessageToDict's own refusal; the SDK lets it fail the call.
            raise ValueError(f"Fail to serialize {'Infinity' if math.isinf(x) else 'NaN'} for "
                             "Value.number_value, which would parse as string_value")
        return x
    if kind == "struct_value":
        return struct_to_dict(v.struct_value)
    if kind == "list_value":
        return [_value(e) for e in v.list_value.values]
    return None  # null_value, or a Value with nothing set


def struct_to_dict(struct: Any) -> dict[str, Any]:
    """``json_format.MessageToDict(struct)`` for a ``Struct``, without the generic reflection."""
    fields = struct.fields
    return {key: _value(fields[key]) for key in fields}


def decode_properties(struct: Any) -> dict[str, Any]:
    """A request's properties as the SDK hands them to a policy, before its unknown-checking proxy."""
    return deserialize_properties(struct_to_dict(struct))


# --- the collector ----------------------------------------------------------------------------------------

_gc_lock = threading.Lock()
_gc_holders = 0
_gc_resume = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold off cyclic garbage collection while any request is being served (the server has 4 threads);
    a collector that was off before stays off."""
    global _gc_holders, _gc_resume
    with _gc_lock:
        _gc_holders += 1
        if _gc_holders == 1:
            _gc_resume = gc.isenabled()
            gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_resume:
                gc.enable()


# --- the servicer -----------------------------------------------------------------------------------------

# Set in each context whose Pulumi runtime settings have been applied.
_runtime_configured: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "audit_policies_runtime_configured", default=False)
# Each server thread's own context (grpcio gives every request a new, empty one).
_thread_state = threading.local()


def _in_thread_context(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` in the calling thread's own long-lived context."""
    context = getattr(_thread_state, "context", None)
    if context is None:
        context = _thread_state.context = contextvars.copy_context()
    return context.run(fn, *args)


class SharedDecodeServicer(_Base):
    """``_PolicyAnalyzerServicer`` whose ``Analyze``/``AnalyzeStack`` decode each request once."""

    def _configure_runtime_settings(self) -> None:
        if not _runtime_configured.get():
            super()._configure_runtime_settings()
            _runtime_configured.set(True)

    def _policies(self) -> list[sdk.Policy]:
        return self._PolicyAnalyzerServicer__policies  # the SDK's private field (name-mangled)

    def _unknown_diagnostic(self, policy: sdk.Policy, error: UnknownValueError) -> Any:
        name = self._PolicyAnalyzerServicer__policy_pack_name
        version = self._PolicyAnalyzerServicer__policy_pack_version
        return proto.AnalyzeDiagnostic(
            policyName=policy.name, policyPackName=name, policyPackVersion=version,
            message=f"can't run policy '{policy.name}' from policy pack '{name}@v{version}' during preview: "
                    f"{error.message}",
            urn="", description=policy.description, enforcementLevel=_ADVISORY,
        )

    @staticmethod
    def _run(policy: sdk.Policy, args: Any, report_violation: Any) -> None:
        result = policy.validate(args, report_violation)
        if isawaitable(result):
            loop = asyncio.new_event_loop()
            task = asyncio.Task(result, loop=loop)
            loop.run_until_complete(task)
            loop.close()

    def Analyze(self, request, _context):  # noqa: N802 - gRPC method name
        with collector_paused():
            return _in_thread_context(self._analyze, request)

    def _analyze(self, request):
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        decoded: dict[str, Any] | None = None
        opts = provider = None
        stack_tags = self._PolicyAnalyzerServicer__stack_tags
        for policy in self._policies():
            enforcement_level = self._get_enforcement_level(policy)
            if (enforcement_level == sdk.EnforcementLevel.DISABLED
                    or not isinstance(policy, sdk.ResourceValidationPolicy)):
                continue
            if not policy.has_validation():
                response.not_applicable.append(proto.PolicyNotApplicable(
                    policy_name=policy.name, reason="Policy does not implement validate"))
                continue
            types = getattr(policy, "resource_types", None)
            if types is not None and request.type not in types:
                continue  # base.resource_policy's validate returns at once for these types
            if enforcement_level == sdk.EnforcementLevel.REMEDIATE:
                enforcement_level = sdk.EnforcementLevel.MANDATORY
            report_violation = self._create_report_violation(
                response, policy.name, policy.description, enforcement_level, policy.severity)
            if decoded is None:
                decoded = decode_properties(request.properties)
                opts = self._get_resource_options(request)
                provider = self._get_provider_resource(request)
            args = sdk.ResourceValidationArgs(
                request.type, unknown_checking_proxy(decoded), request.urn, request.name, opts, provider,
                self._get_policy_config(policy.name), stack_tags)
            self._evaluate(policy, args, report_violation, response)
        return response

    def _evaluate(self, policy, args, report_violation, response) -> None:
        """Run one policy, turning an unknown value or "not applicable" into the SDK's responses."""
        try:
            self._run(policy, args, report_violation)
        except UnknownValueError as e:
            response.diagnostics.append(self._unknown_diagnostic(policy, e))
        except _NotApplicable as e:
            response.not_applicable.append(proto.PolicyNotApplicable(
                policy_name=policy.name, reason=e.reason or ""))

    def AnalyzeStack(self, request, _context):  # noqa: N802 - gRPC method name
        with collector_paused():
            return _in_thread_context(self._analyze_stack, request)

    def _stack_resources(self, request) -> list[sdk.PolicyResource]:
        """The SDK's ``PolicyResource`` list for the request: parents and dependencies linked by URN."""
        resources: list[sdk.PolicyResource] = []
        links = []
        for r in request.resources:
            resource = sdk.PolicyResource(
                r.type, unknown_checking_proxy(decode_properties(r.properties)), r.urn, r.name,
                self._get_resource_options(r), self._get_provider_resource(r), None, [], {})
            resources.append(resource)
            links.append((r.parent, list(r.dependencies),
                          {k: list(v.urns) for k, v in r.propertyDependencies.items()}))
        by_urn = {resource.urn: resource for resource in resources}
        for resource, (parent, dependencies, property_dependencies) in zip(resources, links, strict=True):
            if parent is not None and parent in by_urn:
                resource.parent = by_urn[parent]
            resource.dependencies.extend(by_urn[d] for d in dependencies if d in by_urn)
            for key, urns in property_dependencies.items():
                resource.property_dependencies[key] = [by_urn[d] for d in urns if d in by_urn]
        return resources

    def _analyze_stack(self, request):
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        resources: list[sdk.PolicyResource] | None = None
        graph: Graph | None = None
        stack_tags = self._PolicyAnalyzerServicer__stack_tags
        for policy in self._policies():
            enforcement_level = self._get_enforcement_level(policy)
            if enforcement_level == sdk.EnforcementLevel.DISABLED or not isinstance(
                    policy, sdk.StackValidationPolicy):
                continue
            if enforcement_level == sdk.EnforcementLevel.REMEDIATE:
                enforcement_level = sdk.EnforcementLevel.MANDATORY
            report_violation = self._create_report_violation(
                response, policy.name, policy.description, enforcement_level, policy.severity)
            if resources is None:
                resources = self._stack_resources(request)
            args = sdk.StackValidationArgs(resources, self._get_policy_config(policy.name), stack_tags)
            if getattr(policy, "uses_graph", False):
                if graph is None:
                    graph = Graph(resources)
                args.graph = graph
            self._evaluate(policy, args, report_violation, response)
        return response


def install() -> None:
    """Make ``pulumi_policy.PolicyPack`` serve through ``SharedDecodeServicer`` (call before building it).

    Also moves everything imported so far out of the collector's sight (``gc.freeze``): the pack's
    modules live as long as the process, and scanning them again on every full pass costs time.
    """
    check_sdk_version()
    sdk._PolicyAnalyzerServicer = SharedDecodeServicer
    gc.freeze()


__all__ = ["CHECKED_SDK_VERSION", "SharedDecodeServicer", "check_sdk_version", "collector_paused",
           "decode_properties", "install", "struct_to_dict"]
