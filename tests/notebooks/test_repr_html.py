"""Notebook views: each result object renders one consistent, escaped HTML fragment."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import mlcycle


class _Checker(HTMLParser):
    """Collects the text and checks that every opened tag is closed, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag != "br":
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1:] == [tag], (self.stack, tag)
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _render(obj: object) -> tuple[str, set[str]]:
    fragment = obj._repr_html_()  # type: ignore[attr-defined]
    assert isinstance(fragment, str)
    checker = _Checker()
    checker.feed(fragment)
    checker.close()
    assert checker.stack == []
    assert "table" in checker.tags  # one look: compact tables
    return " ".join(checker.text), checker.tags


def test_every_view_renders(tmp_path: Path) -> None:
    client = mlcycle.Client(f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path / "art"))
    with client:
        exp = client.create_experiment(
            "<churn>", task="classification", primary_metric="auc", threshold=0.8
        )
        frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0] * 5, "y": [0, 0, 1, 1] * 5})
        model = LogisticRegression().fit(frame[["x"]], frame["y"])
        with mlcycle.start_run(exp, name="lr", client=client) as run:
            for step, loss in enumerate([0.9, 0.5, 0.3, float("nan"), 0.2]):
                run.log_metric("loss", loss, step=step)
            run.log_model(model, "model", register="churn")
            result = mlcycle.evaluate(
                model, frame, target="y", slices=["x"], run=run, client=client
            )
        text, _ = _render(client.get_experiment(exp.id))
        assert "Experiment <churn>" in text  # escaped, shown as written
        assert "auc (maximize, success at 0.8)" in text
        text, _ = _render(client.get_run(run.id))
        assert "metrics.loss" in text
        text, _ = _render(client.search_runs(exp.id))
        assert "1 runs" in text
        text, tags = _render(client.get_metric_history(run.id, "loss"))
        assert "svg" in tags
        assert "polyline" in tags
        assert "Min 0.2" in " ".join(text.split())
        text, _ = _render(mlcycle.registry.get_version("churn", 1, client=client))
        assert "churn version 1" in text
        text, _ = _render(result)
        assert "By x" in text
        ref = pd.DataFrame({"x": [1.0, 2.0, 3.0] * 20})
        _render(mlcycle.monitoring.drift(ref, ref.assign(x=ref.x + 5)))


def test_an_explained_evaluation_shows_its_top_features_with_intervals() -> None:
    rng = np.random.default_rng(0)
    columns = [f"f{i}" for i in range(12)] + ["<odd & name>"]
    frame = pd.DataFrame(rng.normal(size=(300, len(columns))), columns=columns)
    frame["y"] = (2.0 * frame["f0"] - frame["f1"] + rng.normal(0, 0.5, 300) > 0).astype(int)
    model = RandomForestClassifier(n_estimators=20, random_state=0).fit(frame[columns], frame["y"])
    result = mlcycle.evaluate(model, frame, target="y", explain=True, seed=0)
    assert result.explanation is not None
    fragment = result._repr_html_()
    text, tags = _render(result)
    assert "svg" in tags  # the interval bars
    assert fragment.count("<rect") == 10  # the top 10 of 13 features, one bar each
    assert "the top 10 of 13" in text
    table = result.explanation.importance.table()
    assert table[0]["feature"] == "f0"
    # each row: rank, feature, importance, interval, bar (and mean |SHAP| for trees)
    first = f"{table[0]['importance']:.4g}"
    interval = f"[{table[0]['ci_low']:.4g}, {table[0]['ci_high']:.4g}]"
    assert f"1 f0 {first} {interval}" in " ".join(text.split())
    assert "Mean |SHAP|" in text
    assert "SHAP (tree)" in text
    # a feature name is escaped wherever it shows
    shown = {row["feature"] for row in table[:10]}
    assert ("<odd & name>" in shown) == ("&lt;odd &amp; name&gt;" in fragment)
    assert "<odd & name>" not in fragment
    # without an explanation the view has no importance table
    plain = mlcycle.evaluate(model, frame, target="y")
    assert "Permutation importance" not in plain._repr_html_()
