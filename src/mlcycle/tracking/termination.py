"""SIGTERM handled like Ctrl-C in processes that own runs.

Kubernetes, Slurm and systemd stop a process with SIGTERM. Python's default handling of it
ends the process at once, skipping ``finally`` blocks and exit hooks, so a run would stay
RUNNING forever and its last metric points would be lost. With :func:`install` (done when a
process starts its first run through ``mlcycle.start_run``), SIGTERM raises
:class:`Terminated` (a ``KeyboardInterrupt``) in the main thread instead: ``with`` blocks
unwind, each run is flushed and ended as KILLED, and at exit the process ends with SIGTERM's
own status (143 in a shell), as the supervisor expects.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

__all__ = ["Terminated", "exit_with_signal", "install", "received"]

_received: list[int] = []


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM."""


def _handler(signum: int, frame: FrameType | None) -> None:
    if _received:
        return  # already unwinding: let the first one finish
    _received.append(signum)
    raise Terminated(f"received {signal.Signals(signum).name}")


def install() -> bool:
    """Handle SIGTERM like SIGINT, unless the program set its own handler (or this is not
    the main thread). Returns whether the handler is in place."""
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return signal.getsignal(signal.SIGTERM) is _handler
    signal.signal(signal.SIGTERM, _handler)
    return True


def received() -> int | None:
    """The signal that started termination, if one did."""
    return _received[0] if _received else None


def exit_with_signal() -> None:
    """At exit (after the runs were ended), die of the signal received, so the exit status
    says "terminated by SIGTERM" rather than "failed"."""
    signum = received()
    if signum is None:
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
