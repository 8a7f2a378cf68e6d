"""Compliance bundles: one zip with what an auditor asks for about a model version.

The client gathers the files (model card, audit events, evaluation reports, data profiles
and validation reports, lineage); :func:`write_bundle` writes them with ``manifest.json``,
which lists every file's size and SHA-256, so the bundle can be checked later
(:func:`verify_bundle`).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlcycle.errors import InvalidInputError

MANIFEST = "manifest.json"


def write_bundle(
    path: str | Path, files: Mapping[str, bytes], *, about: Mapping[str, Any]
) -> dict[str, Any]:
    """Write ``files`` (archive name -> bytes) and their manifest to the zip at ``path``.

    ``about`` (model, version, created_at...) goes into the manifest. Returns the manifest.
    The zip is written to a temporary name first, so a failure leaves no half bundle.
    """
    target = Path(path)
    if MANIFEST in files:
        raise InvalidInputError(f"{MANIFEST} is written by the bundle itself", field="files")
    manifest: dict[str, Any] = {
        **dict(about),
        "files": [
            {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in sorted(files.items())
        ],
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    partial.replace(target)
    return manifest


def verify_bundle(path: str | Path) -> list[str]:
    """Problems found checking a bundle against its manifest (empty: it is intact).

    >>> verify_bundle("bundle.zip")  # doctest: +SKIP
    []
    """
    problems: list[str] = []
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        names = set(archive.namelist()) - {MANIFEST}
        listed = {f["path"]: f for f in manifest["files"]}
        for name in sorted(names - set(listed)):
            problems.append(f"{name}: not in the manifest")
        for name, entry in sorted(listed.items()):
            if name not in names:
                problems.append(f"{name}: missing")
                continue
            digest = hashlib.sha256(archive.read(name)).hexdigest()
            if digest != entry["sha256"]:
                problems.append(f"{name}: checksum differs from the manifest")
    return problems
