"""``mlcycle models build-context|build-docker`` and ``mlcycle deployments build-context``:
model images and their Kubernetes manifests (see :mod:`mlcycle.containers`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mlcycle.cli import output
from mlcycle.cli.context import client

ModelUri = Annotated[
    str,
    typer.Argument(
        metavar="MODEL_URI",
        help="models:/NAME/VERSION, models:/NAME@ALIAS (pinned now), runs:/RUN_ID/PATH or a "
        "model directory.",
    ),
]
Kubernetes = Annotated[
    Path | None,
    typer.Option(
        "--kubernetes",
        metavar="K8S_DIR",
        help="Also write a KServe InferenceService and a Deployment + Service here.",
    ),
]
Trust = Annotated[
    list[str] | None,
    typer.Option("--trust", metavar="TYPE", help="A type the model needs trusted (repeatable)."),
]
NoHashes = Annotated[
    bool,
    typer.Option("--no-hashes", help="Do not ask the package index for the pins' hashes."),
]
IndexUrl = Annotated[
    str, typer.Option(help="The package index (PEP 691 JSON) that gives the hashes.")
]
Image = Annotated[
    str | None,
    typer.Option(
        help="The image reference the manifests run [default: the tag].", show_default=False
    ),
]
Namespace = Annotated[str | None, typer.Option(help="The manifests' Kubernetes namespace.")]
Replicas = Annotated[int, typer.Option(min=1, help="Pods per Deployment.")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty output.")]
Port = Annotated[int, typer.Option(min=1, max=65535, help="The port the image serves on.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

DEFAULT_INDEX = "https://pypi.org/simple"


def _context_dict(ctx: Any) -> dict[str, Any]:
    return {
        "path": str(ctx.path),
        "tag": ctx.tag,
        "base_image": ctx.base_image,
        "model_uri": ctx.spec.model_uri,
        "model_digest": ctx.spec.model_digest,
        "pins": len(ctx.lock.pins),
        "hashed": ctx.lock.hashed,
        "notes": list(ctx.notes),
    }


def build_context(
    ctx: typer.Context,
    model_uri: ModelUri,
    output_dir: Annotated[
        Path, typer.Option("--output", "-o", metavar="DIR", help="The build context folder.")
    ],
    kubernetes: Kubernetes = None,
    name: Annotated[
        str | None, typer.Option(help="The served (OIP) model name [default: the model's].")
    ] = None,
    port: Port = 8080,
    base_image: Annotated[
        str | None,
        typer.Option(help="The Dockerfile's default BASE_IMAGE [python:X.Y-slim of the model]."),
    ] = None,
    trust: Trust = None,
    no_hashes: NoHashes = False,
    index_url: IndexUrl = DEFAULT_INDEX,
    image: Image = None,
    namespace: Namespace = None,
    replicas: Replicas = 1,
    overwrite: Overwrite = False,
    as_json: JsonOption = False,
) -> None:
    """Write a reproducible Docker build context that serves MODEL_URI with no store:
    Dockerfile, requirements.lock, mlcycle's wheel, the model files and their digests.

    Examples:

        mlcycle models build-context models:/churn/3 --output build/churn-3
        mlcycle models build-context models:/churn@champion -o ctx --kubernetes k8s
        docker build -t churn:3 build/churn-3
    """
    from mlcycle import containers  # the builder pulls in the serving app (~0.3 s)

    built = containers.build_context(
        model_uri,
        output_dir,
        client=client(ctx),
        name=name,
        port=port,
        base_image=base_image,
        trusted=tuple(trust or ()),
        hashes=not no_hashes,
        index_url=index_url,
        overwrite=overwrite,
    )
    written: list[Path] = []
    notes = list(built.notes)
    if kubernetes is not None:
        made = containers.single_manifests(
            built, image=image, namespace=namespace, replicas=replicas
        )
        written = made.write(kubernetes)
        notes += made.notes
    if as_json:
        output.print_json({**_context_dict(built), "manifests": [str(p) for p in written]})
        return
    err = output.err_console()
    err.print(f"Wrote the build context of {built.spec.model_uri} to {built.path}", markup=False)
    if not built.lock.hashed:
        err.print(
            "note: requirements.lock has no hashes (offline or --no-hashes); pip will not "
            "check the downloads' digests",
            markup=False,
        )
    for note in notes:
        err.print(f"note: {note}", markup=False)
    for path in written:
        err.print(f"Wrote {path}", markup=False)
    typer.echo(f"docker build -t {built.tag} {built.path}")


def build_docker(
    ctx: typer.Context,
    model_uri: ModelUri,
    tag: Annotated[str, typer.Option("--tag", "-t", help="The image's name:tag.")],
    output_dir: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="DIR", help="Keep the build context here."),
    ] = None,
    network: Annotated[str | None, typer.Option(help="docker build --network (e.g. host).")] = None,
    base_image: Annotated[str | None, typer.Option(help="The base image to build on.")] = None,
    port: Port = 8080,
    trust: Trust = None,
    no_hashes: NoHashes = False,
    index_url: IndexUrl = DEFAULT_INDEX,
    overwrite: Overwrite = False,
) -> None:
    """Build the image of MODEL_URI with the local Docker daemon. Without a reachable
    daemon, exit 1 saying how to build the context elsewhere.

    Example:

        mlcycle models build-docker models:/churn/3 --tag registry.example.com/churn:3
    """
    from mlcycle import containers

    built = containers.build_docker(
        model_uri,
        tag,
        output=output_dir,
        network=network,
        client=client(ctx),
        port=port,
        base_image=base_image,
        trusted=tuple(trust or ()),
        hashes=not no_hashes,
        index_url=index_url,
        overwrite=overwrite,
    )
    output.err_console().print(
        f"Built {built.tag} from {model_uri} in {built.seconds:.1f} s", markup=False
    )


def deployment_build_context(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The deployment.")],
    output_dir: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="DIR", help="One build context per arm, here."),
    ],
    kubernetes: Kubernetes = None,
    registry: Annotated[
        str | None,
        typer.Option(help="The registry the images are pushed to (prefixes their tags)."),
    ] = None,
    trust: Trust = None,
    no_hashes: NoHashes = False,
    index_url: IndexUrl = DEFAULT_INDEX,
    namespace: Namespace = None,
    replicas: Replicas = 1,
    overwrite: Overwrite = False,
    as_json: JsonOption = False,
) -> None:
    """A build context per arm of deployment NAME (each pins its version) and, with
    --kubernetes, the manifests splitting traffic between the images (KServe canary
    fields where they apply).

    Example:

        mlcycle deployments build-context churn -o build/churn --kubernetes k8s/churn
    """
    from mlcycle import containers

    built = containers.build_deployment_contexts(
        name,
        output_dir,
        client=client(ctx),
        registry=registry,
        namespace=namespace,
        replicas=replicas,
        trusted=tuple(trust or ()),
        hashes=not no_hashes,
        index_url=index_url,
        overwrite=overwrite,
    )
    written = built.manifests.write(kubernetes) if kubernetes is not None else []
    if as_json:
        output.print_json(
            {
                "deployment": built.deployment,
                "arms": {arm: _context_dict(c) for arm, c in built.contexts.items()},
                "manifests": [str(p) for p in written],
                "notes": list(built.manifests.notes),
            }
        )
        return
    err = output.err_console()
    for arm, context in built.contexts.items():
        err.print(f"arm {arm}: {context.spec.model_uri} -> {context.path}", markup=False)
        typer.echo(f"docker build -t {containers.image_of(context, registry)} {context.path}")
    for path in written:
        err.print(f"Wrote {path}", markup=False)
    if written:
        for note in built.manifests.notes:
            err.print(f"note: {note}", markup=False)


def register(models: typer.Typer, deployments: typer.Typer) -> None:
    """Add the image commands to ``mlcycle models`` and ``mlcycle deployments``."""
    models.command("build-context")(build_context)
    models.command("build-docker")(build_docker)
    deployments.command("build-context")(deployment_build_context)
