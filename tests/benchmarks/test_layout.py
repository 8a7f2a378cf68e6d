"""The benchmark folder's module names: its helper scripts run as ``python benchmarks/X.py``
in other environments (Evidently's, NannyML's), where the folder comes first on sys.path, so
no module here may share a name with the standard library (``platform.py`` once did)."""

from __future__ import annotations

import sys
from pathlib import Path

import benchmarks


def test_no_benchmark_module_shadows_the_standard_library() -> None:
    folder = Path(benchmarks.__file__).parent
    names = {path.stem for path in folder.glob("*.py")}
    assert names, folder
    assert not names & set(sys.stdlib_module_names)
