"""The drift report: dict shape (and back), JSON, and a self-contained HTML page whose size
does not grow with the data."""

from __future__ import annotations

import doctest
import importlib
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mlcycle.monitoring import ColumnStatus, DriftReport, drift


def _frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame(
        {
            "num": rng.normal(size=rows),
            "few": rng.integers(0, 4, rows).astype(np.float64),
            "city": rng.choice([f"city-{i}" for i in range(40)], rows),
            "flag": rng.random(rows) < 0.3,
        }
    )
    cur = ref.assign(num=ref.num + 0.4).drop(columns=["flag"]).assign(new=1)
    return ref, cur


def test_to_dict_shape_and_json() -> None:
    ref, cur = _frames(5000)
    data = drift(ref, cur).to_dict()
    assert set(data) == {"columns", "share", "drifted", "drift_share", "reason"}
    assert list(data["columns"]) == ["num", "few", "city", "flag", "new"]
    num = data["columns"]["num"]
    assert {"method", "score", "threshold", "drifted"} <= set(num)
    assert (num["method"], num["threshold"], num["drifted"], num["status"]) == (
        "wasserstein",
        0.1,
        True,
        "ok",
    )
    assert isinstance(num["score"], float)
    assert isinstance(num["drifted"], bool)
    assert data["columns"]["flag"]["status"] == ColumnStatus.MISSING_IN_CURRENT.value
    assert data["columns"]["flag"]["drifted"] is None
    assert data["share"] == pytest.approx(1 / 3)
    assert data["drifted"] is False
    histogram = num["distribution"]
    assert histogram["kind"] == "histogram"
    assert len(histogram["edges"]) == len(histogram["reference"]) + 1 == 31
    assert sum(histogram["reference"]) == pytest.approx(1.0)
    few = data["columns"]["few"]["distribution"]
    assert few["kind"] == "categories"
    assert few["labels"] == ["0", "1", "2", "3"]
    city = data["columns"]["city"]["distribution"]
    assert len(city["labels"]) == 20
    assert city["labels"][-1] == "(other)"
    assert sum(city["current"]) == pytest.approx(1.0)
    assert json.loads(json.dumps(data)) == data


def test_from_dict_gives_the_report_back() -> None:
    ref, cur = _frames(3000)
    report = drift(ref, cur)
    again = DriftReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.to_dict() == report.to_dict()
    assert again.to_html() == report.to_html()


def test_html_is_self_contained_and_escapes_names() -> None:
    ref, cur = _frames(2000)
    ref["<b>odd & name</b>"] = 1.0
    cur["<b>odd & name</b>"] = 2.0
    page = drift(ref, cur).to_html(title="Drift of <churn>")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert not re.search(r"(src|href)=", page)
    assert page.count("<svg") == 4  # one plot per compared column
    assert "&lt;b&gt;odd &amp; name&lt;/b&gt;" in page
    assert "<b>odd" not in page
    assert "Drift of &lt;churn&gt;" in page
    assert "missing_in_current" in page
    assert "new_in_current" in page


def test_html_size_does_not_depend_on_the_number_of_rows() -> None:
    small = drift(*_frames(2_000)).to_html()
    large = drift(*_frames(200_000)).to_html()
    assert abs(len(large) - len(small)) < 0.02 * len(small)
    assert len(large) < 200_000


def test_repr_html_is_a_fragment() -> None:
    report = drift(*_frames(1500))
    fragment = report._repr_html_()
    assert fragment.startswith('<div class="mlc-drift">')
    assert "<html" not in fragment
    assert "Dataset drift" in fragment
    assert "DriftReport(drifted=" in repr(report)


def test_a_report_with_nothing_compared_says_so() -> None:
    report = drift(pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": [1.0]}))
    assert report.share is None
    assert report.drifted is None
    assert "no column could be compared" in report.to_html()


def test_importing_monitoring_loads_no_pandas_pyarrow_or_scipy() -> None:
    code = (
        "import sys, mlcycle.monitoring\n"
        "print(','.join(m for m in ('pandas', 'pyarrow', 'scipy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == ""


DOCUMENTED = ["", ".data_drift", ".methods", ".stattests", ".wasserstein", ".binning"]


@pytest.mark.parametrize("module", [*DOCUMENTED, ".profile", ".report"])
def test_docstring_examples(module: str) -> None:
    loaded = importlib.import_module(f"mlcycle.monitoring{module}")
    failures, tried = doctest.testmod(loaded, optionflags=doctest.ELLIPSIS)
    assert tried > 0
    assert failures == 0


def test_public_names_are_documented() -> None:
    import mlcycle.monitoring as mon

    for name in ("drift", "DriftReport", "ColumnDrift", "Distribution", "ReferenceProfile"):
        assert name in mon.__all__
        assert getattr(mon, name).__doc__
