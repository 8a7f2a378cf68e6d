"""The dataset service built by hand: injected clock and IDs make it deterministic."""

from __future__ import annotations

from pathlib import Path

from mlcycle.artifacts.local import LocalArtifactStore
from mlcycle.clock import ManualClock
from mlcycle.datasets.service import DatasetService, content_key, make_transform
from mlcycle.entities import ProfileSettings, Transform
from mlcycle.ids import SequentialIds
from mlcycle.store.sql.store import SqlStore
from tests.datasets.conftest import frame


def test_clock_ids_and_settings_are_injected(store: SqlStore, tmp_path: Path) -> None:
    clock = ManualClock(1_000)
    service = DatasetService(
        store.datasets,
        LocalArtifactStore(tmp_path),
        clock=clock,
        new_id=SequentialIds(),
        profile_settings=ProfileSettings(top_k=2, bins=5),
        batch_rows=64,
    )
    v = service.register("churn", frame())
    assert v.created_at == 1_000
    assert v.id == f"{2:032x}"  # after the temporary file's ID
    assert v.storage_key == content_key(v.digest)
    assert len(v.profile.column("label").top_values) == 2
    assert v.profile.settings.bins == 5
    clock.advance(5)
    again = service.register("other", frame())
    assert again.created_at == 1_005
    assert service.get("churn").load().shape == (200, 5)


def test_make_transform() -> None:
    def scale(x: float) -> float:
        return x

    assert make_transform("fill", {"v": 1}) == Transform(name="fill", params={"v": 1})
    made = make_transform(scale, {"f": Path("a")})
    assert made.name == "scale"
    assert made.params == {"f": "a"}  # not JSON: stored as text
    assert made.code_ref is not None
    assert made.code_ref.endswith(":test_make_transform.<locals>.scale")
    given = Transform(name="t", params={"a": 1}, code_ref="x")
    assert make_transform(given, {"b": 2}) == Transform(
        name="t", params={"a": 1, "b": 2}, code_ref="x"
    )
    assert make_transform(lambda x: x).name == "lambda"
