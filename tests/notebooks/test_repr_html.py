"""Notebook views: each result object renders one consistent, escaped HTML fragment."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
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
