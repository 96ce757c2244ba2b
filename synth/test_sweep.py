"""A tiny sweep on a LocalCluster: equal to the points run one by one, cached on the second run, an invalid point
failing alone, a worker killed mid-sweep."""

import json
import os
import shlex
import signal
import threading
import time

import pytest

from synth import sweep
from synth.__main__ import main as synth_main

TINY = """
name = "tiny"
description = "two array sizes, ternary and int8, and one invalid size"
flows = ["generic"]

[[series]]
label = "mac"
base = "mac-ternary-4x4"
vary = { rows = [1, 2, 0], weight_kind = ["ternary", "int8"] }

[[plot]]
x = "ops_per_cycle"
y = "generic.nand2_eq"
"""
COMPARED = ("cells", "total_cells", "nand2_eq", "ffs", "logic_depth", "ops_per_cycle", "config")


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        with Client(cluster) as c:
            yield c


def _kill_a_busy_worker(client, done: threading.Event, killed: list[int]) -> None:
    """Kill (SIGKILL) the process of the first worker seen running a point."""
    while not done.is_set():
        busy = [addr for addr, tasks in client.processing().items() if tasks]
        if busy:
            pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return
        time.sleep(0.05)


@pytest.fixture(scope="module")
def first(client, tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    (root / "tiny.toml").write_text(TINY)
    spec = sweep.load(root / "tiny.toml")
    done, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_a_busy_worker, args=(client, done, killed))
    killer.start()
    try:
        outcome = sweep.run(spec, root / "out", client=client, progress=False, log=lambda line: None)
    finally:
        done.set()
        killer.join()
    return root, spec, outcome, killed


def test_sweep_survives_a_killed_worker_and_the_invalid_point_fails_alone(first):
    root, _, outcome, killed = first
    assert killed, "no worker was seen running a point"
    by_status = {}
    for r in outcome.records:
        by_status.setdefault(r["status"], []).append(r["axes"])
    assert len(by_status["ok"]) == 4 and len(by_status["failed"]) == 2, by_status
    for r in outcome.failures:
        assert r["axes"]["rows"] == 0
        assert "rows must be in 1..256, got 0" in r["error"]
    out = root / "out" / "tiny"
    assert len(list((out / "points").glob("*.json"))) == 6
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["failed"]) == 2 and summary["fronts"][0]["front"]
    md = (out / "summary.md").read_text()
    assert "Failed points:" in md and "| mac | 2 | int8 |" in md
    assert (out / "generic_nand2_eq_vs_ops_per_cycle.png").exists()


def test_sweep_points_equal_synth_run_one_by_one(first, tmp_path):
    _, _, outcome, _ = first
    for r in outcome.records:
        if r["status"] != "ok":
            continue
        argv = shlex.split(r["reproduce"])[3:]  # python -m synth | run <preset> --set ...
        assert synth_main([*argv, "--flows", "generic", "--jobs", "1", "--out", str(tmp_path)]) == 0
        alone = json.loads((tmp_path / r["preset"] / "generic.json").read_text())
        mine = r["reports"]["generic"]
        assert {k: mine[k] for k in COMPARED} == {k: alone[k] for k in COMPARED}, r["id"]


def test_second_run_reads_every_result_from_the_cache(first, client):
    root, spec, outcome, _ = first
    again = sweep.run(spec, root / "out", client=client, progress=False, log=lambda line: None)
    assert again.computed == 0
    for old, new in zip(outcome.records, again.records, strict=True):
        assert new["status"] == old["status"]
        if old["status"] == "ok":
            assert new["cached"] == ["generic"] and new["reports"] == old["reports"]


def test_sweep_file_errors_name_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    cases = {
        'flows = ["gates"]\n[[series]]\nlabel = "a"\nbase = "mac-ternary-4x4"\n': "unknown flow 'gates'",
        '[[series]]\nlabel = "a"\nbase = "x"\nvary = { rows = [1, 2], cols = [1] }\nzip = [["rows", "cols"]]\n':
            "different lengths",
        '[[series]]\nlabel = "a"\nbase = "x"\nvary = { rows = { from = 4, to = 2 } }\n': "from <= to",
        '[[series]]\nbase = "x"\n': "missing ['label']",
        'flows = []\n[[series]]\nlabel = "a"\nbase = "x"\n': "nothing to run",
        'colour = 1\n': "unknown key 'colour'",
    }
    for text, message in cases.items():
        bad.write_text(text)
        with pytest.raises(sweep.SweepError, match=message.replace("[", r"\[").replace("]", r"\]")):
            sweep.load(bad)


def test_axes_cross_and_zip(tmp_path):
    path = tmp_path / "axes.toml"
    path.write_text('[bench]\nrun = "m:f"\nvary = { s = [0, 1] }\n'
                    '[[series]]\nlabel = "a"\nbase = "p"\nvary = { rows = { from = 2, to = 6, step = 2 }, '
                    'cols = [3, 5, 7], k = [1, 2] }\nzip = [["rows", "cols"]]\n')
    points = sweep.load(path).points()
    assert len(points) == 3 * 2 * 2
    assert points[0].axes == {"rows": 2, "cols": 3, "k": 1, "s": 0}
    assert {(p.fields["rows"], p.fields["cols"]) for p in points} == {(2, 3), (4, 5), (6, 7)}
    assert points[0].reproduce == "python -m synth run p --set rows=2 --set cols=3 --set k=1"


def test_pareto_front():
    pts = [(1, 10), (2, 12), (2, 9), (4, 30), (4, 40), (8, 100)]
    # ops per cycle: larger is better; area: smaller is better
    assert sweep.pareto(pts, x_larger=True, y_larger=False) == [2, 3, 5]
