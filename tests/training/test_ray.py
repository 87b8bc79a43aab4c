"""`reproduce --ray` (issue 24): each run a Ray task, on one local cluster of two simulated
nodes (``ray.cluster_utils.Cluster``, one CPU each) shared by the module's tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gcnn_viewer import cli
from gcnn_viewer.training import parallel as par
from gcnn_viewer.training import read_run
from gcnn_viewer.training.many_cli import ManyBars
from gcnn_viewer.training.reproduce import RunTask
from tests.test_cli import TinyMnistRot
from tests.training.conftest import tiny_datasets
from tests.training.test_parallel import (
    TABLE,
    DyingWorker,
    assert_same_run,
    sequential,
    untimed,
)

ray = pytest.importorskip("ray")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def two_nodes():
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False}
    )
    cluster.add_node(num_cpus=1)
    # the workers import the tests' own workers (DyingWorker) by name
    ray.init(
        address=cluster.address,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},
    )
    yield cluster
    ray.shutdown()
    cluster.shutdown()


@pytest.fixture
def tiny_data(monkeypatch):
    monkeypatch.setattr(cli, "_load_data", lambda args, recorded=None: TinyMnistRot())


def test_ray_gives_the_sequential_table_and_both_nodes_get_runs(
    two_nodes, tiny_data, tmp_path, monkeypatch
):
    one, two = tmp_path / "one", tmp_path / "two"
    assert cli.main(["reproduce", *TABLE, "--out", str(one)]) == 0
    nodes = set()
    show = ManyBars.show

    def show_and_note(bars, event):
        show(bars, event)
        if event.kind == "started":
            nodes.add(event.node)

    monkeypatch.setattr(ManyBars, "show", show_and_note)
    # connected already (the cluster above): the command uses that connection
    assert cli.main(["reproduce", *TABLE, "--out", str(two), "--ray", "local"]) == 0
    for name in sorted(p.name for p in one.glob("*.pt")):
        assert_same_run(one / name, two / name)
    a, b = (json.loads((d / "results.json").read_text()) for d in (one, two))
    assert untimed(a["rows"]) == untimed(b["rows"]) and len(b["runs"]) == 4
    assert all(r["host"] and r["device"] == "cpu" for r in b["runs"])
    assert nodes == {n["NodeID"] for n in ray.nodes() if n["Alive"]} and len(nodes) == 2


def test_ray_starts_a_dead_worker_s_run_again_from_its_checkpoint(two_nodes, tmp_path):
    out, marks = tmp_path / "runs", tmp_path / "marks"
    out.mkdir()
    marks.mkdir()
    run = RunTask("p4cnn", 1, str(out / "p4cnn-seed1.pt"), epochs=2, device="cpu")
    backend = par.RayTasks(tiny_datasets(), device="cpu", retries=1)
    many = par.ManyRuns([run], backend, worker=DyingWorker(str(marks)))
    events = list(many)
    assert [e.kind for e in events if e.kind != "progress"][-1] == "done", events
    starts = [e.start_step for e in events if e.kind == "started"]
    assert starts == [0, 1]  # the second attempt resumed after the first epoch
    assert [s["from_step"] for s in read_run(run.path).metrics["ran_on"]] == [0, 1]
    assert_same_run(Path(run.path), sequential(run, tmp_path / "alone"))
