"""``HttpDatasets``: dataset versions through a tracking server's ``/api/v1/datasets``.

Registering uploads the data as a file, streamed from disk (a DataFrame or Table is
written to a temporary Parquet file first); loading downloads the version's Parquet,
streamed to a temporary file, and reads it with Arrow. Versions come back bound to this
backend, so ``version.load()`` works as it does locally.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

from mlcycle.backends.http._wire import get_json, listed, params, seg, send_json
from mlcycle.datasets._rules import load_rules, rules_to_yaml
from mlcycle.datasets.diff import ProfileDiff, diff_profiles
from mlcycle.datasets.reading import DEFAULT_BATCH_ROWS, BatchStream, DataLike, open_batches
from mlcycle.datasets.service import RulesLike, TransformLike, check_dataset_name, make_transform
from mlcycle.entities import (
    Dataset,
    DatasetVersion,
    Lineage,
    RunInput,
    ValidationRecord,
    ValidationReport,
)
from mlcycle.entities.codec import from_json, list_from_json, to_json
from mlcycle.entities.datasets import LoadFormat
from mlcycle.errors import InvalidInputError
from mlcycle.remote.http import HttpSession

_D = "/api/v1/datasets"
_CHUNK = 1 << 20
_SUFFIXES = (".parquet", ".pq", ".csv.gz", ".csv.bz2", ".csv")


def _version(version_id: str) -> str:
    return f"{_D}/versions/{seg(version_id)}"


class HttpDatasets:
    """The dataset service's public methods (see
    :class:`~mlcycle.datasets.service.DatasetService`) over HTTP.

    >>> datasets = HttpDatasets(HttpSession("http://127.0.0.1:5000"))
    >>> v = datasets.register("churn", "churn.parquet")  # doctest: +SKIP
    >>> datasets.load(v).shape  # doctest: +SKIP
    """

    def __init__(self, http: HttpSession, *, batch_rows: int = DEFAULT_BATCH_ROWS) -> None:
        self.http = http
        self.batch_rows = batch_rows
        # Downloaded versions, removed with this object (or at exit).
        self._cache = tempfile.mkdtemp(prefix="mlcycle-datasets-")
        weakref.finalize(self, shutil.rmtree, self._cache, ignore_errors=True)

    # -- registration ------------------------------------------------------------------------

    def register(
        self,
        name: str,
        data: DataLike,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        rules: RulesLike | None = None,
        refuse_on_failure: bool = False,
    ) -> DatasetVersion:
        return self._upload(name, data, description, tags, rules, refuse_on_failure)

    def derive(
        self,
        name: str,
        parents: Sequence[DatasetVersion] | DatasetVersion,
        data: DataLike,
        transform: TransformLike,
        *,
        params: Mapping[str, Any] | None = None,
        code_ref: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        rules: RulesLike | None = None,
        refuse_on_failure: bool = False,
    ) -> DatasetVersion:
        found = [parents] if isinstance(parents, DatasetVersion) else list(parents)
        if not found or not all(isinstance(p, DatasetVersion) for p in found):
            raise InvalidInputError(
                "parents must be one or more DatasetVersion objects", field="parents"
            )
        made = make_transform(transform, params, code_ref)
        return self._upload(
            name,
            data,
            description,
            tags,
            rules,
            refuse_on_failure,
            parents=[p.id for p in found],
            transform=to_json(made),
        )

    def _upload(
        self,
        name: str,
        data: DataLike,
        description: str | None,
        tags: Mapping[str, str] | None,
        rules: RulesLike | None,
        refuse_on_failure: bool,
        *,
        parents: list[str] | None = None,
        transform: Any = None,
    ) -> DatasetVersion:
        check_dataset_name(name)
        query = params(
            name=name,
            description=description,
            tags=None if tags is None else orjson.dumps(dict(tags)).decode(),
            rules=None if rules is None else orjson.dumps(_rules_text(rules)).decode(),
            refuse_on_failure=refuse_on_failure,
            parents=None if parents is None else orjson.dumps(parents).decode(),
            transform=None if transform is None else orjson.dumps(transform).decode(),
        )
        with _AsFile(data, self.batch_rows) as (path, suffix):
            query["suffix"] = suffix

            def body() -> Iterator[bytes]:
                with open(path, "rb") as f:
                    while chunk := f.read(_CHUNK):
                        yield chunk

            response = self.http.request(
                "POST",
                f"{_D}/versions",
                content=body,
                params=query,
                headers={"Content-Type": "application/vnd.apache.parquet"},
            )
        return self._bind(orjson.loads(response.content))

    # -- reading -------------------------------------------------------------------------------

    def _bind(self, data: Any) -> DatasetVersion:
        found = from_json(DatasetVersion, data)
        uri = f"{self.http.base_url}{_version(found.id)}/data"
        return found.bind(self._loader, uri)

    def _loader(
        self, version: DatasetVersion, format: LoadFormat, columns: Sequence[str] | None
    ) -> Any:
        return self.load(version, format, columns)

    def get(self, name: str, version: int | None = None) -> DatasetVersion:
        check_dataset_name(name)
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise InvalidInputError(f"version must be an integer, got {version!r}", field="version")
        return self._bind(get_json(self.http, f"{_D}/version", params(name=name, version=version)))

    def get_by_id(self, version_id: str) -> DatasetVersion:
        return self._bind(get_json(self.http, _version(version_id)))

    def list_datasets(self, *, include_deleted: bool = False) -> list[Dataset]:
        return listed(Dataset, self.http, _D, "datasets", params(include_deleted=include_deleted))

    def list_versions(self, name: str, *, include_deleted: bool = False) -> list[DatasetVersion]:
        query = params(name=name, include_deleted=include_deleted)
        from_server = listed(DatasetVersion, self.http, f"{_D}/versions", "versions", query)
        return [self._bind(to_json(v)) for v in from_server]

    def _download(self, version: DatasetVersion) -> Path:
        """The version's Parquet in this backend's cache folder (downloaded once)."""
        target = Path(self._cache) / f"{version.id}.parquet"
        if target.is_file():
            return target
        partial = target.with_suffix(".part")
        path = f"{_version(version.id)}/data"
        with self.http.stream("GET", path) as response, open(partial, "wb") as out:
            for chunk in response.iter_bytes(_CHUNK):
                out.write(chunk)
        partial.replace(target)
        return target

    def load(
        self,
        version: DatasetVersion,
        format: LoadFormat = "pandas",
        columns: Sequence[str] | None = None,
    ) -> Any:
        if format not in ("pandas", "arrow"):
            raise InvalidInputError(
                f"format must be 'pandas' or 'arrow', got {format!r}", field="format"
            )
        wanted = None if columns is None else _columns(version, columns)
        table = pq.read_table(self._download(version), columns=wanted)
        return table if format == "arrow" else table.to_pandas()

    def stream(
        self, version: DatasetVersion, *, columns: Sequence[str] | None = None
    ) -> BatchStream:
        wanted = None if columns is None else _columns(version, columns)
        path = self._download(version)
        opened = open_batches(path, batch_rows=self.batch_rows, columns=wanted)
        return BatchStream(
            opened.schema,
            opened.__iter__,
            num_rows=version.num_rows,
            source=version.ref,
            stored_schema=opened.stored_schema,
        )

    # -- validation, derived versions, lineage ------------------------------------------------

    def validate(
        self, version: DatasetVersion, rules: RulesLike, *, record: bool = True
    ) -> ValidationReport:
        body = {"rules": _rules_text(rules), "record": record}
        done = send_json(self.http, "POST", f"{_version(version.id)}/validate", body)
        return from_json(ValidationReport, done)

    def validations(self, version: DatasetVersion) -> list[ValidationRecord]:
        found = get_json(self.http, f"{_version(version.id)}/validations")
        return list_from_json(ValidationRecord, found["validations"])

    def clean(
        self,
        version: DatasetVersion,
        how: str,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        **options: Any,
    ) -> DatasetVersion:
        body = {"how": how, "name": name, "description": description, "options": options}
        return self._bind(send_json(self.http, "POST", f"{_version(version.id)}/clean", body))

    def split(
        self,
        version: DatasetVersion,
        *,
        test: float = 0.2,
        validation: float = 0.0,
        stratify: str | None = None,
        group: str | None = None,
        time: str | None = None,
        seed: int = 0,
        name: str | None = None,
    ) -> dict[str, DatasetVersion]:
        body = {
            "test": test,
            "validation": validation,
            "stratify": stratify,
            "group": group,
            "time": time,
            "seed": seed,
            "name": name,
        }
        parts = send_json(self.http, "POST", f"{_version(version.id)}/split", body)
        return {part: self._bind(v) for part, v in parts.items()}

    def children(self, version: DatasetVersion) -> list[Lineage]:
        found = get_json(self.http, f"{_version(version.id)}/children")
        return list_from_json(Lineage, found["children"])

    def diff(self, old: DatasetVersion, new: DatasetVersion) -> ProfileDiff:
        return diff_profiles(old.profile, new.profile)  # the profiles travel with versions

    # -- lifecycle and tags ---------------------------------------------------------------------

    def delete(self, name: str, version: int | None = None) -> None:
        send_json(self.http, "POST", f"{_D}/delete", {"name": name, "version": version})

    def restore(self, name: str, version: int | None = None) -> None:
        send_json(self.http, "POST", f"{_D}/restore", {"name": name, "version": version})

    def set_tags(self, version: DatasetVersion, tags: Mapping[str, object]) -> None:
        body = {"tags": {str(k): to_json(v) for k, v in tags.items()}}
        send_json(self.http, "POST", f"{_version(version.id)}/tags", body)

    def delete_tag(self, version: DatasetVersion, key: str) -> None:
        self.http.request("DELETE", f"{_version(version.id)}/tags/{seg(key)}")

    def log_input(self, run_id: str, version: DatasetVersion, context: str = "train") -> RunInput:
        if not isinstance(version, DatasetVersion):
            raise InvalidInputError(
                f"log_input takes a DatasetVersion, got {type(version).__name__}",
                field="dataset",
            )
        body = {"run_id": run_id, "context": context}
        return from_json(
            RunInput, send_json(self.http, "POST", f"{_version(version.id)}/inputs", body)
        )

    def inputs_of(self, run_id: str) -> list[RunInput]:
        found = get_json(self.http, f"{_D}/inputs", {"run_id": run_id})
        return list_from_json(RunInput, found["inputs"])

    def runs_of(self, version: DatasetVersion) -> list[RunInput]:
        found = get_json(self.http, f"{_version(version.id)}/runs")
        return list_from_json(RunInput, found["inputs"])


def _columns(version: DatasetVersion, columns: Sequence[str]) -> list[str]:
    wanted = [columns] if isinstance(columns, str) else list(columns)
    unknown = [c for c in wanted if c not in version.columns]
    if unknown or not wanted:
        raise InvalidInputError(
            f"unknown column(s) {', '.join(map(repr, unknown))} of {version.ref}; "
            f"columns: {version.columns}",
            field="columns",
        )
    return wanted


def _rules_text(rules: RulesLike) -> str:
    """The text of the rules (a file's, the YAML given, or the YAML form of built-in rule
    objects), checked here first: the same errors as in-process. A Custom rule is Python
    code and cannot travel (InvalidInputError)."""
    if not isinstance(rules, str | os.PathLike):
        return rules_to_yaml(list(rules))
    load_rules(rules)
    is_file = isinstance(rules, os.PathLike) or (
        "\n" not in rules and rules.endswith((".yaml", ".yml"))
    )
    return Path(rules).read_text(encoding="utf-8") if is_file else str(rules)


class _AsFile:
    """``data`` as a file to upload: a Parquet or CSV path as it is, anything else written
    to a temporary Parquet file (removed on exit). Yields ``(path, suffix)``."""

    def __init__(self, data: DataLike, batch_rows: int) -> None:
        self.data = data
        self.batch_rows = batch_rows
        self._temp: str | None = None

    def __enter__(self) -> tuple[str, str]:
        stream = open_batches(self.data, batch_rows=self.batch_rows)  # the local checks
        if isinstance(self.data, str | os.PathLike):
            name = Path(self.data).name.lower()
            suffix = next(s for s in _SUFFIXES if name.endswith(s))
            return str(self.data), ".parquet" if suffix == ".pq" else suffix
        handle, self._temp = tempfile.mkstemp(prefix="mlcycle-upload-", suffix=".parquet")
        os.close(handle)
        with pq.ParquetWriter(self._temp, stream.schema) as writer:
            for batch in stream:
                writer.write_batch(batch)
        return self._temp, ".parquet"

    def __exit__(self, *exc: object) -> None:
        if self._temp is not None:
            Path(self._temp).unlink(missing_ok=True)
