"""``build_context``: the files of a context, their reproducibility, the lock, the labels,
and the refusals (retired versions, untrusted types, code that cannot be found)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import mlcycle
from mlcycle.containers import ContextSpec, build_context
from mlcycle.containers.dockerfile import labels
from mlcycle.containers.healthcheck import main_process_port, port_in
from mlcycle.containers.server import prepare, serve_context
from mlcycle.errors import InvalidInputError, ModelRetiredError, UntrustedTypesError
from mlcycle.models.manifest import ModelManifest
from tests.containers.conftest import FLAKY, Registered, log_churn_on_data


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_a_context_holds_everything_the_image_needs(registered: Registered, out: Path) -> None:
    v = registered.churn
    built = build_context(v.uri, out, client=registered.client, hashes=False)
    names = set(_files(out))
    assert {
        "Dockerfile",
        ".dockerignore",
        "requirements.lock",
        "mlcycle-context.json",
        f"wheels/mlcycle-{mlcycle.__version__}-py3-none-any.whl",
        "model/model.json",
        "model/model.skops",
    } <= names
    spec = ContextSpec.read(out)
    assert (spec.model_name, spec.version, spec.run_id) == (v.name, v.version, v.run_id)
    assert set(spec.files) == {n.removeprefix("model/") for n in names if n.startswith("model/")}
    assert built.tag == f"churn:{v.version}"
    # the lineage travels in the labels: model, version, run, dataset digests, mlcycle
    data = registered.client.datasets.get("churn-data", 1)
    found = labels(spec)
    assert found["io.mlcycle.model.name"] == "churn"
    assert found["io.mlcycle.model.version"] == str(v.version)
    assert found["io.mlcycle.run-id"] == v.run_id
    assert json.loads(found["io.mlcycle.datasets"]) == [
        {"name": "churn-data", "version": 1, "digest": data.digest, "context": "train"}
    ]
    assert found["io.mlcycle.version"] == mlcycle.__version__
    dockerfile = (out / "Dockerfile").read_text()
    assert f'io.mlcycle.run-id="{v.run_id}"' in dockerfile
    assert "ARG BASE_IMAGE=python:3." in dockerfile
    assert "EXPOSE 8080" in dockerfile
    assert "HEALTHCHECK" in dockerfile
    assert "USER 10001:10001" in dockerfile


def test_the_same_model_gives_byte_identical_files(registered: Registered, tmp_path: Path) -> None:
    uri = registered.churn.uri
    build_context(uri, tmp_path / "a", client=registered.client, hashes=False)
    build_context(uri, tmp_path / "b", client=registered.client, hashes=False)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_the_lock_pins_the_logged_libraries_and_only_what_serving_needs(
    registered: Registered, out: Path
) -> None:
    built = build_context(registered.churn.uri, out, client=registered.client, hashes=False)
    manifest = ModelManifest.read(out / "model")
    for name, version in manifest.libraries.items():
        assert built.lock.version_of(name) == version, name
    pinned = set(built.lock.names())
    assert {"uvicorn", "pyarrow", "orjson", "prometheus-client"} <= pinned
    assert not pinned & {"matplotlib", "plotly", "optuna", "alembic", "fastapi", "mlcycle"}
    text = (out / "requirements.lock").read_text()
    assert "No hashes" in text
    assert "--hash" not in text
    assert "--require-hashes" not in (out / "Dockerfile").read_text()
    for pin in built.lock.pins:
        assert f"\n{pin.name}=={pin.version}\n" in text


def test_an_alias_is_pinned_to_its_version(registered: Registered, out: Path) -> None:
    client = registered.client
    mlcycle.registry.set_alias("churn", "images", registered.churn.version, client=client)
    built = build_context("models:/churn@images", out, client=client, hashes=False)
    assert built.spec.model_uri == registered.churn.uri
    assert built.spec.version == registered.churn.version


def test_a_retired_version_is_refused_and_nothing_is_written(
    registered: Registered, out: Path
) -> None:
    client = registered.client
    old = log_churn_on_data(client, seed=3)
    client.governance.retire("churn", old.version, reason="superseded")
    with pytest.raises(ModelRetiredError, match=f"churn/{old.version} is retired"):
        build_context(old.uri, out, client=client, hashes=False)
    assert not out.exists()


def test_a_non_empty_output_is_refused_unless_overwritten(
    registered: Registered, out: Path
) -> None:
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(InvalidInputError, match="is not empty") as caught:
        build_context(registered.churn.uri, out, client=registered.client, hashes=False)
    assert caught.value.field == "output"
    build_context(registered.churn.uri, out, client=registered.client, hashes=False, overwrite=True)
    assert not (out / "notes.txt").exists()


def test_a_python_model_needs_its_class_trusted(registered: Registered, out: Path) -> None:
    with pytest.raises(UntrustedTypesError, match=FLAKY) as caught:
        build_context(f"models:/flaky/{registered.flaky}", out, client=registered.client)
    assert caught.value.types == [FLAKY]
    assert not out.exists()


def test_a_python_model_gets_its_code_files(registered: Registered, out: Path) -> None:
    built = build_context(
        f"models:/flaky/{registered.flaky}",
        out,
        client=registered.client,
        trusted=[FLAKY],
        hashes=False,
    )
    code = sorted(p.relative_to(out / "code").as_posix() for p in (out / "code").rglob("*.py"))
    assert code == ["tests/__init__.py", "tests/serving/__init__.py", "tests/serving/_models.py"]
    assert built.spec.code_paths == ("code",)
    assert "COPY code/ ./code/" in (out / "Dockerfile").read_text()
    # numpy and pandas, which the model's module imports, are pinned
    assert {"numpy", "pandas"} <= set(built.lock.names())


def test_code_that_cannot_be_found_is_refused_by_name(
    registered: Registered, tmp_path: Path
) -> None:
    source = tmp_path / "model"
    shutil.copytree(
        mlcycle.models.load(
            f"models:/flaky/{registered.flaky}", [FLAKY], client=registered.client
        ).path,
        source,
    )
    manifest = json.loads((source / "model.json").read_text())
    manifest["model_class"] = "teamcode.scoring.Flaky"
    (source / "model.json").write_text(json.dumps(manifest))
    with pytest.raises(InvalidInputError, match=r"module 'teamcode\.scoring'") as caught:
        build_context(str(source), tmp_path / "out", trusted=[FLAKY], hashes=False)
    assert caught.value.field == "model_class"


def test_a_changed_model_file_stops_the_entry_point(registered: Registered, out: Path) -> None:
    build_context(registered.churn.uri, out, client=registered.client, hashes=False)
    prepare(out)  # intact
    (out / "model" / "model.skops").write_bytes(b"tampered")
    with pytest.raises(InvalidInputError, match=r"model\.skops changed since the context"):
        prepare(out)


def test_the_healthcheck_follows_the_port_the_entry_point_was_given(tmp_path: Path) -> None:
    cmdline = tmp_path / "cmdline"
    entry = ["python", "-m", "mlcycle.containers.entrypoint", "--context", "/opt/mlcycle"]
    cmdline.write_bytes("\0".join([*entry, "--host", "0.0.0.0", "--port", "9000"]).encode())
    assert main_process_port(cmdline) == 9000
    cmdline.write_bytes("\0".join([*entry, "--port=9100"]).encode())
    assert main_process_port(cmdline) == 9100
    cmdline.write_bytes("\0".join(entry).encode())
    assert main_process_port(cmdline) is None  # the context's port then
    cmdline.write_bytes(b"/sbin/init\0--port\x009000")
    assert main_process_port(cmdline) is None  # not the entry point
    assert port_in(["--port", "x"]) is None


def test_the_entry_point_refuses_a_prediction_log_it_cannot_write(
    registered: Registered, out: Path
) -> None:
    build_context(registered.churn.uri, out, client=registered.client, hashes=False)
    settings = mlcycle.Settings(tracking_uri="sqlite://", artifact_uri="s3://bucket/logs")
    with pytest.raises(InvalidInputError, match="MLCYCLE_ARTIFACT_URI") as caught:
        serve_context(out, port=0, settings=settings)
    assert caught.value.field == "artifact_uri"
