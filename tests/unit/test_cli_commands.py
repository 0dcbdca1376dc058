"""The ``crmbridge`` command loads only the sub-command that runs."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.core import TyperCommand, TyperGroup

from crmbridge.cli import COMMANDS, load_command


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_listed_sub_command_loads_with_its_name_and_summary(name: str) -> None:
    command = load_command(name)
    assert isinstance(command, TyperCommand | TyperGroup)
    assert command.name == name
    # The summary ``crmbridge --help`` shows without loading is the command's own.
    assert (command.help or "").startswith(COMMANDS[name].summary.rstrip("."))


def test_a_store_command_does_not_import_the_web_app_emulator_or_sync_engine() -> None:
    probe = (
        "import sys\n"
        "from crmbridge.cli import load_command\n"
        "load_command('tenant')\n"
        "heavy = [m for m in ('crmbridge.web.app', 'crmbridge.emulator.server',\n"
        "         'crmbridge.sync.runs', 'fastapi') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""


def test_the_top_level_help_lists_every_command_without_importing_them() -> None:
    probe = (
        "import sys\n"
        "from crmbridge.cli import main\n"
        "sys.argv = ['crmbridge', '--help']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('LOADED' if 'crmbridge.sync.runs' in sys.modules else 'LAZY')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert result.stdout.strip().endswith("LAZY")
    for name in COMMANDS:
        assert f" {name} " in result.stdout
