"""The dataset service: register, version, validate, derive, split and trace datasets.

It works over two ports: a :class:`~mlcycle.ports.datasets.DatasetRepository` for metadata
and a :class:`~mlcycle.ports.datasets.DatasetFiles` store for the Parquet files. The clock
and the ID factory are injected, as in the tracking service.

Registration is atomic. The data is written under a temporary key while it is profiled
and hashed in the same pass, renamed to its content address
``datasets/<digest[:2]>/<digest>.parquet``, then the metadata is inserted in one
transaction; if anything fails, what was written is removed. The same content is stored
once: under the same name it is the same version; under another name a new version shares
the file and the profile. A source file registered before is recognised by the SHA-256 of
its bytes, without decoding it; in-memory data is hashed first (cheap), so neither pays for
a profile or a write when its content is known.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

from mlcycle.clock import system_clock
from mlcycle.datasets import cleaning
from mlcycle.datasets.cleaning import Cleaned
from mlcycle.datasets.diff import ProfileDiff, diff_profiles
from mlcycle.datasets.digest import file_fingerprint
from mlcycle.datasets.ingest import Ingested, column_schemas, digest_of, ingest
from mlcycle.datasets.reading import DEFAULT_BATCH_ROWS, BatchStream, DataLike, open_batches
from mlcycle.datasets.splitting import split_indices
from mlcycle.datasets.validation import Rule, load_rules, validate
from mlcycle.entities import (
    ColumnSchema,
    Dataset,
    DatasetVersion,
    LifecycleStage,
    Lineage,
    ProfileSettings,
    RunInput,
    Transform,
    ValidationRecord,
    ValidationReport,
)
from mlcycle.entities.datasets import LoadFormat
from mlcycle.errors import (
    AlreadyExistsError,
    ArtifactNotFoundError,
    ConflictError,
    InvalidInputError,
    MlcycleError,
    ValidationFailedError,
)
from mlcycle.ids import new_id
from mlcycle.ports.audit import AuditSink
from mlcycle.ports.datasets import DatasetFiles, DatasetRepository
from mlcycle.tracking.validation import check_key, tag_text
from mlcycle.types import Clock, IdFactory

MAX_NAME = 200
_PARQUET_SUFFIXES = (".parquet", ".pq")
_ATTEMPTS = 3  # tries of a registration that collides with a concurrent one
_BOTH = (LifecycleStage.ACTIVE, LifecycleStage.DELETED)
_ACTIVE = (LifecycleStage.ACTIVE,)

RulesLike = Sequence[Rule] | str | os.PathLike[str]
_CLEANINGS: dict[str, Callable[..., Cleaned]] = {
    "drop_duplicates": cleaning.drop_duplicates,
    "drop_missing": cleaning.drop_missing,
    "impute_missing": cleaning.impute_missing,
    "filter_range": cleaning.filter_range,
    "clip_range": cleaning.clip_range,
}
TransformLike = Transform | str | Callable[..., Any]
SplitName = Literal["train", "validation", "test"]


def check_dataset_name(name: object) -> str:
    """1-200 characters of letters, digits and ``_ - . /``, starting with a letter or digit.

    >>> check_dataset_name("churn/train-2024")
    'churn/train-2024'
    """
    if not isinstance(name, str):
        raise InvalidInputError(
            f"dataset name must be a string, got {type(name).__name__}", field="name"
        )
    ok = all(c.isalnum() or c in "_-./" for c in name) and name[:1].isalnum()
    if not name or len(name) > MAX_NAME or not ok or ".." in name:
        raise InvalidInputError(
            f"dataset name {name!r} must have 1 to {MAX_NAME} letters, digits or _ - . / "
            "and start with a letter or digit",
            field="name",
        )
    return name


def content_key(digest: str) -> str:
    """Where the file of a content digest lives in the artifact store."""
    return f"datasets/{digest[:2]}/{digest}.parquet"


def make_transform(
    transform: TransformLike, params: Mapping[str, Any] | None = None, code_ref: str | None = None
) -> Transform:
    """A checked :class:`Transform` from a name, a function or a Transform.

    A function gives its name and, unless ``code_ref`` is given, ``module:qualname`` as the
    code reference. Parameters must be JSON values (others are stored as their text).
    """
    if isinstance(transform, Transform):
        name, base, ref = transform.name, dict(transform.params), transform.code_ref
    elif isinstance(transform, str):
        name, base, ref = transform, {}, None
    elif callable(transform):
        name = getattr(transform, "__name__", type(transform).__name__)
        name = "lambda" if name == "<lambda>" else name
        module = getattr(transform, "__module__", None) or "?"
        base, ref = {}, f"{module}:{getattr(transform, '__qualname__', name)}"
    else:
        raise InvalidInputError(
            f"transform must be a name, a function or a Transform, got {type(transform).__name__}",
            field="transform",
        )
    check_key(name, field="transform")
    base.update(params or {})
    try:
        clean = json.loads(json.dumps(base, default=str))
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"transform params are not JSON: {exc}", field="params") from exc
    if code_ref is not None:
        ref = code_ref
    if ref is not None and not isinstance(ref, str):
        raise InvalidInputError("code_ref must be a string", field="code_ref")
    return Transform(name=name, params=clean, code_ref=ref)


class DatasetService:
    """Datasets over a metadata repository and a file store (see the module docstring)."""

    def __init__(
        self,
        repository: DatasetRepository,
        files: DatasetFiles,
        *,
        clock: Clock = system_clock,
        new_id: IdFactory = new_id,
        profile_settings: ProfileSettings | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        threads: int | None = None,
        audit: AuditSink | None = None,
    ) -> None:
        self.repository = repository
        self.files = files
        self.audit = audit
        self.clock = clock
        self.new_id = new_id
        self.profile_settings = profile_settings
        self.batch_rows = batch_rows
        self.threads = threads

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
        """Store ``data`` as a version of ``name`` (see :func:`mlcycle.datasets.register`)."""
        return self._register(
            name,
            data,
            description=description,
            tags=tags,
            rules=rules,
            refuse_on_failure=refuse_on_failure,
        )

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
        """Store ``data`` as a version of ``name`` made from ``parents`` by ``transform``."""
        found = [parents] if isinstance(parents, DatasetVersion) else list(parents)
        if not found or not all(isinstance(p, DatasetVersion) for p in found):
            raise InvalidInputError(
                "parents must be one or more DatasetVersion objects", field="parents"
            )
        return self._register(
            name,
            data,
            description=description,
            tags=tags,
            rules=rules,
            refuse_on_failure=refuse_on_failure,
            parents=[p.id for p in found],
            transform=make_transform(transform, params, code_ref),
        )

    def _register(
        self,
        name: str,
        data: DataLike,
        *,
        description: str | None,
        tags: Mapping[str, str] | None,
        rules: RulesLike | None,
        refuse_on_failure: bool,
        parents: Sequence[str] = (),
        transform: Transform | None = None,
    ) -> DatasetVersion:
        check_dataset_name(name)
        clean_tags = {
            check_key(k, field="tag key"): tag_text(k, v) for k, v in (tags or {}).items()
        }
        if description is not None and not isinstance(description, str):
            raise InvalidInputError("description must be a string", field="description")
        stream = open_batches(data, batch_rows=self.batch_rows, strings_as_dictionary=True)
        report = None
        if rules is not None:
            report = validate(stream, self._rules(rules), batch_rows=self.batch_rows)
            if refuse_on_failure and not report.passed:
                raise _refused(name, report)
        new = _New(name, description, clean_tags, parents, transform, report)
        fingerprint = None
        digest = None
        if isinstance(data, str | os.PathLike):
            kind = "parquet" if Path(data).name.lower().endswith(_PARQUET_SUFFIXES) else "csv"
            fingerprint = file_fingerprint(data, kind)
            digest = self.repository.digest_of_source(fingerprint)
        else:
            digest, _ = digest_of(stream)
        if digest is not None:
            known = self._known(digest, new, fingerprint)
            if known is not None:
                return self._bind(known)
        return self._bind(self._ingest(stream, digest, new, fingerprint))

    def _rules(self, rules: RulesLike) -> list[Rule]:
        if isinstance(rules, str | os.PathLike):
            return load_rules(rules)
        return list(rules)

    def _ingest(
        self, stream: BatchStream, digest: str | None, new: _New, fingerprint: str | None
    ) -> DatasetVersion:
        """Write, profile and hash the data; then store it as a version, or drop the copy
        when its content turns out to be known."""
        temp = f"datasets/.tmp-{self.new_id()}.parquet"
        final: str | None = None
        ingested: Ingested | None = None
        try:
            with self.files.open_write(temp) as sink:
                ingested = ingest(
                    stream,
                    sink,
                    digest=digest,
                    settings=self.profile_settings,
                    threads=self.threads,
                )
            if digest is None:  # a file not seen before may hold known content
                known = self._known(ingested.digest, new, fingerprint)
                if known is not None:
                    self.files.delete(temp)
                    return known
            key = content_key(ingested.digest)
            if self.files.exists(key):
                self.files.delete(temp)
            else:
                self.files.rename(temp, key)
                final = key
            version = self._version(new, ingested, key)
            return self._create(version, new, fingerprint)
        except BaseException:
            self.files.delete(temp)
            if final is not None and ingested is not None:
                self._drop_orphan(final, ingested.digest)
            raise

    def _drop_orphan(self, key: str, digest: str) -> None:
        """Remove a file this registration created, unless a version (maybe a concurrent
        registration of the same content) refers to it by now."""
        try:
            referenced = self.repository.find_by_digest(digest) is not None
        except MlcycleError:
            return  # the store is unreachable: keep the file, a later registration reuses it
        if not referenced:
            self.files.delete(key)

    def _version(self, new: _New, ingested: Ingested, key: str) -> DatasetVersion:
        return DatasetVersion(
            id=self.new_id(),
            dataset_id=self.new_id(),
            name=new.name,
            version=0,  # numbered by the repository
            digest=ingested.digest,
            storage_key=key,
            num_rows=ingested.num_rows,
            num_columns=len(ingested.schema),
            size_bytes=ingested.size_bytes,
            schema=tuple(ColumnSchema(**c) for c in column_schemas(ingested.schema)),
            profile=ingested.profile,
            created_at=self.clock(),
            description=new.description,
            tags=new.tags,
        )

    def _known(self, digest: str, new: _New, fingerprint: str | None) -> DatasetVersion | None:
        """The version for content stored before, or None when the content is new (or its
        file has gone missing and must be written again)."""
        now = self.clock()
        same = self.repository.find_by_digest(digest, new.name)
        if same is not None and self.files.exists(same.storage_key):
            if self.repository.get_dataset(new.name).lifecycle_stage is LifecycleStage.DELETED:
                raise InvalidInputError(
                    f"dataset {new.name!r} is deleted; restore it "
                    f"(mlcycle.datasets.restore({new.name!r})) or choose another name",
                    field="name",
                )
            if same.lifecycle_stage is LifecycleStage.DELETED:
                self.repository.set_version_stage(same.id, LifecycleStage.ACTIVE, None)
            parents = [p for p in new.parents if p != same.id]
            if parents and new.transform is not None:
                self.repository.add_parents(same.id, parents, new.transform, now)
            if new.tags:
                self.repository.set_tags(same.id, new.tags)
            if new.report is not None:
                self.repository.add_validation(self._record(same.id, new.report))
            if fingerprint is not None:
                self.repository.add_source(fingerprint, digest, now)
            return self.repository.get_version_by_id(same.id)
        other = self.repository.find_by_digest(digest)
        if other is None or not self.files.exists(other.storage_key):
            return None
        version = dataclasses.replace(
            other,
            id=self.new_id(),
            dataset_id=self.new_id(),
            name=new.name,
            version=0,
            created_at=now,
            description=new.description,
            tags=new.tags,
            lifecycle_stage=LifecycleStage.ACTIVE,
            deleted_at=None,
            parents=(),
            validation=None,
        )
        return self._create(version, new, fingerprint)

    def _create(
        self, version: DatasetVersion, new: _New, fingerprint: str | None
    ) -> DatasetVersion:
        for attempt in range(_ATTEMPTS):
            try:
                created = self.repository.create_version(
                    version,
                    parent_ids=new.parents,
                    transform=new.transform,
                    fingerprint=fingerprint,
                    validation=None if new.report is None else self._record(version.id, new.report),
                )
                self._audit_event(
                    "dataset_version.create",
                    f"dataset:{created.name}/{created.version}",
                    {"digest": created.digest, "parents": list(new.parents)},
                )
                return created
            except (ConflictError, AlreadyExistsError):
                # Another writer registered into this dataset at the same moment: if it
                # stored this very content, that version is the answer (with this call's
                # lineage, tags and report added); else try again for the next number.
                if self.repository.find_by_digest(version.digest, version.name) is not None:
                    known = self._known(version.digest, new, fingerprint)
                    assert known is not None
                    return known
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _record(self, version_id: str, report: ValidationReport) -> ValidationRecord:
        return ValidationRecord(
            id=self.new_id(), version_id=version_id, created_at=self.clock(), report=report
        )

    # -- reading -----------------------------------------------------------------------------

    def get(self, name: str, version: int | None = None) -> DatasetVersion:
        """Version ``version`` of ``name``, or its latest active version; ``name`` may also
        be ``NAME@VERSION`` (``NAME:VERSION`` is taken too)."""
        if version is None and isinstance(name, str):
            name, version = split_ref(name)
        check_dataset_name(name)
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise InvalidInputError(f"version must be an integer, got {version!r}", field="version")
        return self._bind(self.repository.get_version(name, version))

    def get_by_id(self, version_id: str) -> DatasetVersion:
        return self._bind(self.repository.get_version_by_id(version_id))

    def list_datasets(self, *, include_deleted: bool = False) -> list[Dataset]:
        return self.repository.list_datasets(_BOTH if include_deleted else _ACTIVE)

    def list_versions(self, name: str, *, include_deleted: bool = False) -> list[DatasetVersion]:
        found = self.repository.list_versions(name, _BOTH if include_deleted else _ACTIVE)
        return [self._bind(v) for v in found]

    def load(
        self,
        version: DatasetVersion,
        format: LoadFormat = "pandas",
        columns: Sequence[str] | None = None,
    ) -> Any:
        """The rows of ``version`` as a pandas DataFrame or a pyarrow Table."""
        if format not in ("pandas", "arrow"):
            raise InvalidInputError(
                f"format must be 'pandas' or 'arrow', got {format!r}", field="format"
            )
        wanted = None if columns is None else self._columns(version, columns)
        with self._source(version) as source:
            try:
                table = pq.read_table(source, columns=wanted)
            except (OSError, pa.ArrowException) as exc:
                raise InvalidInputError(
                    f"cannot read the data of {version.ref}: {exc}", field="version"
                ) from exc
        return table if format == "arrow" else table.to_pandas()

    def stream(
        self, version: DatasetVersion, *, columns: Sequence[str] | None = None
    ) -> BatchStream:
        """The rows of ``version`` as a re-iterable stream of record batches."""
        wanted = None if columns is None else self._columns(version, columns)
        with self._source(version) as source:
            stored = pq.ParquetFile(source).schema_arrow
        if wanted is not None:
            stored = pa.schema([stored.field(c) for c in wanted])
        strings = [f.name for f in stored if pa.types.is_string(f.type)]
        schema = pa.schema(
            [
                pa.field(f.name, pa.dictionary(pa.int32(), f.type)) if f.name in strings else f
                for f in stored
            ]
        )

        def open_iter() -> Iterator[pa.RecordBatch]:
            with self._source(version) as source:
                reader = pq.ParquetFile(
                    source, read_dictionary=strings or None, buffer_size=1 << 20, pre_buffer=False
                )
                yield from reader.iter_batches(batch_size=self.batch_rows, columns=wanted)

        return BatchStream(
            schema, open_iter, num_rows=version.num_rows, source=version.ref, stored_schema=stored
        )

    def _columns(self, version: DatasetVersion, columns: Sequence[str]) -> list[str]:
        wanted = [columns] if isinstance(columns, str) else list(columns)
        unknown = [c for c in wanted if c not in version.columns]
        if unknown or not wanted:
            raise InvalidInputError(
                f"unknown column(s) {', '.join(map(repr, unknown))} of {version.ref}; "
                f"columns: {version.columns}",
                field="columns",
            )
        return wanted

    @contextlib.contextmanager
    def _source(self, version: DatasetVersion) -> Iterator[Any]:
        """The stored file to read: its local path when the store has one (Arrow reads it
        natively, a third faster than through a Python file object), else an open file."""
        missing = ArtifactNotFoundError(
            f"the data file of {version.ref} is missing from the artifact store "
            f"({version.storage_key})",
            field="version",
        )
        local = self.files.local_path(version.storage_key)
        if local is not None:
            if not local.is_file():
                raise missing
            yield str(local)
            return
        try:
            handle = self.files.open(version.storage_key)
        except ArtifactNotFoundError as exc:
            raise missing from exc
        with handle:
            yield handle

    def _loader(
        self, version: DatasetVersion, format: LoadFormat, columns: Sequence[str] | None
    ) -> Any:
        return self.load(version, format, columns)

    def _bind(self, version: DatasetVersion) -> DatasetVersion:
        return version.bind(self._loader, self.files.uri(version.storage_key))

    # -- validation --------------------------------------------------------------------------

    def validate(
        self, version: DatasetVersion, rules: RulesLike, *, record: bool = True
    ) -> ValidationReport:
        """Check ``rules`` on the stored rows; the report is kept with the version."""
        report = validate(self.stream(version), self._rules(rules), batch_rows=self.batch_rows)
        if record:
            self.repository.add_validation(self._record(version.id, report))
        return report

    def validations(self, version: DatasetVersion) -> list[ValidationRecord]:
        return self.repository.validations(version.id)

    # -- derived versions --------------------------------------------------------------------

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
        """Apply the cleaning ``how`` of :mod:`mlcycle.datasets.cleaning` (``drop_duplicates``,
        ``drop_missing``, ``impute_missing``, ``filter_range``, ``clip_range``) with
        ``options`` and store the result as a new version of ``name`` (default: the same
        dataset), with the step (parameters, rows before and after, fill values) as lineage.
        """
        step = _CLEANINGS.get(how)
        if step is None:
            raise InvalidInputError(
                f"unknown cleaning {how!r}; one of {', '.join(sorted(_CLEANINGS))}", field="how"
            )
        table, done = step(self.load(version, "arrow"), **options)
        params = {
            **done.params,
            "rows_before": done.rows_before,
            "rows_after": done.rows_after,
            **({"details": done.details} if done.details else {}),
        }
        transform = make_transform(done.name, params, f"mlcycle.datasets.cleaning:{how}")
        return self._register(
            name or version.name,
            table,
            description=description,
            tags=None,
            rules=None,
            refuse_on_failure=False,
            parents=[version.id],
            transform=transform,
        )

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
        """Split ``version`` into versions of ``<name>-train``, ``<name>-test`` (and
        ``<name>-validation``), each with lineage to ``version``; reproducible."""
        base = check_dataset_name(name or version.name)
        source = self.stream(version)
        parts = split_indices(
            source,
            test=test,
            validation=validation,
            stratify=stratify,
            group=group,
            time=time,
            seed=seed,
        )
        params = {
            "test": test,
            "validation": validation,
            "stratify": stratify,
            "group": group,
            "time": time,
            "seed": seed,
        }
        result: dict[str, DatasetVersion] = {}
        for part, rows in parts.items():
            transform = make_transform(
                "split", {**params, "part": part}, "mlcycle.datasets.splitting:split_indices"
            )
            result[part] = self._register(
                f"{base}-{part}",
                _take(source, rows),
                description=f"{part} split of {version.ref}",
                tags=None,
                rules=None,
                refuse_on_failure=False,
                parents=[version.id],
                transform=transform,
            )
        return result

    def children(self, version: DatasetVersion) -> list[Lineage]:
        """Versions made from ``version``."""
        return self.repository.children(version.id)

    def diff(self, old: DatasetVersion, new: DatasetVersion) -> ProfileDiff:
        """Schema, row count and per-column profile changes from ``old`` to ``new``."""
        return diff_profiles(old.profile, new.profile)

    # -- lifecycle and tags ------------------------------------------------------------------

    def delete(self, name: str, version: int | None = None) -> None:
        """Soft-delete a version, or the whole dataset when ``version`` is None."""
        target = f"dataset:{name}" if version is None else f"dataset:{name}/{version}"
        if version is None:
            self.repository.set_dataset_stage(name, LifecycleStage.DELETED, self.clock())
        else:
            found = self.repository.get_version(name, version, include_deleted=True)
            self.repository.set_version_stage(found.id, LifecycleStage.DELETED, self.clock())
        self._audit_event("dataset.delete", target, {"lifecycle_stage": "deleted"})

    def restore(self, name: str, version: int | None = None) -> None:
        """Undo :meth:`delete`."""
        target = f"dataset:{name}" if version is None else f"dataset:{name}/{version}"
        if version is None:
            self.repository.set_dataset_stage(name, LifecycleStage.ACTIVE, None)
        else:
            found = self.repository.get_version(name, version, include_deleted=True)
            self.repository.set_version_stage(found.id, LifecycleStage.ACTIVE, None)
        self._audit_event("dataset.restore", target, {"lifecycle_stage": "active"})

    def _audit_event(self, action: str, target: str, after: Mapping[str, object]) -> None:
        if self.audit is not None:
            self.audit.record(action, target, after=after)

    def set_tags(self, version: DatasetVersion, tags: Mapping[str, object]) -> None:
        clean = {check_key(k, field="tag key"): tag_text(k, v) for k, v in tags.items()}
        if clean:
            self.repository.set_tags(version.id, clean)

    def delete_tag(self, version: DatasetVersion, key: str) -> None:
        self.repository.delete_tag(version.id, key)

    # -- runs --------------------------------------------------------------------------------

    def log_input(self, run_id: str, version: DatasetVersion, context: str = "train") -> RunInput:
        """Record that run ``run_id`` used ``version`` (``context``: train, eval, ...)."""
        if not isinstance(version, DatasetVersion):
            raise InvalidInputError(
                f"log_input takes a DatasetVersion, got {type(version).__name__}",
                field="dataset",
            )
        check_key(context, field="context")
        return self.repository.add_run_input(
            RunInput(
                run_id=run_id,
                version_id=version.id,
                name=version.name,
                version=version.version,
                digest=version.digest,
                context=context,
                created_at=self.clock(),
            )
        )

    def inputs_of(self, run_id: str) -> list[RunInput]:
        """The dataset versions run ``run_id`` used."""
        return self.repository.run_inputs(run_id)

    def runs_of(self, version: DatasetVersion) -> list[RunInput]:
        """The runs that used ``version``."""
        return self.repository.version_inputs(version.id)


@dataclasses.dataclass(frozen=True)
class _New:
    """What a registration adds besides the data."""

    name: str
    description: str | None
    tags: dict[str, str]
    parents: Sequence[str]
    transform: Transform | None
    report: ValidationReport | None


def _refused(name: str, report: ValidationReport) -> ValidationFailedError:
    failed = report.failures
    listed = ", ".join(r.rule for r in failed[:5]) + (", ..." if len(failed) > 5 else "")
    return ValidationFailedError(
        f"dataset {name!r} was not registered: {len(failed)} of {len(report.results)} "
        f"validation rule(s) failed: {listed}",
        report=report,
    )


def _take(source: BatchStream, rows: np.ndarray[Any, Any]) -> BatchStream:
    """The rows at the (sorted) positions ``rows`` of ``source``, streamed."""

    def open_iter() -> Iterator[pa.RecordBatch]:
        offset = 0
        for batch in source:
            lo, hi = np.searchsorted(rows, [offset, offset + batch.num_rows])
            if hi > lo:
                yield batch.take(pa.array(rows[lo:hi] - offset))
            offset += batch.num_rows

    return BatchStream(
        source.schema,
        open_iter,
        num_rows=len(rows),
        source=source.source,
        stored_schema=source.stored_schema,
    )


def split_ref(ref: str) -> tuple[str, int | None]:
    """``"churn@3"`` -> ``("churn", 3)``; ``"churn"`` -> ``("churn", None)``. The spelling
    is ``NAME@VERSION`` everywhere; ``NAME:VERSION`` is still read.

    >>> split_ref("churn-train@2"), split_ref("churn-train:2"), split_ref("churn")
    (('churn-train', 2), ('churn-train', 2), ('churn', None))
    """
    for separator in ("@", ":"):
        name, found, version = ref.rpartition(separator)
        if found and name and version.isdigit():
            return name, int(version)
    return ref, None
