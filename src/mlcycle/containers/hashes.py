"""The sha256 of each pinned distribution's files, from the package index's JSON simple
API (PEP 691), asked only while a context is built.

Every file of the pinned version is listed (wheels for every platform and the sdist), as
``pip-compile --generate-hashes`` does, so the lock installs on any architecture. When the
index cannot be reached, or lacks a pin, the lock goes without hashes (pip needs all or
none) and says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from mlcycle.containers.requirements import Lock, Pin

DEFAULT_INDEX = "https://pypi.org/simple"
_ACCEPT = "application/vnd.pypi.simple.v1+json"
_TIMEOUT_S = 10.0
_THREADS = 8


class IndexUnavailable(Exception):
    """The index did not answer for a pin (offline, unknown project or version)."""


def _version_of(filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def fetch_hashes(http: httpx.Client, index_url: str, pin: Pin) -> tuple[str, ...]:
    """The sha256 of every file of ``pin.name==pin.version`` on the index."""
    url = f"{index_url.rstrip('/')}/{canonicalize_name(pin.name)}/"
    try:
        response = http.get(url, headers={"Accept": _ACCEPT})
    except httpx.HTTPError as exc:
        raise IndexUnavailable(f"{url}: {exc}") from exc
    if response.status_code != 200:
        raise IndexUnavailable(f"{url} answered {response.status_code}")
    try:
        files = response.json()["files"]
    except (ValueError, KeyError) as exc:
        raise IndexUnavailable(f"{url} did not answer PEP 691 JSON") from exc
    wanted = Version(pin.version)
    found = sorted(
        {
            str(f["hashes"]["sha256"])
            for f in files
            if isinstance(f, dict)
            and "sha256" in (f.get("hashes") or {})
            and not f.get("yanked")
            and _version_of(str(f.get("filename", ""))) == wanted
        }
    )
    if not found:
        raise IndexUnavailable(f"{url} lists no files of {pin.name} {pin.version}")
    return tuple(found)


def add_hashes(lock: Lock, *, index_url: str = DEFAULT_INDEX) -> Lock:
    """``lock`` with every pin's hashes, or unchanged with a note saying why not."""
    pins: Sequence[Pin] = lock.pins
    if not pins:
        return replace(lock, hashed=True)
    with (
        httpx.Client(timeout=_TIMEOUT_S, follow_redirects=True) as http,
        ThreadPoolExecutor(max_workers=_THREADS) as pool,
    ):
        futures = [pool.submit(fetch_hashes, http, index_url, pin) for pin in pins]
        results: list[tuple[str, ...] | IndexUnavailable] = []
        for future in futures:
            try:
                results.append(future.result())
            except IndexUnavailable as exc:
                results.append(exc)
    failed = [r for r in results if isinstance(r, IndexUnavailable)]
    if failed:
        note = f"no hashes: the index could not give them ({failed[0]})"
        return replace(lock, notes=(*lock.notes, note))
    hashed = tuple(
        replace(pin, hashes=r) for pin, r in zip(pins, results, strict=True) if isinstance(r, tuple)
    )
    return replace(lock, pins=hashed, hashed=True)
