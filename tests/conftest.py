"""Import paths shared by every test: the repository root (offline_preview, components), policy/, and
this directory (helpers shared across test directories, such as ``pack_in_process``)."""

import atexit
import gc
import os
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "policy"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
# Last, so that its subdirectories (policy/, program/ ...) never shadow a package of the same name.
if str(ROOT / "tests") not in sys.path:
    sys.path.append(str(ROOT / "tests"))


def pytest_collection_finish(session) -> None:
    """Make the cyclic garbage collector cheaper for the rest of the run (in each xdist worker).

    Collection has imported the SDK, pulumi_aws and the pack: about a million long-lived objects that
    every full collection would walk again. ``gc.freeze`` moves them out of the collector's view, and a
    larger first-generation threshold makes collections rarer while each program run under the mocks
    creates tens of thousands of short-lived objects (futures, outputs, tasks). Nothing about what the
    tests check changes; unreachable cycles are still collected, only less often.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session) -> None:
    """In an xdist worker, nothing is left for the collection after the session.

    After the session, pytest's unraisable-exception plugin runs a full ``gc.collect()`` to report
    ``__del__`` errors of garbage cycles. In a worker that pass frees the few hundred thousand objects
    of the session's last program runs, about a second at the end of the run that the whole suite
    waits for, and whatever it finds cannot be reported: the worker has sent its last report and the
    controller never shows the error (a ``__del__`` that raises in a cycle left by a test is reported
    without xdist, ``-n0``, and not with it, before this hook as after). Errors raised while a test
    runs are still reported with that test. The worker leaves right after without a teardown, so the
    objects are frozen rather than collected.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config) -> None:
    """An xdist worker leaves without the interpreter's teardown, as the preview command leaves.

    By the time its interpreter exits, a worker has sent every report to the controller; what is left
    is freeing the SDK, pulumi_aws, moto, DuckDB and every test's objects module by module, about 1.5 s
    per worker that the whole run waits for. Registered last, the exit runs first among the atexit
    handlers, after every thread has been joined; output is flushed first. A run without xdist exits
    as usual.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return

    def leave() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    atexit.register(leave)


@pytest.fixture(scope="module")
def moto_endpoint():
    """A local AWS API stand-in (moto's server) on 127.0.0.1, one per test module; its URL.

    Served as moto's ``ThreadedMotoServer`` serves it, but polling for shutdown every 0.02 s rather
    than socketserver's 0.5 s, which every module would otherwise wait out at teardown."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=True,
                         request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              name="moto-server", daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}"
    server.shutdown()
    server.server_close()
    thread.join()
