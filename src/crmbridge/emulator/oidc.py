"""OpenID Connect on top of the emulator's OAuth: discovery, signing keys and ID tokens.

When a flow's scope includes ``openid`` the token response carries an ``id_token``: a
JWT signed RS256 with the org's key, published at ``/id/keys`` and announced by
``/.well-known/openid-configuration`` (Salesforce Help, "OpenID Connect Token" and
"OpenID Connect Discovery Endpoint"). ``sub`` is the identity URL, ``aud`` the
consumer key, ``iss`` the login URL; the token is valid five minutes.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import TYPE_CHECKING, Any

from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmbridge.emulator.http import emulator

if TYPE_CHECKING:
    from crmbridge.emulator.context import EmulatorContext
    from crmbridge.emulator.sessions import Session

ID_TOKEN_TTL_SECONDS = 300


def signing_key(ctx: EmulatorContext) -> RSAKey:
    """The org's ID token signing key, created once and kept in the data directory."""
    cached = ctx.services.get("oidc_key")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    path = ctx.data_dir / "tls" / "oidc-signing.pem"
    if path.exists():
        key = RSAKey.import_key(path.read_bytes())
    else:
        key = RSAKey.generate_key(2048)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(key.as_pem(private=True))
        path.chmod(0o600)
    ctx.services["oidc_key"] = key
    return key


def _key_id(key: RSAKey) -> str:
    return key.thumbprint()[:16]


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def id_token(ctx: EmulatorContext, session: Session, *, nonce: str | None) -> str:
    """A signed ID token for the session's user."""
    from crmbridge.emulator.oauth import identity_url

    user = ctx.store.get("User", session.user_id) or {}
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ctx.base_url,
        "sub": identity_url(ctx, session.user_id),
        "aud": session.client_id,
        "iat": now,
        "exp": now + ID_TOKEN_TTL_SECONDS,
        "at_hash": _at_hash(session.token),
        "name": user.get("Name"),
        "preferred_username": user.get("Username"),
        "given_name": user.get("FirstName"),
        "family_name": user.get("LastName"),
        "email": user.get("Email"),
        "email_verified": True,
        "zoneinfo": user.get("TimeZoneSidKey"),
        "nickname": user.get("Alias"),
        "updated_at": user.get("LastModifiedDate"),
    }
    if nonce:
        claims["nonce"] = nonce
    key = signing_key(ctx)
    return jwt.encode({"alg": "RS256", "kid": _key_id(key)}, claims, key)


async def discovery(request: Request) -> Response:
    """``/.well-known/openid-configuration``."""
    ctx = emulator(request)
    base = ctx.base_url
    return JSONResponse(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/services/oauth2/authorize",
            "token_endpoint": f"{base}/services/oauth2/token",
            "revocation_endpoint": f"{base}/services/oauth2/revoke",
            "userinfo_endpoint": f"{base}/services/oauth2/userinfo",
            "jwks_uri": f"{base}/id/keys",
            "scopes_supported": ["openid", "api", "refresh_token", "profile", "email"],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nonce",
                "at_hash",
                "name",
                "preferred_username",
                "given_name",
                "family_name",
                "email",
                "email_verified",
            ],
        }
    )


async def keys(request: Request) -> Response:
    """``/id/keys``: the public signing keys (JWKS)."""
    key = signing_key(emulator(request))
    public = dict(key.as_dict(private=False))
    public.update(kid=_key_id(key), use="sig", alg="RS256")
    return JSONResponse({"keys": [public]})


routes = [
    Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
    Route("/id/keys", keys, methods=["GET"]),
]
