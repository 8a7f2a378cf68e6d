"""The live run object that ``mlcycle.start_run`` returns."""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from mlcycle.entities import ArtifactInfo, DatasetVersion, ModelVersion, Run, RunInput, RunStatus
from mlcycle.errors import ConflictError, InvalidInputError
from mlcycle.models.info import MODELS_TAG, ModelInfo
from mlcycle.models.packaging import save_model
from mlcycle.ports.backend import TrackingBackend
from mlcycle.ports.datasets import RunInputLog
from mlcycle.tracking.validation import (
    check_key,
    metric_step,
    metric_timestamp,
    metric_value,
    param_text,
)
from mlcycle.tracking.writer import BackgroundWriter, RunBuffer, Series

if TYPE_CHECKING:
    from mlcycle.models.signature import Signature


class ModelRegistrar(Protocol):
    """How a run registers the models it logs (``log_model(register=...)``)."""

    def check(self, name: str) -> None:
        """Refuse (raise) before anything is written when ``name`` cannot be registered:
        no model registry behind the run, or a name the registry refuses."""

    def register(self, name: str, run_id: str, artifact_path: str) -> ModelVersion:
        """Register the model logged at ``runs:/<run_id>/<artifact_path>`` as the next
        version of ``name``."""
        ...


_time = time.time
_MAX_ERROR = 8000


class ActiveRun:
    """A run being recorded. Use it as a context manager, or call :meth:`end`.

    >>> import mlcycle
    >>> with mlcycle.start_run(experiment="demo") as run:  # doctest: +SKIP
    ...     run.log_param("lr", 0.01)
    ...     for epoch in range(10):
    ...         run.log_metric("loss", 1 / (epoch + 1))

    On normal exit the run is FINISHED; if the block raises it is FAILED with the error
    recorded; on KeyboardInterrupt it is KILLED. Metric logging never blocks: points go to
    an in-process buffer that a background thread writes; :meth:`flush` returns once every
    point logged before it is durable.
    """

    def __init__(
        self,
        backend: TrackingBackend,
        run: Run,
        writer: BackgroundWriter,
        *,
        on_end: Callable[[ActiveRun], None] | None = None,
        inputs: Callable[[], RunInputLog] | None = None,
        register_model: ModelRegistrar | None = None,
    ) -> None:
        self._backend = backend
        self._inputs = inputs
        self._register_model = register_model
        self.info = run
        self._series: dict[str, Series] = {}
        self._buffer = RunBuffer(run.id, backend.log_metrics)
        self._buffer.series = self._series
        self._writer = writer
        self._on_end = on_end
        self._ended = False
        self._params: dict[str, str] = dict(run.params)
        self._stop_hooks: list[Callable[[], None]] = []
        writer.register(self._buffer)

    # -- identity ------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def experiment_id(self) -> str:
        return self.info.experiment_id

    @property
    def ended(self) -> bool:
        return self._ended

    def __repr__(self) -> str:
        state = "ended" if self._ended else "active"
        return f"<ActiveRun {self.name!r} id={self.id} {state}>"

    def _closed_error(self, what: str) -> InvalidInputError:
        return InvalidInputError(
            f"run {self.id} has ended: {what} cannot be logged to a finished run",
            field="run_id",
        )

    # -- params and tags -----------------------------------------------------------------

    def log_param(self, key: str, value: object) -> None:
        """Log one param. Params are immutable: a different value raises ConflictError."""
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, object]) -> None:
        """Log several params at once (one write)."""
        if self._ended:
            raise self._closed_error("params")
        new: dict[str, str] = {}
        for key, value in params.items():
            check_key(key, field="param key")
            text = param_text(key, value)
            old = self._params.get(key)
            if old is not None and old != text:
                raise ConflictError(
                    f"param {key!r} of run {self.id} was logged as {old!r} and cannot change "
                    f"to {text!r}: params are immutable",
                    field=f"params.{key}",
                )
            if old is None:
                new[key] = text
        if new:
            self._backend.log_params(self.id, new)
            self._params.update(new)

    def set_tag(self, key: str, value: object) -> None:
        """Set a tag (tags can change, also after the run ended)."""
        self._backend.set_tags(self.id, {key: value})

    def set_tags(self, tags: Mapping[str, object]) -> None:
        self._backend.set_tags(self.id, tags)

    def set_description(self, description: str) -> None:
        self._backend.update_run(self.id, description=description)

    # -- metrics -------------------------------------------------------------------------

    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Append one point to the series ``key``; never waits on I/O.

        ``step`` defaults to the step after this key's previous one (0 first);
        ``timestamp`` to now, in milliseconds since the epoch. NaN and +/-inf are kept.
        """
        if self._ended:
            raise self._closed_error("metrics")
        series = self._series.get(key)
        if series is None:
            series = self._add_series(key)
        if value.__class__ is not float:
            value = metric_value(key, value)
        if step is None:
            step = series.next_step
        elif step.__class__ is not int:
            step = metric_step(key, step)
        series.next_step = step + 1
        series.points.append(
            (
                step,
                _time() * 1000.0 if timestamp is None else metric_timestamp(key, timestamp),
                value,
            )
        )

    def log_metrics(
        self, metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Log several metrics at the same step and time."""
        ts = _time() * 1000.0 if timestamp is None else timestamp
        for key, value in metrics.items():
            self.log_metric(key, value, step, int(ts) if timestamp is None else timestamp)

    def _add_series(self, key: str) -> Series:
        check_key(key, field="metric key")
        series = Series(key)
        self._series[key] = series
        return series

    def flush(self) -> None:
        """Return once every point logged before this call is durable in the store."""
        self._buffer.drain()

    # -- inputs --------------------------------------------------------------------------

    def log_input(self, dataset: DatasetVersion, context: str = "train") -> RunInput:
        """Record that this run uses a dataset version, e.g. ``context="train"`` or
        ``"eval"``. The run then lists it as an input, and the version lists the run
        (``mlcycle.datasets.runs_of``).

        >>> train = mlcycle.datasets.get("churn-train")  # doctest: +SKIP
        >>> run.log_input(train, context="train")  # doctest: +SKIP
        """
        if self._ended:
            raise self._closed_error("inputs")
        if self._inputs is None:
            raise InvalidInputError(
                "this run has no dataset store to record inputs in; start it with "
                "mlcycle.start_run or Client.start_run",
                field="dataset",
            )
        return self._inputs().log_input(self.id, dataset, context)

    # -- artifacts -----------------------------------------------------------------------

    def log_artifact(
        self, path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> ArtifactInfo:
        """Store a local file under ``artifact_path`` (a folder; the run's root by default)."""
        local = Path(path)
        if local.is_dir():
            raise InvalidInputError(
                f"{str(local)!r} is a directory; use log_artifacts for directories", field="path"
            )
        target = f"{artifact_path.strip('/')}/{local.name}" if artifact_path else local.name
        return self._backend.log_artifact_file(self.id, local, target)

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> list[ArtifactInfo]:
        """Store every file under ``local_dir``, keeping the folder layout."""
        root = Path(local_dir)
        if not root.is_dir():
            raise InvalidInputError(f"{str(root)!r} is not a directory", field="local_dir")
        stored = []
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = file.relative_to(root).as_posix()
            target = f"{artifact_path.strip('/')}/{rel}" if artifact_path else rel
            stored.append(self._backend.log_artifact_file(self.id, file, target))
        return stored

    def log_text(self, text: str, artifact_file: str) -> ArtifactInfo:
        """Store ``text`` (UTF-8) as the artifact ``artifact_file``."""
        return self._backend.log_artifact_bytes(self.id, artifact_file, text.encode())

    def log_dict(self, data: Mapping[str, Any], artifact_file: str) -> ArtifactInfo:
        """Store a dict as JSON (or YAML when ``artifact_file`` ends in .yaml/.yml)."""
        if artifact_file.endswith((".yaml", ".yml")):
            import yaml  # optional: only needed for YAML output

            text = yaml.safe_dump(dict(data), sort_keys=False)
        else:
            text = json.dumps(data, indent=2, default=str)
        return self.log_text(text, artifact_file)

    def log_figure(self, figure: Any, artifact_file: str) -> ArtifactInfo:
        """Store a matplotlib figure (PNG, SVG, PDF by extension) or a plotly figure (HTML)."""
        if hasattr(figure, "savefig"):
            buffer = io.BytesIO()
            fmt = Path(artifact_file).suffix.lstrip(".") or "png"
            figure.savefig(buffer, format=fmt)
            return self._backend.log_artifact_bytes(self.id, artifact_file, buffer.getvalue())
        if hasattr(figure, "to_html"):
            if not artifact_file.endswith(".html"):
                raise InvalidInputError(
                    "plotly figures are stored as interactive HTML: name the file *.html",
                    field="artifact_file",
                )
            html = figure.to_html(include_plotlyjs="cdn", full_html=True)
            return self.log_text(html, artifact_file)
        raise InvalidInputError(
            f"log_figure takes a matplotlib or plotly figure, got {type(figure).__name__}",
            field="figure",
        )

    # -- models --------------------------------------------------------------------------

    def log_model(
        self,
        model: object,
        name: str,
        input_example: object | None = None,
        signature: Signature | Mapping[str, Any] | None = None,
        register: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> ModelInfo:
        """Package ``model`` and store it as the folder ``name`` of this run's artifacts.

        Takes scikit-learn estimators and Pipelines (saved with skops), XGBoost and
        LightGBM models (their own formats) and any object with ``predict`` (see
        :mod:`mlcycle.models.flavors.pyfunc`). The folder holds a manifest (flavor,
        library versions, signature, input example, ``metadata``) beside the model files.
        Without ``signature`` one is inferred from ``input_example``. With
        ``register="churn"`` the model also becomes the next version of the registered
        model ``churn``. Load it back with ``mlcycle.models.load(info.uri)``.

        >>> info = run.log_model(pipeline, "model", input_example=X.head())  # doctest: +SKIP
        >>> info.uri  # doctest: +SKIP
        'runs:/0190.../model'
        """
        path = check_key(name, field="name").strip("/")
        if register is not None:  # refused before anything is written
            if not isinstance(register, str) or not register.strip():
                raise InvalidInputError(
                    "register must be the name of a registered model", field="register"
                )
            if self._register_model is None:
                raise InvalidInputError(
                    f"cannot register the model as {register!r}: this run has no model "
                    "registry; start it with mlcycle.start_run or Client.start_run",
                    field="register",
                )
            self._register_model.check(register)
        with tempfile.TemporaryDirectory(prefix="mlcycle-model-") as tmp:
            folder = Path(tmp) / "model"
            manifest = save_model(
                model,
                folder,
                input_example=input_example,
                signature=signature,
                metadata=metadata,
                run_id=self.id,
            )
            self.log_artifacts(folder, artifact_path=path)
        version = None
        if self._register_model is not None and register is not None:
            version = self._register_model.register(register, self.id, path)
        self._tag_model(MODELS_TAG, path, manifest.flavor.value)  # listed once registered
        return ModelInfo(
            run_id=self.id, artifact_path=path, manifest=manifest, registered_version=version
        )

    def _tag_model(self, tag: str, path: str, flavor: str) -> None:
        """Add the model to the run's tag listing its models (JSON)."""
        try:
            listed = json.loads(self._backend.get_run(self.id).tags.get(tag, "[]"))
        except ValueError:
            listed = []
        entries = [e for e in listed if isinstance(e, dict) and e.get("name") != path]
        entries.append({"name": path, "flavor": flavor})
        self.set_tag(tag, json.dumps(entries, separators=(",", ":")))

    # -- ending --------------------------------------------------------------------------

    def add_stop_hook(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` when the run ends (used by system metrics)."""
        self._stop_hooks.append(hook)

    def end(self, status: RunStatus | str = RunStatus.FINISHED, error: str | None = None) -> None:
        """Flush, then mark the run FINISHED, FAILED or KILLED. Ending twice does nothing."""
        if self._ended:
            return
        status = RunStatus(status)
        for hook in self._stop_hooks:
            hook()
        try:
            self.flush()
        finally:
            self._ended = True
            self._writer.unregister(self._buffer)
            if self._on_end is not None:
                self._on_end(self)
        self._backend.end_run(self.id, status, error=error)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.end(RunStatus.FINISHED)
        elif issubclass(exc_type, KeyboardInterrupt):  # Ctrl-C, or SIGTERM (see termination)
            self.end(RunStatus.KILLED, error=str(exc) or "KeyboardInterrupt")
        else:
            text = "".join(traceback.format_exception(exc_type, exc, tb))
            self.end(RunStatus.FAILED, error=text[-_MAX_ERROR:])
