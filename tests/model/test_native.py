"""torch's native libraries open without holding Python's lock, in a process that has not
imported torch (a child: this one has)."""

import json
import subprocess
import sys

import pytest

CHILD = r"""
import json, sys, threading, time
from clef_app.model.native import load_torch_libraries

ticks, stop = [], threading.Event()

def count():
    while not stop.is_set():
        ticks.append(time.perf_counter())
        time.sleep(0.001)

counter = threading.Thread(target=count)
counter.start()
time.sleep(0.05)
began = time.perf_counter()
opened = load_torch_libraries()
ended = time.perf_counter()
stop.set()
counter.join()
inside = [began] + [t for t in ticks if began < t < ended] + [ended]
imported = "torch" in sys.modules
import torch

print(json.dumps({"opened": opened, "took": ended - began, "imported": imported,
                  "longest": max(b - a for a, b in zip(inside, inside[1:])),
                  "works": float(torch.ones(3) @ torch.ones(3))}))
"""


def test_torch_libraries_open_while_other_threads_run():
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux only: elsewhere it does nothing")
    run = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout.splitlines()[-1])
    assert got["opened"] == ["libtorch_global_deps.so", "libtorch.so"]
    assert not got["imported"] and got["works"] == 3.0  # torch imports after it as before
    # the counting thread ran all along: no one piece of the opening held the lock (the
    # same opening through Python's own dlopen holds it throughout: longest == took)
    assert got["longest"] < 0.5 * got["took"], got


def test_nothing_to_do_once_torch_is_imported():
    import torch  # noqa: F401

    from clef_app.model.native import load_torch_libraries

    assert load_torch_libraries() == []
