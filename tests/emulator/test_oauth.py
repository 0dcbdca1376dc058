"""OAuth 2.0 against the running emulator over HTTPS: authorize page with PKCE, token
grants, refresh, revoke, userinfo and the identity URL."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from emulator_http import API, RestClient, https_session, password_token

from crmbridge.emulator.server import EmulatorServer

REDIRECT = "https://app.example.org/oauth/callback"


@pytest.fixture
def org(tmp_path: Path) -> Any:
    server = EmulatorServer(tmp_path, port=0, token_ttl_seconds=3600)
    server.start()
    yield server.info
    server.stop()


class _Forms(HTMLParser):
    """Collects the inputs of the page's form (hidden fields included)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.fields[values["name"] or ""] = values.get("value") or ""


def form_of(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    return parser


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize(
    info: dict[str, Any], browser: requests.Session, decision: str, **extra: str
) -> requests.Response:
    """Walk the authorize page like a person: log in, then Allow or Deny."""
    params = {
        "response_type": "code",
        "client_id": info["client_id"],
        "redirect_uri": REDIRECT,
        "state": "st-123",
        **extra,
    }
    page = browser.get(info["authorize_url"], params=params, timeout=30)
    assert page.status_code == 200
    consent = page
    login = form_of(page.text)
    if "Login" in login.ids:  # a browser that logged in before goes straight to consent
        assert {"username", "password"} <= login.ids
        consent = browser.post(
            info["authorize_url"],
            data={
                **login.fields,
                "username": info["username"],
                "pw": info["password"],
                "action": "login",
            },
            timeout=30,
        )
    assert consent.status_code == 200
    approve = form_of(consent.text)
    assert {"oaapprove", "oadeny"} <= approve.ids
    return browser.post(
        info["authorize_url"],
        data={**approve.fields, "action": decision},
        allow_redirects=False,
        timeout=30,
    )


def redirect_params(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(info: dict[str, Any], http: requests.Session, **data: str) -> requests.Response:
    return http.post(
        info["token_url"],
        data={
            "grant_type": "authorization_code",
            "client_id": info["client_id"],
            "redirect_uri": REDIRECT,
            **data,
        },
        timeout=30,
    )


def test_web_server_flow_with_pkce_gives_tokens_that_work(org: dict[str, Any]) -> None:
    browser = https_session(org)
    verifier, challenge = pkce_pair()
    params = redirect_params(
        authorize(org, browser, "allow", code_challenge=challenge, code_challenge_method="S256")
    )
    assert params["state"] == "st-123"
    assert params["code"]
    response = exchange(org, browser, code=params["code"], code_verifier=verifier)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= {
        "access_token",
        "refresh_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    }
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == org["instance_url"]
    assert body["access_token"].startswith(org["org_id"][:15] + "!AQ")
    assert body["id"] == f"{org['instance_url']}/id/{org['org_id']}/{org['user_id']}"
    expected = hmac.new(
        org["client_secret"].encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256
    ).digest()
    assert base64.b64decode(body["signature"]) == expected
    api = RestClient(org, body["access_token"])
    assert api.get(f"{API}/limits").status_code == 200
    reused = exchange(org, browser, code=params["code"], code_verifier=verifier)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


def test_a_wrong_code_verifier_is_refused(org: dict[str, Any]) -> None:
    browser = https_session(org)
    _, challenge = pkce_pair()
    params = redirect_params(
        authorize(org, browser, "allow", code_challenge=challenge, code_challenge_method="S256")
    )
    response = exchange(org, browser, code=params["code"], code_verifier="not-the-verifier")
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "invalid code verifier",
    }


def test_plain_pkce_and_client_secret_both_work(org: dict[str, Any]) -> None:
    browser = https_session(org)
    params = redirect_params(
        authorize(
            org,
            browser,
            "allow",
            code_challenge="plain-verifier-123",
            code_challenge_method="plain",
        )
    )
    assert exchange(org, browser, code=params["code"], code_verifier="plain-verifier-123").ok
    params = redirect_params(authorize(org, browser, "allow"))
    without_secret = exchange(org, browser, code=params["code"])
    assert without_secret.status_code == 400
    params = redirect_params(authorize(org, browser, "allow"))
    assert exchange(org, browser, code=params["code"], client_secret=org["client_secret"]).ok


def test_deny_redirects_with_access_denied(org: dict[str, Any]) -> None:
    params = redirect_params(authorize(org, https_session(org), "deny"))
    assert params == {
        "error": "access_denied",
        "error_description": "end-user denied authorization",
        "state": "st-123",
    }


def test_bad_login_on_the_authorize_page_shows_an_error(org: dict[str, Any]) -> None:
    browser = https_session(org)
    page = browser.get(
        org["authorize_url"],
        params={"response_type": "code", "client_id": org["client_id"], "redirect_uri": REDIRECT},
        timeout=30,
    )
    login = form_of(page.text)
    again = browser.post(
        org["authorize_url"],
        data={**login.fields, "username": org["username"], "pw": "wrong", "action": "login"},
        timeout=30,
    )
    assert again.status_code == 200
    assert "error" in form_of(again.text).ids
    assert "oaapprove" not in form_of(again.text).ids


def test_unknown_client_is_refused_on_the_authorize_page(org: dict[str, Any]) -> None:
    page = https_session(org).get(
        org["authorize_url"],
        params={"response_type": "code", "client_id": "nope", "redirect_uri": REDIRECT},
        timeout=30,
    )
    assert page.status_code == 400
    assert "invalid_client_id" in page.text


def test_password_grant_errors_follow_salesforce(org: dict[str, Any]) -> None:
    http = https_session(org)

    def grant(**overrides: str) -> requests.Response:
        data = {
            "grant_type": "password",
            "client_id": org["client_id"],
            "client_secret": org["client_secret"],
            "username": org["username"],
            "password": org["password"] + org["security_token"],
            **overrides,
        }
        return http.post(org["token_url"], data=data, timeout=30)

    assert grant().status_code == 200
    assert "refresh_token" not in grant().json()
    assert grant(password=org["password"]).json() == {
        "error": "invalid_grant",
        "error_description": "authentication failure",
    }
    assert grant(client_secret="wrong").json()["error"] == "invalid_client"
    assert grant(client_id="wrong").json()["error"] == "invalid_client_id"
    assert grant(grant_type="magic").json() == {
        "error": "unsupported_grant_type",
        "error_description": "grant type not supported",
    }
    assert grant(grant_type="magic").status_code == 400


def test_client_may_authenticate_with_http_basic(org: dict[str, Any]) -> None:
    response = https_session(org).post(
        org["token_url"],
        auth=(org["client_id"], org["client_secret"]),
        data={
            "grant_type": "password",
            "username": org["username"],
            "password": org["password"] + org["security_token"],
        },
        timeout=30,
    )
    assert response.status_code == 200


def test_refresh_token_gives_new_access_tokens_until_revoked(org: dict[str, Any]) -> None:
    browser = https_session(org)
    params = redirect_params(authorize(org, browser, "allow"))
    tokens = exchange(org, browser, code=params["code"], client_secret=org["client_secret"]).json()

    def refresh() -> requests.Response:
        return browser.post(
            org["token_url"],
            data={
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": org["client_id"],
                "client_secret": org["client_secret"],
            },
            timeout=30,
        )

    fresh = refresh().json()
    assert fresh["access_token"] != tokens["access_token"]
    assert "refresh_token" not in fresh
    assert RestClient(org, fresh["access_token"]).get(f"{API}/limits").ok
    assert (
        browser.post(
            org["revoke_url"]
            if "revoke_url" in org
            else org["instance_url"] + "/services/oauth2/revoke",
            data={"token": tokens["refresh_token"]},
            timeout=30,
        ).status_code
        == 200
    )
    assert refresh().json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }
    dead = RestClient(org, fresh["access_token"]).get(f"{API}/limits")
    assert dead.status_code == 401
    assert dead.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_revoke_by_get_and_unknown_tokens(org: dict[str, Any]) -> None:
    http = https_session(org)
    token = password_token(org, http)["access_token"]
    url = org["instance_url"] + "/services/oauth2/revoke"
    assert http.get(url, params={"token": token}, timeout=30).status_code == 200
    assert RestClient(org, token).get(f"{API}/limits").status_code == 401
    again = http.post(url, data={"token": token}, timeout=30)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_token"


def test_userinfo_and_identity_url_describe_the_user(org: dict[str, Any]) -> None:
    tokens = password_token(org)
    api = RestClient(org, tokens["access_token"])
    info = api.get("/services/oauth2/userinfo").json()
    assert info["user_id"] == org["user_id"]
    assert info["organization_id"] == org["org_id"]
    assert info["preferred_username"] == org["username"]
    identity = api.get(tokens["id"]).json()
    assert identity["id"] == tokens["id"]
    assert identity["username"] == org["username"]
    assert identity["urls"]["rest"].endswith("/services/data/v{version}/")
    assert RestClient(org, "00Dbogus!AQx").get("/services/oauth2/userinfo").status_code == 403


def test_openid_scope_adds_a_signed_id_token_checkable_with_the_published_keys(
    org: dict[str, Any],
) -> None:
    from joserfc import jwt
    from joserfc.jwk import KeySet

    browser = https_session(org)
    params = redirect_params(
        authorize(org, browser, "allow", scope="openid api refresh_token", nonce="n-42")
    )
    body = exchange(org, browser, code=params["code"], client_secret=org["client_secret"]).json()
    config = browser.get(
        org["instance_url"] + "/.well-known/openid-configuration", timeout=30
    ).json()
    assert config["issuer"] == org["instance_url"]
    assert config["jwks_uri"] == org["instance_url"] + "/id/keys"
    keys = KeySet.import_key_set(browser.get(config["jwks_uri"], timeout=30).json())
    token = jwt.decode(body["id_token"], keys)
    claims = token.claims
    assert token.header["alg"] == "RS256"
    assert claims["iss"] == org["instance_url"]
    assert claims["aud"] == org["client_id"]
    assert claims["sub"] == body["id"]
    assert claims["nonce"] == "n-42"
    assert claims["preferred_username"] == org["username"]
    assert claims["exp"] > claims["iat"]
    without = redirect_params(authorize(org, browser, "allow"))
    plain = exchange(org, browser, code=without["code"], client_secret=org["client_secret"]).json()
    assert "id_token" not in plain


def test_rotated_refresh_tokens_replace_the_old_one(tmp_path: Path) -> None:
    with EmulatorServer(tmp_path, port=0, rotate_refresh_tokens=True) as server:
        info = server.info
        browser = https_session(info)
        params = redirect_params(authorize(info, browser, "allow"))
        first = exchange(info, browser, code=params["code"], client_secret=info["client_secret"])

        def refresh(token: str) -> requests.Response:
            return browser.post(
                info["token_url"],
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": token,
                    "client_id": info["client_id"],
                    "client_secret": info["client_secret"],
                },
                timeout=30,
            )

        rotated = refresh(first.json()["refresh_token"]).json()
        assert rotated["refresh_token"] != first.json()["refresh_token"]
        assert refresh(first.json()["refresh_token"]).json()["error"] == "invalid_grant"
        assert refresh(rotated["refresh_token"]).status_code == 200


def test_access_tokens_expire_after_the_configured_lifetime(tmp_path: Path) -> None:
    with EmulatorServer(tmp_path, port=0, token_ttl_seconds=60) as server:
        api = RestClient(server.info)
        assert api.get(f"{API}/limits").status_code == 200
        assert server.ctx is not None
        server.ctx.clock.set_offset(dt.timedelta(seconds=61))
        assert api.get(f"{API}/limits").status_code == 401
