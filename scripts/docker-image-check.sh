#!/usr/bin/env bash
# Opt-in check of the model-images path with a real Docker daemon; never run by CI.
#
#   sudo bash scripts/docker-image-check.sh [WORK_DIR]
#
# On a Debian machine without Docker Hub access (root needed):
#   1. installs docker.io and debootstrap when missing (apt-get);
#   2. starts dockerd by hand with --iptables=false --bridge=none (no network setup);
#   3. makes a CPython base image with debootstrap (Debian bookworm: Python 3.11, this
#      machine's extra CA certificates) and `docker import` (a few minutes, once: it is
#      kept as mlcycle-base:bookworm; `docker rmi` it to make it again);
#   4. registers a churn model in a temporary store, writes its context with
#      `mlcycle models build-context`, builds it with `docker build --network host`;
#   5. runs the image (host network), checks health and predictions over HTTP, reads the
#      labels and the HEALTHCHECK status;
#   6. tries `mlflow models build-docker` on the same model, for comparison, then builds
#      MLflow's generated Dockerfile (`mlflow models generate-dockerfile`) on the same
#      base image with --network host;
#   7. prints the image size and build time, stops what it started.
# Environment: PYTHON (default .venv/bin/python, else python3), with mlcycle importable;
# REBUILD_BASE=1 makes the base image again.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
WORK=${1:-/tmp/mlcycle-docker-check}
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
BASE=mlcycle-base:bookworm
PORT=18080
mkdir -p "$WORK"
log() { printf '\n== %s\n' "$*"; }

if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
  log "installing docker.io and debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap
fi

DOCKERD_PID=""
CONTAINER=""
cleanup() {
  [ -n "$CONTAINER" ] && docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
  if [ -n "$DOCKERD_PID" ]; then kill "$DOCKERD_PID" 2>/dev/null || true; wait "$DOCKERD_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

if ! docker version >/dev/null 2>&1; then
  log "starting dockerd (--iptables=false --bridge=none)"
  dockerd --iptables=false --bridge=none >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 1 60); do docker version >/dev/null 2>&1 && break; sleep 1; done
  docker version --format 'dockerd {{.Server.Version}}'
fi

if [ -n "${REBUILD_BASE:-}" ] || ! docker image inspect "$BASE" >/dev/null 2>&1; then
  log "making the base image $BASE with debootstrap"
  started=$(date +%s)
  rm -rf "$WORK/rootfs"
  debootstrap --variant=minbase \
    --include=python3,python3-pip,python-is-python3,ca-certificates,passwd \
    bookworm "$WORK/rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log"
  # pip installs into the image's own Python, as in python:*-slim images
  rm -f "$WORK"/rootfs/usr/lib/python3*/EXTERNALLY-MANAGED
  # the machine's own CA certificates (a TLS-inspecting proxy), as a site's base image has
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$WORK/rootfs/usr/local/share/ca-certificates/"
    chroot "$WORK/rootfs" update-ca-certificates >/dev/null
  fi
  rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/*
  tar -C "$WORK/rootfs" -c . | docker import - "$BASE" >/dev/null
  echo "base image: $(( $(date +%s) - started )) s"
fi

log "registering a model and writing its build context"
rm -rf "$WORK/store" "$WORK/ctx"
PYTHONPATH="$REPO/src:$REPO" "$PYTHON" - "$WORK" <<'PY'
import sys
from pathlib import Path

import mlcycle
from tests.models._models import FEATURES, churn_frame, churn_pipeline

work = Path(sys.argv[1])
client = mlcycle.Client(f"sqlite:///{work / 'store' / 'm.db'}", str(work / "store" / "art"))
frame = churn_frame(200)
with client.start_run("docker-check", capture_environment=False) as run:
    run.log_model(churn_pipeline(frame), "model", input_example=frame[FEATURES].head(3),
                  register="churn")
client.close()
PY
STORE=(--tracking-uri "sqlite:///$WORK/store/m.db" --artifact-uri "$WORK/store/art")
started=$(date +%s.%N)
PYTHONPATH="$REPO/src" "$PYTHON" -m mlcycle.cli.app "${STORE[@]}" \
  models build-context models:/churn/1 --output "$WORK/ctx" --overwrite
echo "context: $(echo "$(date +%s.%N) - $started" | bc) s"

log "docker build --network host"
started=$(date +%s.%N)
docker build --network host --build-arg "BASE_IMAGE=$BASE" -t mlcycle-churn:1 "$WORK/ctx"
BUILD_S=$(echo "$(date +%s.%N) - $started" | bc)
SIZE=$(docker image inspect mlcycle-churn:1 --format '{{.Size}}')
BASE_SIZE=$(docker image inspect "$BASE" --format '{{.Size}}')

log "docker run, predictions over HTTP"
CONTAINER=$(docker run -d --network host mlcycle-churn:1 --host 127.0.0.1 --port $PORT)
for _ in $(seq 1 120); do curl -sf "localhost:$PORT/v2/health/ready" >/dev/null && break; sleep 1; done
curl -sf "localhost:$PORT/v2/health/ready"; echo
curl -sf "localhost:$PORT/invocations" -H 'content-type: application/json' \
  -d '{"dataframe_records": [{"tenure": 3.0, "charges": 80.5, "calls": 4, "plan": "pro"},
                             {"tenure": 60.0, "charges": 20.0, "calls": 0, "plan": "basic"}]}'
echo
curl -sf "localhost:$PORT/v2/models/churn" | head -c 300; echo
docker inspect mlcycle-churn:1 --format '{{json .Config.Labels}}'; echo
docker exec "$CONTAINER" id
for _ in $(seq 1 45); do  # the HEALTHCHECK's first answers (the port given to the entry point)
  HEALTH=$(docker inspect "$CONTAINER" --format '{{.State.Health.Status}}')
  [ "$HEALTH" != starting ] && break
  sleep 2
done
echo "health: $HEALTH"

log "mlflow models build-docker, for comparison"
MLFLOW_NOTE="not attempted (mlflow is not installed)"
MLFLOW_DF_NOTE="not attempted"
if "$PYTHON" -c "import mlflow" 2>/dev/null; then
  "$PYTHON" - "$WORK" <<'PY'
import sys
from pathlib import Path

import mlflow
from tests.models._models import FEATURES, churn_frame, churn_pipeline

work = Path(sys.argv[1])
mlflow.set_tracking_uri(f"sqlite:///{work / 'mlflow.db'}")
frame = churn_frame(200)
with mlflow.start_run():
    info = mlflow.sklearn.log_model(churn_pipeline(frame), name="model",
                                    input_example=frame[FEATURES].head(3))
(work / "mlflow-uri").write_text(info.model_uri)
PY
  export MLFLOW_TRACKING_URI="sqlite:///$WORK/mlflow.db"
  MODEL=$(cat "$WORK/mlflow-uri")
  started=$(date +%s.%N)
  if timeout 900 "$PYTHON" -m mlflow models build-docker -m "$MODEL" -n mlflow-churn:1 \
      >"$WORK/mlflow-build.log" 2>&1; then
    MLFLOW_NOTE="built in $(echo "$(date +%s.%N) - $started" | bc) s, $(docker image inspect mlflow-churn:1 --format '{{.Size}}') bytes"
  else
    MLFLOW_NOTE="failed: $(grep -iE '^Step 1/|no such host|denied|pull' "$WORK/mlflow-build.log" | head -2 | tr '\n' ' ')"
  fi
  # MLflow's generated Dockerfile on the same base image, built with --network host
  rm -rf "$WORK/mlflow-df"
  "$PYTHON" -m mlflow models generate-dockerfile -m "$MODEL" -d "$WORK/mlflow-df" >/dev/null 2>&1
  sed -i "1,/^FROM /s|^FROM .*|FROM $BASE|" "$WORK/mlflow-df/Dockerfile"
  started=$(date +%s.%N)
  if docker build --network host -t mlflow-churn-df:1 "$WORK/mlflow-df" >"$WORK/mlflow-df.log" 2>&1; then
    MLFLOW_DF_NOTE="built in $(echo "$(date +%s.%N) - $started" | bc) s, $(docker image inspect mlflow-churn-df:1 --format '{{.Size}}') bytes"
  else
    MLFLOW_DF_NOTE="failed: $(tail -1 "$WORK/mlflow-df.log")"
  fi
fi

log "summary"
echo "mlcycle image: build ${BUILD_S} s, $SIZE bytes (base $BASE: $BASE_SIZE bytes)"
echo "mlflow models build-docker: $MLFLOW_NOTE"
echo "mlflow models generate-dockerfile, FROM $BASE, --network host: $MLFLOW_DF_NOTE"
