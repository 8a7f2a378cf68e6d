"""A client thread sending requests continuously and recording every answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx


@dataclass
class Answer:
    status: int
    version: str | None
    arm: str | None
    request_id: str


@dataclass
class Traffic:
    """Posts ``body(i)`` to ``url`` in a loop until stopped; ``answers`` in order."""

    url: str
    body: Callable[[int], object]
    headers: Callable[[int], dict[str, str]] = lambda i: {}
    answers: list[Answer] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=60) as http:
            i = 0
            while not self._stop.is_set():
                try:
                    response = http.post(self.url, json=self.body(i), headers=self.headers(i))
                except httpx.HTTPError as exc:  # a refused or dropped connection is a failure
                    self.failures.append(repr(exc))
                    continue
                self.answers.append(
                    Answer(
                        response.status_code,
                        response.headers.get("x-model-version"),
                        response.headers.get("x-deployment-arm"),
                        response.headers.get("x-request-id", ""),
                    )
                )
                i += 1

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def wait_for(self, check: Callable[[Answer], bool], timeout: float = 90.0) -> Answer:
        """Wait until an answer after now satisfies ``check``."""
        start = len(self.answers)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for answer in self.answers[start:]:
                if check(answer):
                    return answer
            time.sleep(0.02)
        raise TimeoutError(f"no answer matched within {timeout} s: {self.answers[-5:]}")
