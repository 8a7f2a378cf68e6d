"""The context's ``Dockerfile``: a slim Python base (a build argument), the locked
libraries, mlcycle's wheel, the model, a non-root user, a ``HEALTHCHECK`` and OCI labels
carrying the model's lineage."""

from __future__ import annotations

import json

from mlcycle.containers.spec import CODE_DIR, CONTEXT_FILE, MODEL_DIR, ContextSpec

LOCK_FILE = "requirements.lock"
WHEELS_DIR = "wheels"
APP_DIR = "/opt/mlcycle"
DATA_DIR = "/var/lib/mlcycle"
USER_ID = 10001
DOCKERIGNORE = "**/__pycache__\n**/*.pyc\n"


def default_base_image(python_version: str) -> str:
    """``python:<major>.<minor>-slim`` for the Python the model was logged with."""
    return f"python:{'.'.join(python_version.split('.')[:2])}-slim"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def labels(spec: ContextSpec) -> dict[str, str]:
    """The image's labels: OCI annotations and mlcycle's lineage."""
    found = {
        "org.opencontainers.image.title": spec.model_name or spec.name,
        "org.opencontainers.image.version": spec.label,
        "org.opencontainers.image.description": f"mlcycle model server for {spec.model_uri}",
        "io.mlcycle.model.name": spec.model_name or spec.name,
        "io.mlcycle.model.version": "" if spec.version is None else str(spec.version),
        "io.mlcycle.model.uri": spec.model_uri,
        "io.mlcycle.model.flavor": spec.flavor,
        "io.mlcycle.model.digest": spec.model_digest,
        "io.mlcycle.run-id": spec.run_id or "",
        "io.mlcycle.datasets": json.dumps(
            [d.to_dict() for d in spec.datasets], separators=(",", ":"), sort_keys=True
        ),
        "io.mlcycle.version": spec.mlcycle_version,
    }
    return found


def render_dockerfile(
    spec: ContextSpec, *, base_image: str, wheel: str, hashed: bool, has_code: bool
) -> str:
    """The Dockerfile text for the context described by ``spec``."""
    label_lines = " \\\n      ".join(f"{k}={_quote(v)}" for k, v in labels(spec).items())
    hash_flag = " --require-hashes" if hashed else ""
    code = f"COPY {CODE_DIR}/ ./{CODE_DIR}/\n" if has_code else ""
    port = spec.port
    py = spec.python_version_short
    return f"""\
# syntax=docker/dockerfile:1
# The model server of {spec.model_uri}, written by mlcycle {spec.mlcycle_version}
# (mlcycle models build-context). Build it with:
#   docker build -t {_tag(spec)} .
# Another Debian-based CPython {py} image works as the base:
#   docker build --build-arg BASE_IMAGE=registry.example.com/python:{py}-slim .
ARG BASE_IMAGE={base_image}
FROM ${{BASE_IMAGE}}

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    MLCYCLE_ARTIFACT_URI={DATA_DIR}/artifacts

RUN groupadd --system --gid {USER_ID} mlcycle \\
    && useradd --system --no-log-init --uid {USER_ID} --gid mlcycle \\
       --home-dir {DATA_DIR} --create-home mlcycle \\
    && mkdir -p {DATA_DIR}/artifacts \\
    && chown -R {USER_ID}:{USER_ID} {DATA_DIR}

WORKDIR {APP_DIR}
COPY {LOCK_FILE} ./
RUN python -m pip install --no-cache-dir --root-user-action=ignore --no-deps{hash_flag} \\
    -r {LOCK_FILE}
COPY {WHEELS_DIR}/ ./{WHEELS_DIR}/
RUN python -m pip install --no-cache-dir --root-user-action=ignore --no-deps \\
    {WHEELS_DIR}/{wheel}
COPY {CONTEXT_FILE} ./
COPY {MODEL_DIR}/ ./{MODEL_DIR}/
{code}
# Last, so that the layers above are shared by every version with the same libraries.
LABEL {label_lines}

USER {USER_ID}:{USER_ID}
EXPOSE {port}
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \\
    CMD ["python", "-m", "mlcycle.containers.healthcheck", "{port}"]
ENTRYPOINT ["python", "-m", "mlcycle.containers.entrypoint", "--context", "{APP_DIR}"]
CMD ["--host", "0.0.0.0", "--port", "{port}"]
"""


def _tag(spec: ContextSpec) -> str:
    return f"{image_name(spec.model_name or spec.name)}:{spec.label}"


def image_name(name: str) -> str:
    """A Docker repository name for a model name (lowercase, ``[a-z0-9._-]``)."""
    cleaned = "".join(c if c.isalnum() or c in "._-" else "-" for c in name.lower())
    return cleaned.strip("._-") or "model"
