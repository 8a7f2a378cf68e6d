"""The lock's hashes come from a PEP 691 index (a real HTTP server here); without the
index the lock goes without hashes and says why."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mlcycle.containers.hashes import add_hashes
from mlcycle.containers.requirements import Lock, Pin, render_lock
from tests.server.live import free_port

PROJECTS = {
    "numpy": [
        {
            "filename": "numpy-2.0.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "hashes": {"sha256": "b" * 64},
        },
        {"filename": "numpy-2.0.0.tar.gz", "hashes": {"sha256": "a" * 64}},
        {"filename": "numpy-1.26.4.tar.gz", "hashes": {"sha256": "c" * 64}},
        {
            "filename": "numpy-2.0.0-cp311-cp311-win_amd64.whl",
            "hashes": {"sha256": "d" * 64},
            "yanked": "broken",
        },
    ],
    "typing-extensions": [
        {"filename": "typing_extensions-4.12.2-py3-none-any.whl", "hashes": {"sha256": "e" * 64}}
    ],
}


class _Index(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        name = self.path.strip("/").split("/")[-1]
        files = PROJECTS.get(name)
        if files is None or "json" not in self.headers.get("Accept", ""):
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps({"meta": {"api-version": "1.0"}, "name": name, "files": files})
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def index() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    server.shutdown()
    server.server_close()


def _lock(*pins: tuple[str, str]) -> Lock:
    return Lock(pins=tuple(Pin(name=n, version=v) for n, v in pins), python_version="3.11")


def test_every_file_of_the_pinned_version_is_hashed(index: str) -> None:
    lock = add_hashes(_lock(("numpy", "2.0.0"), ("typing-extensions", "4.12.2")), index_url=index)
    assert lock.hashed
    assert lock.pins[0].hashes == ("a" * 64, "b" * 64)  # not 1.26.4's, not the yanked one
    assert lock.pins[1].hashes == ("e" * 64,)
    text = render_lock(lock, source="models:/churn/1", mlcycle_version="0.1.0")
    assert "--require-hashes" in text
    assert (
        f"numpy==2.0.0 \\\n    --hash=sha256:{'a' * 64} \\\n    --hash=sha256:{'b' * 64}\n" in text
    )


def test_a_pin_the_index_lacks_leaves_the_lock_unhashed_with_a_note(index: str) -> None:
    lock = add_hashes(_lock(("numpy", "2.0.0"), ("scipy", "1.14.0")), index_url=index)
    assert not lock.hashed
    assert all(not p.hashes for p in lock.pins)
    assert any("scipy" in note and "404" in note for note in lock.notes)
    text = render_lock(lock, source="models:/churn/1", mlcycle_version="0.1.0")
    assert "No hashes" in text
    assert "--hash" not in text


def test_an_unreachable_index_leaves_the_lock_unhashed() -> None:
    url = f"http://127.0.0.1:{free_port()}/simple"  # nothing listens there
    lock = add_hashes(_lock(("numpy", "2.0.0")), index_url=url)
    assert not lock.hashed
    assert "the index could not give them" in lock.notes[-1]
