"""Import paths shared by every test: the repository root (offline_preview, components), policy/, and
this directory (helpers shared across test directories, such as ``pack_in_process``)."""

import gc
import sys
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


@pytest.fixture(scope="module")
def moto_endpoint():
    """A local AWS API stand-in (moto's server) on 127.0.0.1, one per test module; its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
