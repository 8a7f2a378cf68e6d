"""The module-level API: ``mlcycle.start_run``, ``mlcycle.active_run``.

Runs started here form a per-thread stack; the innermost is the active run. The default
client is built from the environment (``MLCYCLE_TRACKING_URI``) on first use, or set
explicitly with :func:`set_client`.
"""

from __future__ import annotations

import atexit
import sys
import threading
from collections.abc import Mapping
from types import TracebackType

from mlcycle.client.client import Client
from mlcycle.entities import Direction, Experiment, Run, RunStatus, Task
from mlcycle.tracking import termination
from mlcycle.tracking.run import ActiveRun

_lock = threading.Lock()
_default: Client | None = None
_local = threading.local()
_all_active: list[ActiveRun] = []
_uncaught: list[BaseException] = []
_experiment: str | None = None


def get_client() -> Client:
    """The client ``start_run`` uses: the one given to :func:`set_client`, or a default."""
    global _default
    with _lock:
        if _default is None:
            _default = Client()
            _install_exit_hooks()
        return _default


def set_client(client: Client | None) -> None:
    """Make ``start_run`` and ``active_run`` use ``client`` (None: back to the default).

    It also forgets the experiment given to :func:`set_experiment`.
    """
    global _default, _experiment
    with _lock:
        _default = client
        _experiment = None
        if client is not None:
            _install_exit_hooks()


def set_experiment(
    name: str,
    *,
    task: Task | str = Task.OTHER,
    target: str | None = None,
    primary_metric: str | None = None,
    direction: Direction | str = Direction.MAXIMIZE,
    threshold: float | None = None,
    description: str | None = None,
    client: Client | None = None,
) -> Experiment:
    """Get or create the experiment ``name`` and make it where ``start_run()`` logs.

    As in MLflow: the experiment is created when missing (with the problem given here) and
    returned as it is when it exists with the same problem; a different problem raises
    ``ConflictError``. ``start_run`` without ``experiment=`` then uses it.

    >>> import mlcycle
    >>> mlcycle.set_experiment("churn", task="classification", target="churned")  # doctest: +SKIP
    """
    global _experiment
    experiment = (client or get_client()).create_experiment(
        name,
        task=task,
        target=target,
        primary_metric=primary_metric,
        direction=direction,
        threshold=threshold,
        description=description,
        exist_ok=True,
    )
    with _lock:
        _experiment = experiment.name
    return experiment


def _stack() -> list[ActiveRun]:
    stack: list[ActiveRun] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = []
        _local.stack = stack
    return stack


def _forget(run: ActiveRun) -> None:
    stack = _stack()
    if run in stack:
        stack.remove(run)
    with _lock:
        if run in _all_active:
            _all_active.remove(run)


def start_run(
    experiment: str | Experiment | None = None,
    name: str | None = None,
    tags: Mapping[str, str] | None = None,
    parent: ActiveRun | Run | str | None = None,
    *,
    description: str | None = None,
    system_metrics: bool = False,
    capture_environment: bool = True,
    client: Client | None = None,
) -> ActiveRun:
    """Start a run and make it the active run.

    ``experiment`` is a name (created when missing) or an ID; by default the parent's
    experiment, else the one given to :func:`set_experiment`, else ``"Default"``.
    ``name`` defaults to a readable generated name.
    ``parent`` nests this run under another. Git commit, Python version, platform and
    installed packages are recorded unless ``capture_environment=False``;
    ``system_metrics=True`` samples CPU and memory in the background.

    >>> import mlcycle
    >>> with mlcycle.start_run(experiment="iris", name="baseline") as run:  # doctest: +SKIP
    ...     run.log_params({"C": 1.0})
    ...     run.log_metric("accuracy", 0.95)
    """
    if experiment is None and parent is None:
        experiment = _experiment
    active = (client or get_client()).start_run(
        experiment,
        name,
        tags,
        parent,
        description=description,
        system_metrics=system_metrics,
        capture_environment=capture_environment,
        on_end=_forget,
    )
    _stack().append(active)
    with _lock:
        _all_active.append(active)
    return active


def active_run() -> ActiveRun | None:
    """The innermost run started with :func:`start_run` in this thread and not ended."""
    stack = _stack()
    return stack[-1] if stack else None


_hooks_installed = False


def _install_exit_hooks() -> None:
    """At interpreter exit, end runs left open: KILLED after Ctrl-C or SIGTERM, FAILED
    after another uncaught error, else FINISHED (their metrics are flushed first). SIGTERM
    is handled like Ctrl-C, and the process then exits with SIGTERM's status (see
    :mod:`mlcycle.tracking.termination`)."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    previous = sys.excepthook

    def _excepthook(
        kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        _uncaught.append(exc)
        if isinstance(exc, termination.Terminated):
            sys.stderr.write(f"mlcycle: {exc}; open runs were ended as KILLED\n")
            return
        previous(kind, exc, tb)

    sys.excepthook = _excepthook
    atexit.register(termination.exit_with_signal)  # runs last: after the runs have ended
    atexit.register(_end_open_runs)
    termination.install()


def _end_open_runs() -> None:
    with _lock:
        runs = list(reversed(_all_active))
    for run in runs:
        try:
            if _uncaught and isinstance(_uncaught[-1], KeyboardInterrupt):
                run.end(RunStatus.KILLED, error=str(_uncaught[-1]) or "KeyboardInterrupt")
            elif _uncaught:
                run.end(RunStatus.FAILED, error=repr(_uncaught[-1]))
            else:
                run.end(RunStatus.FINISHED)
        except Exception:  # the store may be gone at exit; nothing left to do
            pass
