"""The stack trace the Pulumi Python SDK sends with each resource registration, built without reading
source files.

``pulumi.runtime.resource._get_stack_trace`` (checked against pulumi 3.272.0, the version
``requirements.txt`` pins) takes ``traceback.extract_stack()``, which looks up the source text of every
frame through ``linecache``, then turns each frame's file name into a ``file://`` URI with ``pathlib``.
Under the mock runtime that is about 0.3 ms per resource, a sixth of a program run. Only file names
and line numbers reach the request (``StackFrame.pc``, and ``sourcePosition``, which is the first
frame's), so ``stack_trace`` builds the same ``StackTrace`` from the frames themselves and remembers
each file's URI.

``install`` puts it in place of the SDK's function for the pinned SDK version only; with any other
version the SDK's own function stays. ``tests/preview/test_source_positions.py`` compares the two on
the same call stacks.
"""

from __future__ import annotations

import importlib.metadata
import pathlib
import sys

import pulumi.runtime.resource as sdk_resource
from pulumi.runtime.proto import source_pb2

CHECKED_SDK_VERSION = "3.272.0"
SDK_STACK_TRACE = sdk_resource._get_stack_trace  # the SDK's own, kept for comparison

_uris: dict[str, str | None] = {}


def _uri(filename: str) -> str | None:
    """``pathlib.Path(filename).as_uri()``, or None where the SDK gets None (an error, e.g. a relative
    name such as ``<string>``)."""
    try:
        return _uris[filename]
    except KeyError:
        try:
            uri: str | None = pathlib.Path(filename).as_uri()
        except BaseException:  # noqa: BLE001 - the SDK catches every error here as well
            uri = None
        _uris[filename] = uri
        return uri


def stack_trace() -> source_pb2.StackTrace:
    """What ``_get_stack_trace`` returns when called from the same frame: the frames older than the
    third ``__init__`` frame (counted from the innermost: Resource, CustomResource or
    ComponentResource, then the concrete resource class), innermost first; empty when there are fewer
    than three or nothing older."""
    frame = sys._getframe(1)
    inits = 0
    while frame is not None:
        if frame.f_code.co_name == "__init__":
            inits += 1
            if inits == 3:
                break
        frame = frame.f_back
    if frame is None or frame.f_back is None:
        return source_pb2.StackTrace()
    frames = []
    older = frame.f_back
    while older is not None:
        filename = older.f_code.co_filename
        lineno = older.f_lineno
        uri = _uri(filename) if filename != "" and lineno is not None else None
        frames.append(source_pb2.StackFrame(pc=source_pb2.SourcePosition(uri=uri, line=lineno))
                      if uri is not None else source_pb2.StackFrame())
        older = older.f_back
    return source_pb2.StackTrace(frames=frames)


def install() -> bool:
    """Use ``stack_trace`` for the SDK's registrations when the installed SDK is the checked version;
    whether it is in place."""
    if sdk_resource._get_stack_trace is stack_trace:
        return True
    if importlib.metadata.version("pulumi") != CHECKED_SDK_VERSION:
        return False
    sdk_resource._get_stack_trace = stack_trace
    return True
