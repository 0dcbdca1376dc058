"""Sending one HTTP request to Salesforce and naming transport failures.

A request that never got an HTTP answer fails here with :class:`NetworkError`
(retryable) or :class:`TlsCertificateError` (the certificate is not trusted: a
configuration problem, retrying cannot help).
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from crmbridge.domain.errors import ConfigurationError, CrmError, NetworkError


class TlsCertificateError(ConfigurationError):
    """The server's TLS certificate is not trusted."""

    advice = (
        "The server's certificate is not trusted. For a real org, check the login URL "
        "(a proxy may intercept TLS); for the emulator, set SALESFORCE_CA_BUNDLE to its CA "
        "certificate."
    )


class RequestNotSent(NetworkError):
    """The connection failed before the request was sent: safe to retry any request."""


def transport_error(exc: httpx.HTTPError) -> CrmError:
    """Classify an httpx exception raised before any response arrived."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return TlsCertificateError(
                f"The server's TLS certificate is not trusted: {cause.verify_message}."
            )
        cause = cause.__cause__ or cause.__context__
    name = exc.__class__.__name__
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return RequestNotSent(f"Salesforce could not be reached: {name}: {exc}")
    return NetworkError(f"The connection to Salesforce failed: {name}: {exc}")


def send(http: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Send one request; transport failures become :class:`CrmError` subclasses."""
    try:
        return http.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise transport_error(exc) from None
