"""The offline preview's stack trace for a registration equals the SDK's own on the same call stacks
(``offline_preview.source_positions``), and a program run records the same source positions with it."""

from __future__ import annotations

import importlib.metadata

import pulumi.runtime.resource as sdk_resource
import pytest
from preview_helpers import REPO
from pulumi.runtime.proto import source_pb2

from offline_preview import runner, source_positions


def _sdk() -> source_pb2.StackTrace:
    return source_positions.SDK_STACK_TRACE()


def _both() -> tuple[source_pb2.StackTrace, source_pb2.StackTrace]:
    # Both called from this frame, which is newer than any frame either returns.
    return _sdk(), source_positions.stack_trace()


class _Resource:  # the SDK's Resource.__init__, then CustomResource's, then the concrete class's
    def __init__(self) -> None:
        self.traces = _both()


class _Custom(_Resource):
    def __init__(self) -> None:
        super().__init__()


class _Bucket(_Custom):
    def __init__(self) -> None:
        super().__init__()


class _Component:
    def __init__(self) -> None:
        self.child = _Bucket()


def _made_by_user_code():
    return _Bucket()


def _made_by_a_component():
    return _Component().child


def test_the_checked_version_is_the_pinned_one() -> None:
    assert importlib.metadata.version("pulumi") == source_positions.CHECKED_SDK_VERSION


@pytest.mark.parametrize("make", [_made_by_user_code, _made_by_a_component, lambda: _Bucket()],
                         ids=["user-code", "component", "lambda"])
def test_same_frames_as_the_sdk(make) -> None:
    sdk, ours = make().traces
    assert len(sdk.frames) > 3
    assert ours == sdk
    # The first frame is the registration's source position: the line that made the resource.
    assert ours.frames[0].pc.uri.endswith("test_source_positions.py")


def test_fewer_than_three_inits_is_an_empty_trace_as_in_the_sdk() -> None:
    class Lone:
        def __init__(self) -> None:
            self.traces = _both()

    sdk, ours = Lone().traces
    assert sdk == ours == source_pb2.StackTrace()


def test_a_file_name_that_is_not_a_path_has_no_position_as_in_the_sdk() -> None:
    namespace: dict = {"_Bucket": _Bucket}
    exec(compile("made = _Bucket()", "<generated>", "exec"), namespace)  # noqa: S102 - a frame without a file
    sdk, ours = namespace["made"].traces
    assert ours == sdk
    assert not ours.frames[0].HasField("pc")


def test_a_program_run_uses_it_and_records_the_same_positions_as_with_the_sdks(monkeypatch) -> None:
    with_adapter = runner.run_program(REPO, "dev")
    assert sdk_resource._get_stack_trace is source_positions.stack_trace
    monkeypatch.setattr(source_positions, "install", lambda: False)
    monkeypatch.setattr(sdk_resource, "_get_stack_trace", source_positions.SDK_STACK_TRACE)
    without = runner.run_program(REPO, "dev")

    def positions(run: runner.ProgramRun) -> list[tuple]:
        return sorted((r.urn, r.source_file or "", r.source_line or 0) for r in run.resources)

    assert positions(with_adapter) == positions(without)
    assert sum(r.source_line is not None for r in without.resources) > 20
