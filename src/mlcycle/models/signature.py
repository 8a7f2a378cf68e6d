"""Model signatures: the columns a model takes, inferred from an input example, and the
check every prediction's input goes through.

>>> import pandas as pd
>>> sig = infer_signature(pd.DataFrame({"age": [31, 45], "plan": ["a", "b"]}))
>>> [(c.name, c.type.value, c.optional) for c in sig.inputs]
[('age', 'integer', False), ('plan', 'string', False)]

Checking input against a signature (:func:`Signature.prepare`):

* a required column that is missing raises :class:`InvalidInputError` naming it; a missing
  optional column (one that had missing values in the example) is added as all-missing;
* a column of the wrong kind raises :class:`InvalidInputError` naming the column, its
  dtype and the expected type;
* safe casts are applied: integer to float, string to category, and columns of Python
  objects that hold only numbers or only strings;
* extra columns are dropped and the rest put in the signature's order, so estimators that
  check feature names see exactly the columns they were fitted on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcycle.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

# pandas is imported inside the functions that use it: ``import mlcycle`` (which imports
# this module through ``mlcycle.models``) does not load it.


class DataType(StrEnum):
    """The logical type of a column; a column's dtype must be of this kind (or cast safely)."""

    BOOLEAN = "boolean"
    INTEGER = "integer"
    FLOAT = "float"
    STRING = "string"
    CATEGORY = "category"
    DATETIME = "datetime"
    OBJECT = "object"


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a signature.

    ``dtype`` is the pandas dtype of the example (what casts convert to); ``optional``
    means missing values are expected in it and it may be left out of the input.
    """

    name: str
    type: DataType
    dtype: str
    optional: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type.value,
            "dtype": self.dtype,
            "optional": self.optional,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSpec:
        try:
            kind = DataType(data["type"])
            name = str(data["name"])
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidInputError(
                f"signature column {dict(data)!r} needs a name and a type out of "
                f"{', '.join(t.value for t in DataType)}",
                field="signature",
            ) from exc
        return cls(
            name=name,
            type=kind,
            dtype=str(data.get("dtype") or _DEFAULT_DTYPE[kind]),
            optional=bool(data.get("optional", False)),
        )


_DEFAULT_DTYPE = {
    DataType.BOOLEAN: "bool",
    DataType.INTEGER: "int64",
    DataType.FLOAT: "float64",
    DataType.STRING: "object",
    DataType.CATEGORY: "category",
    DataType.DATETIME: "datetime64[ns]",
    DataType.OBJECT: "object",
}


@dataclass(frozen=True)
class Signature:
    """The input columns of a model and, when known, the columns of its output."""

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...] | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.inputs]

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [c.to_dict() for c in self.inputs],
            "outputs": None if self.outputs is None else [c.to_dict() for c in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        inputs = data.get("inputs")
        if not isinstance(inputs, Sequence) or isinstance(inputs, str):
            raise InvalidInputError(
                "a signature needs 'inputs': a list of columns", field="signature"
            )
        outputs = data.get("outputs")
        return cls(
            inputs=tuple(ColumnSpec.from_dict(c) for c in inputs),
            outputs=None if outputs is None else tuple(ColumnSpec.from_dict(c) for c in outputs),
        )

    def prepare(self, data: object) -> pd.DataFrame:
        """``data`` checked against the inputs, safely cast, in the signature's column order.

        Accepts a DataFrame, a mapping of column name to values, a list of row dicts, or a
        2-D NumPy array with one column per input (in order). Raises InvalidInputError
        naming the column that is missing or of the wrong type.
        """
        import pandas as pd

        frame = to_frame(data, names=self.column_names)
        present = set(frame.columns)
        columns: dict[str, Any] = {}
        changed = list(frame.columns) != self.column_names
        for spec in self.inputs:
            if spec.name not in present:
                if not spec.optional:
                    raise InvalidInputError(
                        f"column {spec.name!r} is missing: the model's signature needs it "
                        f"({spec.type.value}, dtype {spec.dtype})",
                        field=spec.name,
                    )
                columns[spec.name] = _missing_column(spec, len(frame), frame.index)
                changed = True
                continue
            column = frame[spec.name]
            checked = _check_column(column, spec)
            if checked is not column:
                changed = True
            columns[spec.name] = checked
        if not changed:
            return frame
        return pd.DataFrame(columns, index=frame.index, copy=False)


def infer_signature(input_example: object, output: object | None = None) -> Signature:
    """A signature from an input example (and optionally the model's output on it).

    Column names and dtypes come from the example; columns with missing values are
    optional.
    """
    frame = to_frame(input_example)
    if len(frame.columns) == 0:
        raise InvalidInputError("the input example has no columns", field="input_example")
    inputs = tuple(_spec(str(name), frame[name]) for name in frame.columns)
    outputs = None if output is None else _output_specs(output)
    return Signature(inputs=inputs, outputs=outputs)


def to_frame(data: object, *, names: Sequence[str] | None = None) -> pd.DataFrame:
    """A DataFrame with string column names from a DataFrame, Series, mapping, list of row
    dicts or 2-D array (whose columns take ``names`` when given, else ``"0"``, ``"1"``...)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, pd.Series):
        frame = data.to_frame()
    elif isinstance(data, Mapping):
        frame = pd.DataFrame(dict(data))
    elif isinstance(data, np.ndarray):
        array = data.reshape(-1, 1) if data.ndim == 1 else data
        if array.ndim != 2:
            raise InvalidInputError(
                f"model input must be 2-D (rows x columns), got an array of shape {data.shape}",
                field="data",
            )
        if names is not None and len(names) != array.shape[1]:
            raise InvalidInputError(
                f"the array has {array.shape[1]} columns but the model's signature has "
                f"{len(names)}: {', '.join(names)}",
                field="data",
            )
        frame = pd.DataFrame(array, columns=list(names) if names is not None else None)
    elif isinstance(data, list) and all(isinstance(row, Mapping) for row in data):
        frame = pd.DataFrame(data)
    else:
        raise InvalidInputError(
            "model input must be a pandas DataFrame, a dict of columns, a list of row dicts "
            f"or a 2-D NumPy array, got {type(data).__name__}",
            field="data",
        )
    if not all(isinstance(c, str) for c in frame.columns):
        frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    return frame


# -- inference ----------------------------------------------------------------------------


def kind_of(dtype: Any, column: pd.Series | None = None) -> DataType:
    """The logical type of a pandas dtype (object columns are looked into when given)."""
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype):
        return DataType.CATEGORY
    if pd.api.types.is_bool_dtype(dtype):
        return DataType.BOOLEAN
    if pd.api.types.is_integer_dtype(dtype):
        return DataType.INTEGER
    if pd.api.types.is_float_dtype(dtype):
        return DataType.FLOAT
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DataType.DATETIME
    if isinstance(dtype, pd.StringDtype):
        return DataType.STRING
    if column is not None and pd.api.types.is_object_dtype(dtype):
        return _OBJECT_KINDS.get(pd.api.types.infer_dtype(column, skipna=True), DataType.OBJECT)
    return DataType.OBJECT


_OBJECT_KINDS = {
    "string": DataType.STRING,
    "empty": DataType.STRING,
    "integer": DataType.INTEGER,
    "floating": DataType.FLOAT,
    "mixed-integer-float": DataType.FLOAT,
    "boolean": DataType.BOOLEAN,
    "datetime64": DataType.DATETIME,
    "datetime": DataType.DATETIME,
}


def _spec(name: str, column: pd.Series) -> ColumnSpec:
    kind = kind_of(column.dtype, column)
    return ColumnSpec(
        name=name, type=kind, dtype=str(column.dtype), optional=bool(column.isna().any())
    )


def _output_specs(output: object) -> tuple[ColumnSpec, ...]:
    import pandas as pd

    if isinstance(output, pd.DataFrame):
        return tuple(_spec(str(c), output[c]) for c in output.columns)
    array = np.asarray(output)
    if array.ndim == 1:
        return (_spec("prediction", pd.Series(array)),)
    if array.ndim == 2:
        return tuple(_spec(str(i), pd.Series(array[:, i])) for i in range(array.shape[1]))
    raise InvalidInputError(
        f"cannot describe a model output of shape {array.shape}", field="signature"
    )


# -- checking -----------------------------------------------------------------------------


def _check_column(column: pd.Series, spec: ColumnSpec) -> pd.Series:
    expected = spec.type
    if expected is DataType.OBJECT:
        return column
    kind = kind_of(column.dtype)
    if kind is expected:
        return column
    if kind is DataType.OBJECT:  # Python objects: look at the values once
        kind = kind_of(column.dtype, column)
        if kind is expected and expected is not DataType.STRING:
            return _cast(column, spec, kind)
        if kind is expected:
            return column
    if expected is DataType.FLOAT and kind is DataType.INTEGER:
        return _cast(column, spec, kind)
    if expected is DataType.STRING and kind is DataType.CATEGORY:
        return column
    if expected is DataType.CATEGORY and kind is DataType.STRING:
        return column.astype("category")
    raise InvalidInputError(
        f"column {spec.name!r} has dtype {column.dtype} ({kind.value}) but the model's "
        f"signature expects {expected.value} (dtype {spec.dtype}); "
        f"{_HINTS.get((kind, expected), 'convert the column before predicting')}",
        field=spec.name,
    )


_HINTS = {
    (DataType.FLOAT, DataType.INTEGER): "floats are not cast to integers, which loses values",
    (DataType.STRING, DataType.FLOAT): "parse the strings into numbers first",
    (DataType.STRING, DataType.INTEGER): "parse the strings into numbers first",
}


def _cast(column: pd.Series, spec: ColumnSpec, kind: DataType) -> pd.Series:
    import pandas as pd

    target: Any = spec.dtype
    if spec.type is DataType.FLOAT and not pd.api.types.is_float_dtype(target):
        target = "float64"
    if spec.type is DataType.INTEGER and column.isna().any():
        target = "Int64"  # missing values need pandas' nullable integers
    try:
        return column.astype(target)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"column {spec.name!r} ({kind.value}) cannot be cast to {target}: {exc}",
            field=spec.name,
        ) from exc


def _missing_column(spec: ColumnSpec, length: int, index: pd.Index) -> pd.Series:
    import pandas as pd

    if spec.type in (DataType.FLOAT, DataType.INTEGER):
        return pd.Series(np.full(length, np.nan), index=index, name=spec.name)
    if spec.type is DataType.DATETIME:
        return pd.Series(pd.NaT, index=index, name=spec.name, dtype="datetime64[ns]")
    return pd.Series([None] * length, index=index, name=spec.name, dtype=object)
