"""``build_docker``: a build context built into an image by the local Docker daemon.

When no daemon answers, :class:`DockerUnavailableError` says why and how to build the
context on another machine; nothing is half-built.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcycle.containers.builder import BuildContext, build_context
from mlcycle.errors import MlcycleError

_PROBE_TIMEOUT_S = 20


class DockerUnavailableError(MlcycleError):
    """No Docker daemon is reachable from here."""


class DockerBuildError(MlcycleError):
    """``docker build`` failed (its output was streamed to stderr)."""


@dataclass(frozen=True, kw_only=True)
class ImageBuild:
    """An image built: its tag, the context it came from and how long it took."""

    tag: str
    context: BuildContext
    seconds: float


def docker_unavailable(docker: str = "docker") -> str | None:
    """Why the Docker daemon cannot be used here, or None when it answers."""
    binary = shutil.which(docker)
    if binary is None:
        return f"there is no {docker!r} command on PATH"
    try:
        probe = subprocess.run(
            [binary, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{docker} version failed: {exc}"
    if probe.returncode != 0:
        lines = (probe.stderr or probe.stdout).strip().splitlines()
        return "the Docker daemon did not answer: " + (lines[-1] if lines else "no output")
    return None


def unavailable_message(reason: str, model_uri: str, tag: str) -> str:
    """What to tell a user without a daemon: how to build the context elsewhere."""
    return (
        f"cannot build the image here: {reason.rstrip('.')}. Build it where Docker runs: "
        f"`mlcycle models build-context {model_uri} --output ctx`, copy ctx/ to a machine "
        f"with Docker (or a CI job), then `docker build -t {tag} ctx`"
    )


def docker_build(
    context: BuildContext,
    tag: str,
    *,
    network: str | None = None,
    build_args: Sequence[str] = (),
    docker: str = "docker",
) -> ImageBuild:
    """Run ``docker build -t TAG`` on ``context`` (output streamed to this process's
    stderr). Raises DockerBuildError when the build fails."""
    binary = shutil.which(docker) or docker
    command = [binary, "build", "--tag", tag, "--build-arg", f"BASE_IMAGE={context.base_image}"]
    for arg in build_args:
        command += ["--build-arg", arg]
    if network:
        command += ["--network", network]
    command.append(str(context.path))
    started = time.perf_counter()
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        raise DockerBuildError(
            f"docker build failed (exit code {result.returncode}); the context is at {context.path}"
        )
    return ImageBuild(tag=tag, context=context, seconds=time.perf_counter() - started)


def build_docker(
    model_uri: str,
    tag: str,
    *,
    output: str | os.PathLike[str] | None = None,
    network: str | None = None,
    build_args: Sequence[str] = (),
    docker: str = "docker",
    **options: Any,
) -> ImageBuild:
    """Build the image of ``model_uri`` as ``tag`` with the local Docker daemon.

    The context goes to ``output`` (kept) or a temporary folder; ``options`` are those of
    :func:`~mlcycle.containers.build_context`. Raises DockerUnavailableError, before
    anything is written, when no daemon answers (the message says how to build the
    context elsewhere), and DockerBuildError when ``docker build`` fails.

    >>> build_docker("models:/churn/3", "registry.example.com/churn:3")  # doctest: +SKIP
    """
    reason = docker_unavailable(docker)
    if reason is not None:
        raise DockerUnavailableError(unavailable_message(reason, model_uri, tag))
    if output is not None:
        context = build_context(model_uri, output, **options)
        return docker_build(context, tag, network=network, build_args=build_args, docker=docker)
    with tempfile.TemporaryDirectory(prefix="mlcycle-context-") as folder:
        context = build_context(model_uri, Path(folder) / "context", **options)
        return docker_build(context, tag, network=network, build_args=build_args, docker=docker)
