"""Subcommands loaded on first use, so ``mlcycle --help`` imports no subcommand module.

The root command knows each subcommand by name, where it lives and its one-line help
(:class:`LazyCommand`); listing them (``mlcycle --help``, did-you-mean) imports nothing,
and running one imports its module only. ``tests/cli/test_lazy.py`` checks that every
entry's one-line help is the real command's.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class LazyCommand:
    """A subcommand by name: ``target`` is ``"module:attribute"``, a ``typer.Typer`` (a
    command group) or a function (one command); ``help`` is the line the root's help
    lists."""

    name: str
    target: str
    help: str
    #: More commands of a group that live in other modules: ``(name, "module:function")``.
    extra: tuple[tuple[str, str], ...] = ()

    def load(self) -> Any:
        """The click command, from importing its module (and its extras' modules)."""
        value = _attribute(self.target)
        if isinstance(value, typer.Typer):
            command: Any = typer.main.get_group(value)
            for name, target in self.extra:
                command.add_command(_single(name, _attribute(target)), name)
        else:
            command = _single(self.name, value)
        command.name = self.name
        return command


def _attribute(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def _single(name: str, function: Any) -> Any:
    """One function as a click command named ``name``."""
    single = typer.Typer()
    single.command(name)(function)
    return typer.main.get_command(single)


class _Commands(MutableMapping[str, Any]):
    """The group's commands: the eager ones, then the lazy ones, loaded on first lookup."""

    def __init__(self, eager: Mapping[str, Any], lazy: Sequence[LazyCommand]) -> None:
        self._loaded = dict(eager)
        self._lazy = {c.name: c for c in lazy if c.name not in self._loaded}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            self._loaded[name] = self._lazy[name].load()  # KeyError: no such command
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self._loaded.pop(name, None)
        self._lazy.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        yield from self._loaded
        yield from (name for name in self._lazy if name not in self._loaded)

    def __len__(self) -> int:
        return len(set(self._loaded) | set(self._lazy))

    def summary(self, name: str) -> Any:
        """The command if loaded, else a stand-in carrying its help line (no import)."""
        if name in self._loaded:
            return self._loaded[name]
        entry = self._lazy.get(name)
        return None if entry is None else TyperCommand(entry.name, help=entry.help)


class LazyGroup(TyperGroup):
    """A Typer group whose subcommands (:attr:`lazy`) load on first use; a subclass names
    them, and ``typer.Typer(cls=...)`` builds the group."""

    lazy: tuple[LazyCommand, ...] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands(self.commands, self.lazy)
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # names only: TyperGroup's reads every command

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        commands = self.commands
        if self._listing and isinstance(commands, _Commands):
            return commands.summary(cmd_name)
        return commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True  # the listing shows help lines, without importing anything
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
