"""The input example saved beside a model (JSON, ``{"columns": [...], "data": [[...]]}``)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcycle.models.manifest import ModelManifest
from mlcycle.models.signature import DataType

if TYPE_CHECKING:
    import pandas as pd

EXAMPLE_FILE = "input_example.json"


def write_input_example(frame: pd.DataFrame, directory: Path) -> str:
    """Write ``frame`` as JSON (dates in ISO 8601); returns the file name."""
    text = frame.to_json(orient="split", index=False, date_format="iso", date_unit="us")
    (directory / EXAMPLE_FILE).write_text(text)
    return EXAMPLE_FILE


def read_input_example(directory: Path, manifest: ModelManifest) -> pd.DataFrame | None:
    """The saved example with the dtypes of the signature (JSON keeps only numbers and
    strings)."""
    import pandas as pd

    if manifest.input_example is None:
        return None
    text = (directory / manifest.input_example).read_text()
    frame = pd.read_json(io.StringIO(text), orient="split", dtype=False)
    if manifest.signature is None:
        return frame
    for spec in manifest.signature.inputs:
        if spec.name not in frame.columns:
            continue
        if spec.type is DataType.DATETIME:
            frame[spec.name] = pd.to_datetime(frame[spec.name])
        elif spec.type in (DataType.CATEGORY, DataType.FLOAT) or (
            spec.type is DataType.BOOLEAN and not spec.optional
        ):
            dtype: Any = spec.dtype
            frame[spec.name] = frame[spec.name].astype(dtype)
    return frame
