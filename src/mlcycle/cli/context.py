"""What the root command's global options leave for the subcommands: the client to use."""

from __future__ import annotations

from dataclasses import dataclass

import typer

import mlcycle


@dataclass
class CliState:
    """The global options; the client is built from them on first use and closed at exit."""

    tracking_uri: str | None = None
    artifact_uri: str | None = None
    _client: mlcycle.Client | None = None

    def settings(self) -> mlcycle.Settings:
        """The settings from the environment, with the command-line options on top."""
        return mlcycle.Settings.from_env().with_overrides(
            tracking_uri=self.tracking_uri, artifact_uri=self.artifact_uri
        )

    def global_args(self) -> list[str]:
        """The global options as given, to repeat them in the commands we suggest."""
        args: list[str] = []
        if self.tracking_uri:
            args += ["--tracking-uri", self.tracking_uri]
        if self.artifact_uri:
            args += ["--artifact-uri", self.artifact_uri]
        return args


def state(ctx: typer.Context) -> CliState:
    """The :class:`CliState` of this invocation (defaults when the root callback did not run)."""
    return ctx.ensure_object(CliState)


def client(ctx: typer.Context) -> mlcycle.Client:
    """The client for this invocation, closed (metrics flushed) when the command ends."""
    current = state(ctx)
    if current._client is None:
        current._client = mlcycle.Client(settings=current.settings())
        ctx.find_root().call_on_close(current._client.close)
    return current._client
