"""mlcycle itself, as a wheel built from the imported package: the image installs it
without an index (an index that lacks mlcycle, or no network at all, still builds).

The wheel is reproducible: files in sorted order, fixed timestamps and permissions, so
the same package gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from importlib import metadata
from pathlib import Path

import mlcycle
from mlcycle.containers.requirements import source_project

#: 1980-01-01, the earliest time a zip file can hold.
_EPOCH = (1980, 1, 1, 0, 0, 0)
_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


def wheel_name(version: str) -> str:
    return f"mlcycle-{version}-py3-none-any.whl"


def _package_files(root: Path) -> list[Path]:
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix not in _SKIP_SUFFIXES:
            files.append(path)
    return files


def _metadata(version: str) -> tuple[str, str]:
    """The METADATA and entry points: from the source checkout's ``pyproject.toml`` when
    mlcycle is imported from one, else from the installed distribution."""
    project = source_project()
    if project is not None:
        lines = [
            "Metadata-Version: 2.1",
            "Name: mlcycle",
            f"Version: {version}",
            f"Summary: {project.get('description', '')}",
            f"Requires-Python: {project.get('requires-python', '>=3.11')}",
            *(f"Requires-Dist: {r}" for r in project.get("dependencies") or []),
        ]
        scripts = project.get("scripts") or {}
        entry_points = "[console_scripts]\n" + "".join(
            f"{name} = {target}\n" for name, target in sorted(scripts.items())
        )
        return "\n".join(lines) + "\n", entry_points
    try:
        dist = metadata.distribution("mlcycle")
    except metadata.PackageNotFoundError:
        dist = None
    text = dist.read_text("METADATA") if dist is not None else None
    if not text:
        text = f"Metadata-Version: 2.1\nName: mlcycle\nVersion: {version}\n"
    else:  # the installed metadata may be of another version than the imported code
        lines = [
            f"Version: {version}" if line.startswith("Version:") else line
            for line in text.split("\n")
        ]
        text = "\n".join(lines)
    entry_points = (dist.read_text("entry_points.txt") if dist is not None else None) or (
        "[console_scripts]\nmlcycle = mlcycle.cli.app:main\n"
    )
    return text, entry_points


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def build_wheel(directory: Path) -> Path:
    """Write ``mlcycle-<version>-py3-none-any.whl`` of the imported mlcycle into
    ``directory`` and return its path."""
    version = mlcycle.__version__
    root = Path(mlcycle.__file__).parent
    info = f"mlcycle-{version}.dist-info"
    meta, entry_points = _metadata(version)
    entries: list[tuple[str, bytes]] = [
        (f"mlcycle/{p.relative_to(root).as_posix()}", p.read_bytes()) for p in _package_files(root)
    ]
    entries += [
        (f"{info}/METADATA", meta.encode()),
        (
            f"{info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: mlcycle\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        ),
        (f"{info}/entry_points.txt", entry_points.encode()),
    ]
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in entries)
    entries.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode()))
    path = directory / wheel_name(version)
    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries:
            item = zipfile.ZipInfo(name, date_time=_EPOCH)
            item.external_attr = 0o644 << 16
            item.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(item, data, compresslevel=6)
    return path
