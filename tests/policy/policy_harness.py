"""Drive the policy pack in-process through the Analyzer servicer the pack serves with.

``Pack`` builds the pack's servicer (``audit_policies.servicer.SharedDecodeServicer``, the SDK's
``pulumi_policy.policy._PolicyAnalyzerServicer`` decoding each request once; ``Pack(sdk=True)`` builds
the SDK's own) over ``ALL_POLICIES`` and calls ``Configure``, ``Analyze`` and ``AnalyzeStack`` with
real ``pulumi.runtime.proto`` messages (properties as ``google.protobuf.Struct``), so the SDK's
deserialisation, unknown-value proxy, not-applicable handling and message formatting all run. What
the engine adds comes from ``engine_config``, which uses the offline preview's implementation of the
engine's steps. Not reproduced: the provider's ``Check`` (defaults, auto-names) and real URNs;
fixtures give the properties a v7 provider would send.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from audit_policies.pack import ALL_POLICIES, PACK_NAME
from audit_policies.servicer import SharedDecodeServicer
from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from offline_preview.pack_client import pack_info_from_proto
from offline_preview.pack_config import PolicyError, parse_policy_config, reconcile_config

_PROTO_LEVELS = {"advisory": proto.ADVISORY, "mandatory": proto.MANDATORY, "remediate": proto.REMEDIATE,
                 "disabled": proto.DISABLED}
LEVEL_NAMES = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory", proto.DISABLED: "disabled"}
POLICIES = {p.name: p for p in ALL_POLICIES}
POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"
VERSION = "0.1.0"


def engine_config(user: dict[str, Any] | None = None) -> dict[str, tuple[int, dict]]:
    """What the engine sends in Configure for a --policy-pack-config document.

    The engine's steps are the offline preview's own (``offline_preview.pack_config``): parse the
    document, apply each policy's schema defaults, validate with JSON Schema, and give every policy
    an explicit level. A document the engine would refuse raises ``jsonschema.ValidationError``.
    """
    key = json.dumps(user or {}, sort_keys=True)
    if key not in _engine_configs:
        info = pack_info_from_proto(Pack().servicer.GetAnalyzerInfo(None, None), POLICY_DIR, "policy")
        try:
            config = reconcile_config(info, parse_policy_config(copy.deepcopy(user or {}), "test config"))
        except PolicyError as exc:
            raise jsonschema.ValidationError(str(exc)) from exc
        _engine_configs[key] = {name: (_PROTO_LEVELS[c.enforcement_level], c.properties)
                                for name, c in config.items()}
    # The same document always gives the same config: computed once per process, copied per caller.
    return copy.deepcopy(_engine_configs[key])


_engine_configs: dict[str, dict[str, tuple[int, dict]]] = {}


PROFILES_PREFIX = " Enforced profiles: "


@dataclass
class Diag:
    policy: str
    level: str
    message: str  # the reported message, without the "description\n" prefix the SDK adds
    urn: str
    # The trailing "Enforced profiles: ..." sentence of a profile-aware policy ("" otherwise); kept
    # apart so that rule tests compare the finding itself, and profile tests compare this.
    profiles: str = ""


@dataclass
class Result:
    diagnostics: list[Diag]
    not_applicable: dict[str, str]

    def of(self, policy: str) -> list[Diag]:
        return [d for d in self.diagnostics if d.policy == policy]

    def summary(self) -> list[tuple[str, str, str]]:
        return [(d.policy, d.level, d.message) for d in self.diagnostics]


@dataclass
class R:
    """A stack resource fixture: engine type, name, input properties, property dependencies by name."""

    type: str
    name: str
    props: dict[str, Any]
    deps: dict[str, list[str]] = field(default_factory=dict)
    protect: bool = False  # the Pulumi resource option, sent in AnalyzerResourceOptions

    @property
    def urn(self) -> str:
        return f"urn:pulumi:test::spawn-audit::{self.type}::{self.name}"


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(props)
    return s


def _analyze_request(resource: R) -> proto.AnalyzeRequest:
    return proto.AnalyzeRequest(type=resource.type, properties=_struct(resource.props), urn=resource.urn,
                                name=resource.name,
                                options=proto.AnalyzerResourceOptions(protect=resource.protect))


def _result(response) -> Result:
    diags = []
    for d in response.diagnostics:
        message = d.message
        if message.startswith(d.description + "\n"):
            message = message[len(d.description) + 1:]
        message, _, profiles = message.partition(PROFILES_PREFIX)
        diags.append(Diag(d.policyName, LEVEL_NAMES[d.enforcementLevel], message, d.urn, profiles))
    return Result(diags, {n.policy_name: n.reason.partition(PROFILES_PREFIX)[0]
                          for n in response.not_applicable})


# Analyze answers, per servicer and configuration, by request: in ``preview`` a request already answered
# under the same configuration is answered again from here. Analyze depends on nothing but the two, and
# most resources of a one-change negative are the baseline's own.
_answered: dict[tuple[str, bytes, str, str, str, bool, str], Result] = {}


class Pack:
    def __init__(self, sdk: bool = False) -> None:
        servicer = _PolicyAnalyzerServicer if sdk else SharedDecodeServicer
        self.servicer = servicer(PACK_NAME, VERSION, ALL_POLICIES, EnforcementLevel.ADVISORY)
        self._configuration = (servicer.__name__, b"")

    def configure(self, sent: dict[str, tuple[int, dict]]) -> Pack:
        request = proto.ConfigureAnalyzerRequest()
        for name, (level, props) in sent.items():
            request.policyConfig[name].CopyFrom(
                proto.PolicyConfig(enforcementLevel=level, properties=_struct(props)))
        self.servicer.Configure(request, None)
        self._configuration = (self._configuration[0], request.SerializeToString(deterministic=True))
        return self

    def analyze(self, resource: R) -> Result:
        return _result(self.servicer.Analyze(_analyze_request(resource), None))

    def _analyze_once(self, resource: R) -> Result:
        # The request by value: the same JSON document gives the same properties Struct.
        key = (*self._configuration, resource.type, resource.urn, resource.name, resource.protect,
               json.dumps(resource.props, sort_keys=True))
        if key not in _answered:
            _answered[key] = _result(self.servicer.Analyze(_analyze_request(resource), None))
        answer = _answered[key]
        return Result(list(answer.diagnostics), dict(answer.not_applicable))

    def analyze_stack(self, resources: list[R]) -> Result:
        by_name = {r.name: r for r in resources}
        request = proto.AnalyzeStackRequest()
        for r in resources:
            item = request.resources.add(type=r.type, urn=r.urn, name=r.name, properties=_struct(r.props),
                                         options=proto.AnalyzerResourceOptions(protect=r.protect))
            for prop, names in r.deps.items():
                item.propertyDependencies[prop].urns.extend(by_name[n].urn for n in names)
            item.dependencies.extend(sorted({by_name[n].urn for names in r.deps.values() for n in names}))
        return _result(self.servicer.AnalyzeStack(request, None))

    def preview(self, resources: list[R]) -> Result:
        """Every resource through Analyze, then the stack through AnalyzeStack, like one preview."""
        diags: list[Diag] = []
        not_applicable: dict[str, str] = {}
        for r in resources:
            result = self._analyze_once(r)
            diags += result.diagnostics
            not_applicable.update(result.not_applicable)
        stack = self.analyze_stack(resources)
        return Result(diags + stack.diagnostics, {**not_applicable, **stack.not_applicable})


def default_pack() -> Pack:
    """The pack configured as the engine would without --policy-pack-config (all profiles)."""
    return Pack().configure(engine_config())


def configured(user: dict[str, Any]) -> Pack:
    return Pack().configure(engine_config(user))


def for_all(properties: dict[str, Any]) -> dict[str, dict]:
    """A config document giving ``properties`` to every policy whose schema has all their keys."""
    return {name: dict(properties) for name, p in POLICIES.items()
            if p.config_schema and all(k in p.config_schema.properties for k in properties)}
