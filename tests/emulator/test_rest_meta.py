"""REST versions list, resources by version, and the errors of unknown paths."""

from __future__ import annotations

from typing import Any

from emulator_http import API, RestClient, https_session


def test_versions_list_has_every_version_and_no_limit_header(emulator_info: dict[str, Any]) -> None:
    response = https_session(emulator_info).get(
        emulator_info["instance_url"] + "/services/data/", timeout=30
    )
    assert response.status_code == 200
    assert "sforce-limit-info" not in response.headers
    versions = response.json()
    assert [v["version"] for v in versions] == [f"{n}.0" for n in range(40, 65)]
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    assert versions[0]["label"] == "Summer '17"


def test_resources_of_a_version_carry_the_limit_header(emulator_info: dict[str, Any]) -> None:
    api = RestClient(emulator_info)
    response = api.get(API + "/")
    assert response.status_code == 200
    assert response.headers["sforce-limit-info"].startswith("api-usage=")
    body = response.json()
    assert body["sobjects"] == f"{API}/sobjects"
    assert body["query"] == f"{API}/query"
    assert body["queryAll"] == f"{API}/queryAll"
    assert body["identity"].endswith(f"/id/{emulator_info['org_id']}/{emulator_info['user_id']}")


def test_every_version_from_40_to_64_is_served_and_others_are_not_found(
    emulator_info: dict[str, Any],
) -> None:
    api = RestClient(emulator_info)
    for version in ("40.0", "46.0", "64.0"):
        assert api.get(f"/services/data/v{version}/limits").status_code == 200
    for version in ("39.0", "65.0", "59.5", "abc"):
        response = api.get(f"/services/data/v{version}/limits")
        assert response.status_code == 404
        assert response.json() == [
            {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}
        ]


def test_unknown_paths_and_methods_answer_like_salesforce(emulator_info: dict[str, Any]) -> None:
    api = RestClient(emulator_info)
    missing = api.get(f"{API}/no-such-resource")
    assert missing.status_code == 404
    assert missing.json()[0]["errorCode"] == "NOT_FOUND"
    wrong_method = api.request("PUT", f"{API}/limits")
    assert wrong_method.status_code == 405
    assert wrong_method.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_calls_without_a_valid_session_get_invalid_session_id(
    emulator_info: dict[str, Any],
) -> None:
    http = https_session(emulator_info)
    for headers in ({}, {"Authorization": "Bearer 00Dxx!AQnope"}, {"Authorization": "Basic abc"}):
        response = http.get(
            emulator_info["instance_url"] + f"{API}/sobjects", headers=headers, timeout=30
        )
        assert response.status_code == 401
        assert response.json() == [
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
        ]
