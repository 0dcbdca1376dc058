"""``crmbridge emulator`` as a real process: info file, HTTPS, seeding, clean stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from emulator_http import API, RestClient


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], dict[str, object]]:
    info_file = tmp_path / "info.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crmbridge.cli",
            "emulator",
            "--port",
            "0",
            "--data",
            str(tmp_path / "org"),
            "--info-file",
            str(info_file),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    deadline = time.monotonic() + 60
    while not info_file.exists():
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the emulator did not write its info file"
        time.sleep(0.05)
    time.sleep(0.05)
    return process, json.loads(info_file.read_text())


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


def test_cli_serves_the_org_and_stops_on_sigterm(tmp_path: Path) -> None:
    process, info = start(tmp_path, "--api-quota", "500", "--seed-contacts", "20", "--seed", "3")
    try:
        api = RestClient(info)
        response = api.get(f"{API}/query", params={"q": "SELECT COUNT() FROM Contact"})
        assert response.json()["totalSize"] == 20
        assert response.headers["sforce-limit-info"] == "api-usage=1/500"
    finally:
        output = stop(process)
    assert "listening on https://127.0.0.1:" in output
    assert "Emulator stopped" in output


def test_cli_rejects_a_missing_schema_file(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "crmbridge.cli",
            "emulator",
            "--port",
            "0",
            "--data",
            str(tmp_path),
            "--schema",
            str(tmp_path / "missing.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        # Wide enough that the error panel does not wrap the long temporary path.
        env={**os.environ, "COLUMNS": "400"},
    )
    assert result.returncode != 0
    assert "does not exist" in result.stdout + result.stderr
