"""One contract for every artifact store: the same tests on a local folder and on a real
S3-compatible server."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from mlcycle.artifacts import LocalArtifactStore, S3ArtifactStore
from mlcycle.artifacts.s3 import PART_SIZE
from mlcycle.errors import ArtifactNotFoundError, InvalidInputError

Files = LocalArtifactStore | S3ArtifactStore


def test_bytes_round_trip_with_their_digest(files: Files) -> None:
    size, sha = files.put_bytes("runs/r1/notes.txt", b"hello")
    assert (size, sha) == (5, hashlib.sha256(b"hello").hexdigest())
    with files.open("runs/r1/notes.txt") as handle:
        assert handle.read() == b"hello"
    assert files.exists("runs/r1/notes.txt")
    assert files.size("runs/r1/notes.txt") == 5
    assert not files.exists("runs/r1/other.txt")


def test_a_large_stream_goes_up_in_parts_and_reads_back_in_ranges(
    files: Files, tmp_path: Path
) -> None:
    data = os.urandom(2 * PART_SIZE + 12345)  # three parts of a multipart upload
    size, sha = files.put_stream("big/blob.bin", io.BytesIO(data))
    assert (size, sha) == (len(data), hashlib.sha256(data).hexdigest())
    with files.open("big/blob.bin") as handle:
        handle.seek(PART_SIZE - 10)
        assert handle.read(20) == data[PART_SIZE - 10 : PART_SIZE + 10]
        handle.seek(0)
        assert hashlib.sha256(handle.read()).hexdigest() == sha
    copy = files.download("big/blob.bin", tmp_path / "out" / "blob.bin")
    assert copy.read_bytes() == data
    assert not list((tmp_path / "out").glob(".*part"))


def test_keys_list_by_folder_sorted(files: Files) -> None:
    for key in ["runs/a/2.txt", "runs/a/1.txt", "runs/a/sub/3.txt", "runs/ab/4.txt"]:
        files.put_bytes(key, b"x")
    assert list(files.iter_keys("runs/a")) == ["runs/a/1.txt", "runs/a/2.txt", "runs/a/sub/3.txt"]
    assert list(files.iter_keys("nothing/here")) == []


def test_write_then_rename_publishes_whole_files(files: Files) -> None:
    with files.open_write("datasets/.tmp-x") as sink:
        sink.write(b"part one, ")
        sink.write(b"part two")
    files.rename("datasets/.tmp-x", "datasets/final.parquet")
    with files.open("datasets/final.parquet") as handle:
        assert handle.read() == b"part one, part two"
    assert not files.exists("datasets/.tmp-x")
    with pytest.raises(ArtifactNotFoundError):
        files.rename("datasets/missing", "datasets/other")


def test_delete_and_delete_prefix_are_quiet_when_nothing_is_there(files: Files) -> None:
    files.put_bytes("gc/a/1", b"1")
    files.put_bytes("gc/a/2", b"2")
    files.put_bytes("gc/b/3", b"3")
    files.delete("gc/a/1")
    files.delete("gc/a/1")
    files.delete_prefix("gc/a")
    files.delete_prefix("gc/none")
    assert list(files.iter_keys("gc")) == ["gc/b/3"]


def test_a_missing_artifact_is_not_found(files: Files, tmp_path: Path) -> None:
    with pytest.raises(ArtifactNotFoundError, match="no artifact at 'x/y'"):
        files.open("x/y")
    with pytest.raises(ArtifactNotFoundError):
        files.download("x/y", tmp_path / "y")
    with pytest.raises(ArtifactNotFoundError):
        files.size("x/y")
    assert not (tmp_path / "y").exists()


@pytest.mark.parametrize("key", ["../escape", "/abs/../x", "a/../../b", ""])
def test_keys_that_escape_the_root_are_refused(files: Files, key: str) -> None:
    with pytest.raises(InvalidInputError, match="relative path"):
        files.put_bytes(key, b"x")


def test_a_local_source_that_is_missing_is_named(files: Files, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no file at"):
        files.put_file("k", tmp_path / "missing.bin")
