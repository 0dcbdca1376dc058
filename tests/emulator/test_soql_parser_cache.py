"""The SOQL parser's tables are kept in the user's cache directory between processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PARSE = (
    "from crmbridge.emulator.soql.parser import parse_soql\n"
    "print(parse_soql('SELECT Id FROM Contact WHERE LastName = \\'x\\'').sobject.parts[0])\n"
)


def _parse_in_new_process(cache_home: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PARSE],
        env={**os.environ, "XDG_CACHE_HOME": str(cache_home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_the_first_process_writes_the_tables_and_a_damaged_file_is_rebuilt(
    tmp_path: Path,
) -> None:
    assert _parse_in_new_process(tmp_path) == "Contact"
    [cached] = (tmp_path / "crmbridge").glob("soql-*.lark")
    assert (tmp_path / "crmbridge").stat().st_mode & 0o077 == 0  # private to the user
    assert cached.stat().st_size > 10_000

    cached.write_bytes(b"not a pickle")
    assert _parse_in_new_process(tmp_path) == "Contact"
    assert cached.read_bytes() != b"not a pickle"
    assert cached.stat().st_size > 10_000
    assert not list((tmp_path / "crmbridge").glob("*.tmp"))


def test_without_a_writable_cache_directory_the_parser_still_works(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    assert _parse_in_new_process(blocked) == "Contact"
