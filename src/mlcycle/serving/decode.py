"""Request bodies into columns: MLflow's ``/invocations`` formats, CSV, and Open Inference
Protocol tensors.

Decoding checks shape only (a body that does not parse, ragged rows, a tensor whose data
does not fill its shape: :class:`MalformedRequestError`, HTTP 400); the columns are checked
against the model's signature afterwards (:mod:`mlcycle.serving.model`). No pandas here:
values stay Python lists or NumPy arrays until a batch is built.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from mlcycle.serving.errors import MalformedRequestError, UnsupportedMediaTypeError

MLFLOW_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


@dataclass(slots=True)
class Inputs:
    """Decoded input rows: named ``columns`` (lists or 1-D arrays of equal length), or a
    ``matrix`` (2-D array or list of row lists) whose columns are ``names``, or, without
    names, follow the signature's order."""

    rows: int
    columns: dict[str, Any] | None = None
    matrix: Any = None
    names: list[str] | None = None

    def named_columns(self) -> dict[str, Any] | None:
        """The columns by name (None for unnamed rows)."""
        if self.columns is None and self.names is not None:
            self.columns = _matrix_columns(self.names, self.matrix)
        return self.columns


def _matrix_columns(names: list[str], matrix: Any) -> dict[str, Any]:
    if isinstance(matrix, np.ndarray):
        return {name: matrix[:, j] for j, name in enumerate(names)}
    if not matrix:
        return {name: [] for name in names}
    return {n: list(col) for n, col in zip(names, zip(*matrix, strict=True), strict=True)}


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedRequestError(f"the request body is not valid JSON: {exc}") from None


def mlflow_inputs(body: bytes, content_type: str) -> Inputs:
    """The rows of an ``/invocations`` body (JSON in one of MLflow's formats, or CSV)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "text/csv":
        return csv_inputs(body)
    if kind not in ("application/json", ""):
        raise UnsupportedMediaTypeError(
            f"content type {content_type!r} is not supported: use application/json or text/csv",
            field="content-type",
        )
    data = parse_json(body)
    if not isinstance(data, dict):
        raise MalformedRequestError(_FORMATS_HINT)
    found = [key for key in MLFLOW_FORMATS if key in data]
    if len(found) != 1:
        raise MalformedRequestError(_FORMATS_HINT)
    key = found[0]
    value = data[key]
    if key == "dataframe_split":
        return split_inputs(value)
    if key == "dataframe_records":
        if not isinstance(value, list):
            raise MalformedRequestError("dataframe_records must be a list of row objects")
        return records_inputs(value, key)
    return instances_inputs(value, key)


_FORMATS_HINT = (
    "the body must be a JSON object with exactly one of dataframe_split, dataframe_records, "
    "instances or inputs"
)


def split_inputs(value: object) -> Inputs:
    """``{"columns": [...], "data": [[...], ...]}`` (pandas' split orient)."""
    if not isinstance(value, dict) or "data" not in value:
        raise MalformedRequestError(
            'dataframe_split must be an object {"columns": [...], "data": [[...], ...]}',
            field="dataframe_split",
        )
    data = value["data"]
    columns = value.get("columns")
    # the checks run per request: map and set keep them out of Python-level loops
    if not isinstance(data, list) or not _only(data, list):
        raise MalformedRequestError(
            "dataframe_split.data must be a list of rows (lists)", field="dataframe_split"
        )
    if columns is None:
        return rows_inputs(data, "dataframe_split.data")
    if not isinstance(columns, list) or not _only(columns, str):
        raise MalformedRequestError(
            "dataframe_split.columns must be a list of column names", field="dataframe_split"
        )
    if len(set(columns)) != len(columns):
        raise MalformedRequestError("dataframe_split.columns has duplicates", field="columns")
    width = len(columns)
    if data and set(map(len, data)) != {width}:
        for i, row in enumerate(data):
            if len(row) != width:
                raise MalformedRequestError(
                    f"row {i} has {len(row)} values but there are {width} columns", field="data"
                )
    array = _numeric(data) if data else None
    return Inputs(rows=len(data), matrix=data if array is None else array, names=columns)


def _only(values: list[Any], kind: type) -> bool:
    """Whether every item of ``values`` is a ``kind`` (JSON gives exact types, no
    subclasses, so comparing types is enough)."""
    return set(map(type, values)) <= {kind}


def _numeric(data: list[list[Any]]) -> np.ndarray | None:
    """``data`` as one 2-D array when every value is a number (the common, fast case)."""
    try:
        array = np.asarray(data)
    except (ValueError, TypeError):
        return None
    if array.ndim != 2 or array.dtype.kind not in "fiu":
        return None
    return array


def rows_inputs(rows: list[Any], where: str) -> Inputs:
    """Unnamed rows (lists), in the order of the signature's columns."""
    width = len(rows[0]) if rows else 0
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            raise MalformedRequestError(
                f"{where}: every row must be a list of {width} values (row {i} is not)",
                field=where,
            )
    matrix = _numeric(rows)
    return Inputs(rows=len(rows), matrix=matrix if matrix is not None else rows)


def records_inputs(records: list[Any], where: str) -> Inputs:
    """A list of row objects; a key missing from a row is a missing value."""
    names: dict[str, None] = {}
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise MalformedRequestError(f"{where}[{i}] must be an object of column values")
        for key in record:
            names.setdefault(key, None)
    columns = {name: [record.get(name) for record in records] for name in names}
    return Inputs(rows=len(records), columns=columns)


def instances_inputs(value: object, where: str) -> Inputs:
    """TF-serving style ``instances``/``inputs``: row objects, row lists, a list of scalars
    (one column), or an object of columns."""
    if isinstance(value, dict):
        return columns_inputs(value, where)
    if not isinstance(value, list):
        raise MalformedRequestError(f"{where} must be a list of rows or an object of columns")
    if value and all(isinstance(row, dict) for row in value):
        return records_inputs(value, where)
    if value and all(isinstance(row, list) for row in value):
        return rows_inputs(value, where)
    if any(isinstance(row, list | dict) for row in value):
        raise MalformedRequestError(f"{where} mixes rows of different kinds", field=where)
    return Inputs(rows=len(value), matrix=[[v] for v in value])


def columns_inputs(value: Mapping[str, Any], where: str) -> Inputs:
    """An object of columns: each a list of values (a scalar is one row)."""
    columns: dict[str, Any] = {}
    length: int | None = None
    for name, values in value.items():
        column = values if isinstance(values, list) else [values]
        if length is not None and len(column) != length:
            raise MalformedRequestError(
                f"{where}: column {name!r} has {len(column)} values, others {length}", field=name
            )
        length = len(column)
        columns[name] = column
    return Inputs(rows=length or 0, columns=columns)


def csv_inputs(body: bytes) -> Inputs:
    """CSV with a header row."""
    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(body))
    except (ValueError, UnicodeDecodeError) as exc:  # pandas' parser errors are ValueErrors
        raise MalformedRequestError(f"the CSV body does not parse: {exc}") from None
    columns = {str(name): frame[name].to_numpy() for name in frame.columns}
    return Inputs(rows=len(frame), columns=columns)


# -- Open Inference Protocol -------------------------------------------------------------

_OIP_KINDS = {
    "BOOL": "b",
    "UINT8": "iu",
    "UINT16": "iu",
    "UINT32": "iu",
    "UINT64": "iu",
    "INT8": "iu",
    "INT16": "iu",
    "INT32": "iu",
    "INT64": "iu",
    "FP16": "fiu",
    "FP32": "fiu",
    "FP64": "fiu",
    "BYTES": "USO",
}


@dataclass(slots=True)
class InferRequest:
    """An OIP inference request: its ``id``, the rows, and the output names asked for."""

    id: str | None
    inputs: Inputs
    outputs: tuple[str, ...] | None


def oip_inputs(body: bytes) -> InferRequest:
    """Decode ``{"inputs": [{"name", "shape", "datatype", "data"}, ...]}``.

    One tensor per column (shape ``[n]`` or ``[n, 1]``), or a single 2-D tensor ``[n, k]``
    whose columns follow the signature's order.
    """
    data = parse_json(body)
    if not isinstance(data, dict) or not isinstance(data.get("inputs"), list) or not data["inputs"]:
        raise MalformedRequestError(
            'the body must be an object {"inputs": [{"name", "shape", "datatype", "data"}]}',
            field="inputs",
        )
    request_id = data.get("id")
    outputs = data.get("outputs")
    names: tuple[str, ...] | None = None
    if outputs is not None:
        if not isinstance(outputs, list) or not all(
            isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs
        ):
            raise MalformedRequestError("outputs must be a list of {name}", field="outputs")
        names = tuple(o["name"] for o in outputs)
    tensors = [_tensor(t, i) for i, t in enumerate(data["inputs"])]
    if len(tensors) == 1 and tensors[0][1].ndim == 2 and tensors[0][1].shape[1] != 1:
        matrix = tensors[0][1]
        inputs = Inputs(rows=matrix.shape[0], matrix=matrix)
    else:
        columns: dict[str, Any] = {}
        rows: int | None = None
        for name, array in tensors:
            if array.ndim == 2 and array.shape[1] == 1:
                array = array[:, 0]
            if array.ndim != 1:
                raise MalformedRequestError(
                    f"tensor {name!r} must have shape [n] or [n, 1] (one column) when several "
                    "tensors are sent",
                    field=name,
                )
            if rows is not None and array.shape[0] != rows:
                raise MalformedRequestError(
                    f"tensor {name!r} has {array.shape[0]} rows, others {rows}", field=name
                )
            if name in columns:
                raise MalformedRequestError(f"tensor {name!r} is given twice", field=name)
            rows = array.shape[0]
            columns[name] = array
        inputs = Inputs(rows=rows or 0, columns=columns)
    return InferRequest(
        id=request_id if isinstance(request_id, str) else None, inputs=inputs, outputs=names
    )


def _tensor(tensor: object, index: int) -> tuple[str, np.ndarray]:
    where = f"inputs[{index}]"
    if not isinstance(tensor, dict):
        raise MalformedRequestError(f"{where} must be a tensor object", field=where)
    name, shape, datatype = tensor.get("name"), tensor.get("shape"), tensor.get("datatype")
    if not isinstance(name, str) or not name:
        raise MalformedRequestError(f"{where}.name must be a non-empty string", field=where)
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise MalformedRequestError(f"{where}.shape must be a list of sizes", field=name)
    kinds = _OIP_KINDS.get(datatype) if isinstance(datatype, str) else None
    if kinds is None:
        raise MalformedRequestError(
            f"{where}.datatype {datatype!r} is not one of {', '.join(_OIP_KINDS)}", field=name
        )
    if "data" not in tensor:
        raise MalformedRequestError(f"{where} has no data", field=name)
    try:
        array = np.asarray(tensor["data"], dtype=object if datatype == "BYTES" else None)
    except (ValueError, TypeError):
        raise MalformedRequestError(f"tensor {name!r} has ragged data", field=name) from None
    size = int(np.prod(shape)) if shape else 1
    if array.size != size or len(shape) not in (1, 2):
        raise MalformedRequestError(
            f"tensor {name!r} has {array.size} values, its shape {shape} needs {size} "
            "(shape must be [n] or [n, k])",
            field=name,
        )
    if array.size and array.dtype.kind not in kinds:
        raise MalformedRequestError(
            f"tensor {name!r} is declared {datatype} but holds {array.dtype.kind!r} values",
            field=name,
        )
    if datatype == "BYTES" and array.size and not all(isinstance(v, str) for v in array.flat):
        raise MalformedRequestError(f"tensor {name!r} (BYTES) must hold strings", field=name)
    if str(datatype).startswith("FP"):
        array = array.astype(np.float64, copy=False)
    return name, array.reshape(shape)
