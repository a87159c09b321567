"""The pack's servicer answers exactly as the pulumi-policy SDK's own servicer does.

``audit_policies.servicer.SharedDecodeServicer`` decodes each request once instead of once per policy;
these tests send the same requests through it and through the SDK's ``_PolicyAnalyzerServicer`` and
compare every response byte for byte (diagnostics, their order, levels, messages, URNs, not-applicable
reasons): on the real dev and prod stacks as the offline preview records them, under each shipped
config and under levels the engine can set (remediate, disabled), and on a replica of prod (the
benchmark's stack; ``benchmarks/policy_eval.py --check`` makes the same comparison at 2,000 resources
and more).
"""

from __future__ import annotations

import contextvars
import gc
import json
import math
import sys
import threading
import unittest.mock
from pathlib import Path

import pytest
import recorded as recorded_runs
from audit_policies import servicer as fast
from google.protobuf import json_format, struct_pb2
from policy_harness import Pack, engine_config
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import policy as sdk

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
import policy_eval  # noqa: E402 - the benchmark's replication of the recorded stack

CONFIGS = REPO / "policy" / "config"


@pytest.fixture(scope="module")
def recorded() -> dict[str, list]:
    """Every registration of each real stack, recorded once as the offline preview records them, with
    the outputs AnalyzeStack is sent (the benchmark's own recording, of a program run shared with the
    other tests of this process)."""
    with unittest.mock.patch.object(policy_eval, "run_program", recorded_runs.run_program):
        return {stack: policy_eval.record_stack(stack) for stack in ("dev", "prod")}


def _responses(pack: Pack, records: list) -> list[bytes]:
    """The requests the offline preview sends for ``records``, through ``pack``'s servicer."""
    requests = policy_eval.build_requests(records)
    analyze = [pack.servicer.Analyze(r, None) for r in requests.analyze]
    return [m.SerializeToString(deterministic=True)
            for m in (*analyze, pack.servicer.AnalyzeStack(requests.stack, None))]


def _both(records: list, user_config: dict | None) -> tuple[list[bytes], list[bytes]]:
    sent = engine_config(user_config)
    return _responses(Pack(sdk=True).configure(sent), records), _responses(Pack().configure(sent), records)


_real: dict[tuple[str, str | None], tuple[list[bytes], list[bytes]]] = {}


def _both_on_real(recorded: dict[str, list], stack: str,
                  config: str | None) -> tuple[list[bytes], list[bytes]]:
    """``_both`` on a real stack under a shipped config, computed once per module (read-only bytes)."""
    if (stack, config) not in _real:
        _real[stack, config] = _both(recorded[stack], _config(config) if config else None)
    return _real[stack, config]


def _count(responses: list[bytes]) -> tuple[int, int]:
    diagnostics = not_applicable = 0
    for raw in responses:
        response = analyzer_pb2.AnalyzeResponse.FromString(raw)
        diagnostics += len(response.diagnostics)
        not_applicable += len(response.not_applicable)
    return diagnostics, not_applicable


def _config(name: str) -> dict:
    return json.loads((CONFIGS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("stack", "config"), [
    ("prod", "hipaa"), ("prod", "pci-dss"), ("prod", "soc2"), ("prod", None),
    ("dev", "sandbox"), ("dev", None),
])
def test_real_stacks_get_the_sdks_responses(recorded, stack: str, config: str | None) -> None:
    expected, got = _both_on_real(recorded, stack, config)
    assert got == expected
    # Not vacuous: the stack yields diagnostics (unknowns during preview, advisories) or
    # not-applicable reasons under every config.
    assert sum(_count(expected)) > 0


def test_engine_levels_remediate_and_disabled_are_the_sdks(recorded) -> None:
    user = {"all": "remediate", "aws-s3-bucket-versioning": "disabled",
            "aws-cloudtrail-stack-security-trail": "disabled",
            "aws-cloudwatch-log-group-retention": "advisory"}
    # One change from the compliant prod stack: its trail without log file validation, so that the
    # remediate level (reported as mandatory) shows up in a violation.
    records = list(recorded["prod"])
    trail = next(i for i, r in enumerate(records) if r.type == "aws:cloudtrail/trail:Trail")
    inputs = {**records[trail].inputs, "enableLogFileValidation": False}
    properties = struct_pb2.Struct()
    properties.update(inputs)
    records[trail] = policy_eval.replace(records[trail], inputs=inputs, properties=properties,
                                         outputs=inputs)
    expected, got = _both(records, user)
    assert got == expected
    levels = {d.enforcementLevel for raw in expected
              for d in analyzer_pb2.AnalyzeResponse.FromString(raw).diagnostics}
    assert analyzer_pb2.MANDATORY in levels


def test_a_replica_of_prod_gets_the_sdks_responses(recorded) -> None:
    # Five copies keep the suite fast; `benchmarks/policy_eval.py --check` compares 2,000 and more.
    size = 5 * (len(recorded["prod"]) - 1) + 1  # one Stack, five copies of everything else
    records = policy_eval.replicate(recorded["prod"], size)
    assert len(records) == size and len({r.urn for r in records}) == size
    expected, got = _both(records, _config("hipaa"))
    assert got == expected
    # Each copy is evaluated on its own: five times prod's resource diagnostics, not one merged stack.
    single, _ = _both_on_real(recorded, "prod", "hipaa")
    assert _count(expected[:-1])[0] == 5 * _count(single[:-1])[0] > 0


@pytest.mark.parametrize("value", [
    {}, {"s": "x", "n": 3.0, "i": 30, "b": False, "null": None},
    {"nested": {"list": [1, "a", None, True, {"deep": [[]]}], "empty": {}}},
    {"unknown": "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "big": 1e300, "neg": -0.5},
])
def test_struct_decoding_is_message_to_dict(value: dict) -> None:
    struct = struct_pb2.Struct()
    struct.update(value)
    assert fast.struct_to_dict(struct) == json_format.MessageToDict(struct)
    assert fast.decode_properties(struct) == json_format.MessageToDict(struct)


@pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan])
def test_struct_decoding_refuses_what_message_to_dict_refuses(number: float) -> None:
    struct = struct_pb2.Struct()
    struct.update({"x": number})
    with pytest.raises(ValueError):
        json_format.MessageToDict(struct)
    with pytest.raises(ValueError):
        fast.struct_to_dict(struct)


def test_another_sdk_version_is_refused_loudly() -> None:
    fast.check_sdk_version(fast.CHECKED_SDK_VERSION)
    with pytest.raises(RuntimeError, match="checked against pulumi-policy 1.21.0, but 1.22.0 is installed"):
        fast.check_sdk_version("1.22.0")


def test_install_makes_the_sdk_serve_through_the_shared_decode_servicer() -> None:
    original = sdk._PolicyAnalyzerServicer
    try:
        fast.install()
        assert sdk._PolicyAnalyzerServicer is fast.SharedDecodeServicer
        assert issubclass(fast.SharedDecodeServicer, original)
    finally:
        sdk._PolicyAnalyzerServicer = original
        gc.unfreeze()


def test_the_collector_is_paused_while_serving_and_restored_after() -> None:
    assert gc.isenabled()
    with fast.collector_paused():
        assert not gc.isenabled()
        with fast.collector_paused():  # another request on another server thread
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with fast.collector_paused():
            pass
        assert not gc.isenabled()  # a collector that was off stays off
    finally:
        gc.enable()


def test_runtime_settings_are_applied_once_per_server_thread(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(sdk._PolicyAnalyzerServicer, "_configure_runtime_settings",
                        lambda self: calls.append(threading.get_ident()))
    monkeypatch.setattr(fast, "_thread_state", threading.local())  # no thread has served yet
    pack = Pack().configure(engine_config())
    request = analyzer_pb2.AnalyzeRequest(type="aws:kms/key:Key", urn="urn:pulumi:s::p::aws:kms/key:Key::k",
                                          name="k")

    def serve_twice() -> None:
        # As grpcio serves them: every request in a new, empty context.
        contextvars.Context().run(pack.servicer.Analyze, request, None)
        contextvars.Context().run(pack.servicer.AnalyzeStack, analyzer_pb2.AnalyzeStackRequest(), None)

    serve_twice()  # one server thread: applied on its first request only
    serve_twice()
    assert calls == [threading.get_ident()]
    other = threading.Thread(target=serve_twice)  # another server thread: applied there too
    other.start()
    other.join()
    assert len(calls) == 2 and calls[1] != calls[0]
