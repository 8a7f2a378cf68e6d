"""Batch prediction over the client: ``mlcycle.batch.predict``.

This module resolves what the user names - a model URI (through the registry for
``models:/``, refusing retired and failed versions) and an input (a path, or a registered
dataset ``NAME@VERSION``) - and hands the job to :func:`mlcycle.batch.job.run_batch`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlcycle.batch.executors import Executor, ThreadExecutor, executor_for
from mlcycle.batch.results import DEFAULT_CHUNK_ROWS, BatchResult, ModelIdentity, Progress
from mlcycle.client.client import Client
from mlcycle.client.fluent import get_client
from mlcycle.client.models import load
from mlcycle.entities import DatasetVersion, ModelVersionStatus
from mlcycle.entities.governance import RETIRED_REASON_TAG
from mlcycle.errors import ConflictError, InvalidInputError, ModelRetiredError, NotFoundError
from mlcycle.models.loaded import LoadedModel
from mlcycle.models.uris import LocalModelUri, RegisteredModelUri, RunModelUri, parse_model_uri

if TYPE_CHECKING:
    from mlcycle.batch.sources import ChunkSource

ModelRef = str | os.PathLike[str] | LoadedModel
InputRef = str | os.PathLike[str] | DatasetVersion


def predict(
    model: ModelRef,
    input: InputRef,
    output: str | os.PathLike[str],
    *,
    workers: int = 1,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    keep: Sequence[str] = (),
    probabilities: bool | None = None,
    model_columns: bool = False,
    restart: bool = False,
    explain: bool = False,
    executor: Executor | str | None = None,
    progress: Progress | None = None,
    trusted: Sequence[str] | None = None,
    client: Client | None = None,
) -> BatchResult:
    """Predict every row of ``input`` with ``model`` and write a Parquet file ``output``.

    Args:
        model: ``models:/NAME/VERSION``, ``models:/NAME@ALIAS``, ``runs:/RUN_ID/PATH``, a
            model directory, or a :class:`~mlcycle.models.LoadedModel`. A retired or
            failed registry version is refused (ConflictError).
        input: a Parquet file, a directory of Parquet files, a CSV file, a registered
            dataset (``"NAME@VERSION"``, ``"NAME"`` for its latest version, or a
            :class:`~mlcycle.entities.DatasetVersion`).
        output: the Parquet file to write: the ``keep`` columns, ``prediction`` and, for
            classifiers, ``proba_<class>`` per class, in input order; or an
            ``s3://bucket/prefix`` to write partitioned Parquet there (one
            ``part-NNNNNN.parquet`` per chunk, written by the workers). The file's metadata
            names the model (``mlcycle.model_uri``, ``mlcycle.model_name``,
            ``mlcycle.model_version``...); ``model_columns=True`` adds them as columns.
        workers: chunks predicted at the same time (by threads unless ``executor`` says
            otherwise), ignored with an :class:`~mlcycle.batch.Executor` instance.
        chunk_rows: rows per chunk: memory holds a few chunks at a time.
        probabilities: None writes class probabilities when the model has
            ``predict_proba``; False leaves them out.
        explain: add ``shap_<feature>`` columns: each row's SHAP values (of the
            positive class's log-odds or probability for a binary classifier, of the
            prediction for a regressor; see :mod:`mlcycle.evaluation.explainers`).
            Needs the ``shap`` package (``pip install 'mlcycle[explain]'``).
        restart: discard finished chunks of an earlier run with other arguments instead
            of refusing to resume.
        executor: where chunks run: ``"thread"`` (the default, threads of this process),
            ``"process"`` (processes of this machine), ``"ray"`` (tasks on the Ray
            cluster ``RAY_ADDRESS`` names, else a local one), or an Executor instance.
        progress: called as ``progress(rows_done, rows_total_or_None)`` after each chunk.

    Returns:
        A :class:`~mlcycle.batch.BatchResult` (rows, chunks computed and resumed, model).

    Raises:
        InvalidInputError: a missing input, a column the signature needs that the input
            lacks or has with the wrong type (named), a bad option; nothing is written.
        ConflictError: a retired version, or finished chunks of a job with other
            arguments (use ``restart=True``).
        PredictionFailedError: the model raised; finished chunks are kept for a rerun.

    >>> result = mlcycle.batch.predict(  # doctest: +SKIP
    ...     "models:/churn@champion", "customers.parquet", "scores.parquet", keep=["id"]
    ... )
    >>> result.rows, result.resumed_chunks  # doctest: +SKIP
    (1000000, 0)
    """
    # pandas and pyarrow load here, on first use: importing mlcycle.batch (and the CLI,
    # which imports it) stays cheap.
    from mlcycle.batch.job import run_batch

    loaded, identity = _resolve_model(model, trusted, client)
    source = _resolve_input(input, client)
    _check_not_in_input(input, output)
    own = not isinstance(executor, Executor)
    runner = (
        executor if isinstance(executor, Executor) else executor_for(executor or "thread", workers)
    )
    try:
        return run_batch(
            loaded,
            identity,
            source,
            output,
            executor=runner,
            chunk_rows=chunk_rows,
            keep=keep,
            probabilities=probabilities,
            model_columns=model_columns,
            restart=restart,
            progress=progress,
            explain=explain,
        )
    finally:
        if own and isinstance(runner, ThreadExecutor):
            runner.close()


def _resolve_model(
    model: ModelRef, trusted: Sequence[str] | None, client: Client | None
) -> tuple[LoadedModel, ModelIdentity]:
    if isinstance(model, LoadedModel):
        return model, ModelIdentity.of(model)
    parsed = parse_model_uri(os.fspath(model))
    if isinstance(parsed, LocalModelUri):
        loaded = load(parsed.path, trusted)
        return loaded, ModelIdentity.of(loaded, uri=str(parsed.path.resolve()))
    client = client or get_client()
    if isinstance(parsed, RunModelUri):
        loaded = load(str(parsed), trusted, client=client)
        return loaded, ModelIdentity.of(loaded, uri=str(parsed))
    assert isinstance(parsed, RegisteredModelUri)
    version = client.registry.resolve_version(
        parsed.name, version=parsed.version, alias=parsed.alias
    )
    if version.status is ModelVersionStatus.RETIRED:
        reason = version.tags.get(RETIRED_REASON_TAG)
        raise ModelRetiredError(
            f"model version {version.name}/{version.version} ({parsed}) is retired"
            + (f" ({reason})" if reason else "")
            + ": batch prediction refuses retired versions; use another version or alias",
            reason=reason,
            field="model",
        )
    if version.status is ModelVersionStatus.FAILED:
        raise ConflictError(
            f"model version {version.name}/{version.version} ({parsed}) is failed: batch "
            "prediction refuses failed versions; use another version or alias",
            field="model",
        )
    loaded = load(version.model_uri, trusted, client=client)
    uri = f"models:/{version.name}/{version.version}"
    return loaded, ModelIdentity.of(loaded, uri=uri, name=version.name, version=version.version)


def _resolve_input(input: InputRef, client: Client | None) -> ChunkSource:
    from mlcycle.batch.sources import CSV_SUFFIXES, PARQUET_SUFFIXES, ParquetSource, open_source

    if isinstance(input, DatasetVersion):
        return _dataset_source(input, client or get_client())
    if not isinstance(input, str | os.PathLike):
        raise InvalidInputError(
            "input must be a path, a dataset NAME[@VERSION] or a DatasetVersion, got "
            f"{type(input).__name__}",
            field="input",
        )
    text = os.fspath(input)
    if text.startswith("s3://"):
        return ParquetSource(text)
    path = Path(input)
    if path.exists() or text.lower().endswith(PARQUET_SUFFIXES + CSV_SUFFIXES):
        return open_source(path)
    if not isinstance(input, str):
        raise InvalidInputError(f"input file or directory not found: '{path}'", field="input")
    name, _, number = text.partition("@")
    if number and not (number.isascii() and number.isdigit()):
        raise InvalidInputError(
            f"input {text!r} is not a file or directory, nor a dataset NAME@VERSION "
            "(the version is a number)",
            field="input",
        )
    client = client or get_client()
    try:
        version = client.datasets.get(name, int(number) if number else None)
    except NotFoundError as exc:
        raise NotFoundError(
            f"input {text!r} is not a file or directory, nor a registered dataset: {exc}",
            field="input",
        ) from exc
    return _dataset_source(version, client)


def _check_not_in_input(input: InputRef, output: str | os.PathLike[str]) -> None:
    if isinstance(input, DatasetVersion) or os.fspath(input).startswith("s3://"):
        return
    if os.fspath(output).startswith("s3://"):
        return
    source, target = Path(input).resolve(), Path(output).resolve()
    if target == source or (source.is_dir() and source in target.parents):
        raise InvalidInputError(
            f"output '{output}' would overwrite or land inside the input '{input}'",
            field="output",
        )


def _dataset_source(version: DatasetVersion, client: Client) -> ChunkSource:
    from mlcycle.batch.sources import ParquetSource, StreamSource

    fingerprint = {"dataset": version.name, "version": version.version, "digest": version.digest}
    description = f"dataset {version.ref}"
    files = client.backend.artifacts
    local = None if files is None else files.local_path(version.storage_key)
    if local is not None and local.is_file():
        return ParquetSource(local, fingerprint=fingerprint, description=description)
    return StreamSource(client.datasets.stream(version), fingerprint, description=description)
