"""The root command loads each subcommand's module when it runs, not for ``--help``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mlcycle.cli.app import MlcycleGroup
from mlcycle.cli.lazy import LazyCommand


@pytest.mark.parametrize("entry", MlcycleGroup.lazy, ids=lambda e: e.name)
def test_each_help_line_is_the_commands_own(entry: LazyCommand) -> None:
    command = entry.load()
    assert command.name == entry.name
    own = (command.short_help or command.help or "").split("\n\n")[0].strip()
    assert entry.help == own


def test_help_imports_no_subcommand_module() -> None:
    probe = (
        "import sys\n"
        "from mlcycle.cli.app import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('mlcycle.client.client', 'mlcycle.cli.runs', 'sqlalchemy', 'httpx', 'numpy')\n"
        "print('LOADED', *[m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert "Create, list, show, delete and restore experiments." in out  # the listing
    assert out.strip().splitlines()[-1] == "LOADED"


def test_a_subcommand_loads_only_its_own_module() -> None:
    probe = (
        "import sys\n"
        "from mlcycle.cli.app import main\n"
        "try:\n"
        "    main(['tokens', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('LOADED', *[m for m in ('mlcycle.cli.tokens', 'mlcycle.cli.runs') if m in "
        "sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert "API tokens: create, list, revoke." in out
    assert out.strip().splitlines()[-1] == "LOADED mlcycle.cli.tokens"
