"""Search, compare, delete, restore and gc through the client."""

from __future__ import annotations

import pytest

import mlcycle
from mlcycle import Client


def _populate(client: Client) -> list[str]:
    client.create_experiment(
        "search-exp",
        task="classification",
        target="y",
        primary_metric="auc",
        threshold=0.7,
    )
    ids = []
    for i in range(4):
        with mlcycle.start_run(experiment="search-exp", name=f"s{i}") as run:
            run.log_params({"p1": "ab"[i % 2], "n": i})
            run.log_metrics({"auc": 0.6 + i / 10, "loss": 1.0})
        ids.append(run.id)
    return ids


def test_search_by_name_filter_order_and_pandas(client: Client) -> None:
    ids = _populate(client)
    runs = client.search_runs(
        ["search-exp"],
        filter="metrics.auc > 0.65 and params.p1 = 'b'",
        order_by=["metrics.auc DESC"],
    )
    assert [r.name for r in runs] == ["s3", "s1"]
    frame = runs.to_pandas()
    assert list(frame["name"]) == ["s3", "s1"]
    assert list(frame["metrics.auc"]) == pytest.approx([0.9, 0.7])
    assert list(frame["params.p1"]) == ["b", "b"]
    by_id = client.search_runs(client.get_experiment("search-exp").id, max_results=3)
    assert len(by_id) == 3
    assert by_id.next_page_token is not None
    rest = client.search_runs("search-exp", max_results=3, page_token=by_id.next_page_token)
    assert [r.id for r in by_id] + [r.id for r in rest] == ids[::-1]


def test_syntax_errors_name_the_position(client: Client) -> None:
    _populate(client)
    with pytest.raises(mlcycle.FilterSyntaxError, match="position 14") as info:
        client.search_runs("search-exp", filter="metrics.auc > ")
    assert info.value.position == 14
    with pytest.raises(mlcycle.NotFoundError, match="no-such"):
        client.search_runs("no-such", filter=None)


def test_compare_shows_what_differs(client: Client) -> None:
    ids = _populate(client)
    comparison = client.compare_runs(ids[:2])
    assert comparison.params == {"n": ["0", "1"], "p1": ["a", "b"]}
    assert comparison.metrics == {"auc": [pytest.approx(0.6), pytest.approx(0.7)]}
    assert comparison.same_metrics == {"loss": 1.0}
    frame = comparison.to_pandas()
    assert list(frame.columns) == ["s0", "s1"]
    assert "metrics.loss" not in frame.index
    assert "metrics.loss" in client.compare_runs(ids[:2], all_keys=True).to_pandas().index
    with pytest.raises(mlcycle.InvalidInputError, match="two"):
        client.compare_runs(ids[:1])


def test_delete_restore_and_gc(client: Client) -> None:
    ids = _populate(client)
    with mlcycle.start_run(parent=ids[0]) as child:
        child.log_text("x", "f.txt")
    client.delete_run(ids[0])
    names = [r.name for r in client.search_runs("search-exp")]
    assert "s0" not in names
    assert child.id not in [r.id for r in client.search_runs("search-exp")]
    assert len(client.search_runs("search-exp", include_deleted=True)) == 5
    client.restore_run(ids[0])
    assert len(client.search_runs("search-exp")) == 5
    client.delete_run(ids[0])
    assert client.gc(older_than="1d") == {"runs": 0, "experiments": 0}
    assert client.gc(older_than=0) == {"runs": 2, "experiments": 0}
    with pytest.raises(mlcycle.NotFoundError):
        client.get_run(child.id)
    client.delete_experiment("search-exp")
    assert "search-exp" not in [e.name for e in client.list_experiments()]
    assert client.gc(older_than="0s") == {"runs": 3, "experiments": 1}
    with pytest.raises(mlcycle.InvalidInputError, match="duration"):
        client.gc(older_than="soon")


def test_experiments_lifecycle(client: Client) -> None:
    exp = client.create_experiment(
        "life",
        task="regression",
        target="price",
        primary_metric="rmse",
        direction="minimize",
        threshold=10.0,
        description="d",
        tags={"team": "x"},
    )
    assert exp.problem.meets(9.0)
    assert not exp.problem.meets(11.0)
    with pytest.raises(mlcycle.AlreadyExistsError):
        client.create_experiment("life")
    with pytest.raises(mlcycle.InvalidInputError, match="task"):
        client.create_experiment("bad", task="clustering")
    with pytest.raises(mlcycle.InvalidInputError, match="primary_metric"):
        client.create_experiment("bad", threshold=0.5)
    renamed = client.rename_experiment("life", "life2")
    assert client.get_experiment(exp.id).name == "life2" == renamed.name
    client.set_experiment_tags("life2", {"stage": "prod"})
    assert client.get_experiment("life2").tags == {"team": "x", "stage": "prod"}
    client.delete_experiment("life2")
    with pytest.raises(mlcycle.InvalidInputError, match="deleted"):
        mlcycle.start_run(experiment="life2")
    client.restore_experiment("life2")
    with mlcycle.start_run(experiment="life2"):
        pass
