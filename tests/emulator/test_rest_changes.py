"""sobjects/{Type}/updated and /deleted: documented shapes and date-range rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from emulator_http import API, RestClient, error_codes

from crmbridge.emulator.server import EmulatorServer


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Any:
    server = EmulatorServer(tmp_path_factory.mktemp("changes-org"), port=0)
    server.start()
    yield RestClient(server.info)
    server.stop()


def window(minutes_back: int = 5, minutes_ahead: int = 5) -> dict[str, str]:
    now = dt.datetime.now(dt.UTC)
    return {
        "start": (now - dt.timedelta(minutes=minutes_back)).isoformat(timespec="seconds"),
        "end": (now + dt.timedelta(minutes=minutes_ahead)).isoformat(timespec="seconds"),
    }


def test_updated_lists_changed_ids_and_latest_date_covered(api: RestClient) -> None:
    kept = api.post(f"{API}/sobjects/Account", json={"Name": "Kept"}).json()["id"]
    dropped = api.post(f"{API}/sobjects/Account", json={"Name": "Dropped"}).json()["id"]
    api.delete(f"{API}/sobjects/Account/{dropped}")
    body = api.get(f"{API}/sobjects/Account/updated/", params=window()).json()
    assert set(body) == {"ids", "latestDateCovered"}
    assert kept in body["ids"]
    assert dropped not in body["ids"]
    assert body["latestDateCovered"].endswith(":00.000+0000")


def test_deleted_lists_deleted_ids_with_dates(api: RestClient) -> None:
    record_id = api.post(f"{API}/sobjects/Contact", json={"LastName": "Gone"}).json()["id"]
    api.delete(f"{API}/sobjects/Contact/{record_id}")
    body = api.get(f"{API}/sobjects/Contact/deleted/", params=window()).json()
    assert set(body) == {"deletedRecords", "earliestDateAvailable", "latestDateCovered"}
    entry = next(e for e in body["deletedRecords"] if e["id"] == record_id)
    assert entry["deletedDate"].endswith("+0000")


def test_date_range_rules(api: RestClient) -> None:
    backwards = api.get(f"{API}/sobjects/Account/updated/", params=window(-10, -20))
    assert backwards.status_code == 400
    assert error_codes(backwards) == ["INVALID_REPLICATION_DATE"]
    too_long = api.get(f"{API}/sobjects/Account/updated/", params=window(60 * 24 * 31, 0))
    assert error_codes(too_long) == ["INVALID_REPLICATION_DATE"]
    missing = api.get(f"{API}/sobjects/Account/updated/")
    assert missing.status_code == 400
    too_early = api.get(
        f"{API}/sobjects/Account/deleted/", params=window(60 * 24 * 60 + 10, -60 * 24 * 45)
    )
    assert error_codes(too_early) == ["INVALID_REPLICATION_DATE"]
