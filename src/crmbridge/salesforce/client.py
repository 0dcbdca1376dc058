"""The one door to a Salesforce org's REST API.

Every data call crmbridge makes goes through :meth:`SalesforceClient.request`: it builds
the URL, authenticates, counts the call against the org's allowance (``Sforce-Limit-Info``),
retries transient failures with exponential backoff and full jitter (tenacity), renews
an expired session once and replays the call, and turns every Salesforce error into a
:mod:`crmbridge.domain.errors` class.

Only idempotent requests are retried after an ambiguous failure (a timeout after the
request was sent). Creates are retried only when Salesforce certainly did nothing
(connection refused, ``UNABLE_TO_LOCK_ROW``, 503). The sync engine writes with upserts
on an external id, which are idempotent, so its writes are always safe to retry.

Sources: REST API Developer Guide ("Status Codes and Error Responses", "Limits",
"Sforce-Limit-Info", "Execute a SOQL Query", "sObject Collections").
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import structlog
import tenacity

from crmbridge.domain.errors import (
    CrmError,
    NetworkError,
    ReauthorizationRequired,
    RecordLockedError,
    SessionExpired,
    classify_salesforce_error,
)
from crmbridge.jsontext import json_value
from crmbridge.salesforce import endpoints
from crmbridge.salesforce.auth import TokenSet
from crmbridge.salesforce.transport import RequestNotSent, send

log = structlog.get_logger(__name__)

#: Records per sObject Collections request (REST API Developer Guide, "sObject Collections").
COLLECTION_LIMIT = 200
#: Query subrequests one ``composite`` call may carry: up to 25 subrequests, at most 5
#: of them queries (REST API Developer Guide, "Composite"); the call counts once.
COMPOSITE_QUERIES = 5

_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, kw_only=True)
class RetryConfig:
    """How the client retries transient failures of one call."""

    #: Tries in all, the first included.
    attempts: int = 4
    #: Scale of the exponential backoff, in seconds.
    initial_delay: float = 0.5
    #: Upper bound of one wait, in seconds.
    max_delay: float = 20.0


@dataclass(kw_only=True)
class ApiUsage:
    """API consumption seen by one client (R-A8, R-S7)."""

    #: Calls this client sent (each counts against the org's daily allowance).
    calls: int = 0
    #: Calls per REST resource family (``query``, ``composite``, ``sobjects`` …).
    calls_by_resource: dict[str, int] = field(default_factory=dict)
    #: The org's usage and limit from the last ``Sforce-Limit-Info`` header.
    used: int | None = None
    limit: int | None = None
    #: Time of the last call Salesforce answered without error.
    last_success_at: dt.datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_call(self, resource: str) -> None:
        """Count one request sent."""
        with self._lock:
            self.calls += 1
            self.calls_by_resource[resource] = self.calls_by_resource.get(resource, 0) + 1

    def record_response(self, response: httpx.Response, now: dt.datetime) -> None:
        """Read ``Sforce-Limit-Info`` and note a success."""
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        with self._lock:
            if match:
                self.used, self.limit = int(match.group(1)), int(match.group(2))
            if response.status_code < 400:
                self.last_success_at = now


@dataclass(frozen=True, kw_only=True)
class RecordResult:
    """The outcome for one record of a collection request, in request order."""

    #: Salesforce id of the record, when it has one.
    id: str | None
    #: Whether Salesforce saved the record.
    success: bool
    #: For upserts: whether the record was created (``None`` when not reported).
    created: bool | None = None
    #: Why it failed, classified.
    errors: tuple[CrmError, ...] = ()


Renewer = Callable[[TokenSet], TokenSet]


class SalesforceClient:
    """REST calls to one org on behalf of one connection.

    Args:
        tokens: the current session.
        http: the httpx client to send with (it carries TLS trust and timeouts).
        api_version: e.g. ``"59.0"``.
        renew: gets a new session when the current one expired (refresh token or a new
            password login); raises :class:`ReauthorizationRequired` when it cannot.
        on_renewed: told about every new session, to store it.
        retry: backoff settings for transient failures.
        clock: the time source.
        usage: where API consumption is counted (shared by the connection's clients).
    """

    def __init__(
        self,
        *,
        tokens: TokenSet,
        http: httpx.Client,
        api_version: str = endpoints.DEFAULT_API_VERSION,
        renew: Renewer | None = None,
        on_renewed: Callable[[TokenSet], None] | None = None,
        retry: RetryConfig | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
        usage: ApiUsage | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._tokens = tokens
        self._http = http
        self.api_version = api_version
        self._renew = renew
        self._on_renewed = on_renewed
        self._retry = retry or RetryConfig()
        self._clock = clock
        self.usage = usage or ApiUsage()
        self._sleep = sleep
        self._renew_lock = threading.Lock()

    @property
    def tokens(self) -> TokenSet:
        """The session in use (renewed sessions replace it)."""
        return self._tokens

    @property
    def instance_url(self) -> str:
        """The org's instance URL."""
        return self._tokens.instance_url

    # --- the door ----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        ok_statuses: Sequence[int] = (),
    ) -> httpx.Response:
        """Send one REST request and return the successful response.

        Args:
            method: HTTP method.
            path: relative to ``/services/data/vXX.X/``, or absolute from ``/services/``.
            params: query string.
            json: JSON body.
            content: raw body (CSV for Bulk API 2.0).
            headers: extra headers.
            idempotent: whether a replay after an ambiguous failure is harmless;
                defaults to true for GET/PUT/PATCH/DELETE.
            ok_statuses: statuses ≥ 400 that the caller handles itself (e.g. 300 or 404).

        Raises:
            CrmError: a subclass saying what to do next.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        url = endpoints.data_url(self.instance_url, self.api_version, path)
        resource = _resource_family(path)

        def should_retry(exc: BaseException) -> bool:
            if isinstance(exc, RequestNotSent | RecordLockedError):
                return True
            if isinstance(exc, NetworkError):
                return idempotent or exc.status == 503
            return False

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self._retry.attempts),
            wait=tenacity.wait_random_exponential(
                multiplier=self._retry.initial_delay, max=self._retry.max_delay
            ),
            retry=tenacity.retry_if_exception(should_retry),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda state: log.info(
                "salesforce.retry",
                resource=resource,
                attempt=state.attempt_number,
                error=str(state.outcome.exception()) if state.outcome else "",
            ),
        )
        for attempt in retrying:
            with attempt:
                return self._send_renewing(
                    method, url, resource, params, json, content, headers, ok_statuses
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_renewing(
        self,
        method: str,
        url: str,
        resource: str,
        params: Mapping[str, Any] | None,
        json: Any,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        ok_statuses: Sequence[int],
    ) -> httpx.Response:
        try:
            return self._send_once(
                method, url, resource, params, json, content, headers, ok_statuses
            )
        except SessionExpired:
            if self._renew is None:
                raise ReauthorizationRequired(
                    "The Salesforce session expired and this connection cannot renew it."
                ) from None
            self._renew_session(self._tokens)
            # Replay once with the new session; a second expiry means re-authorize.
            try:
                return self._send_once(
                    method, url, resource, params, json, content, headers, ok_statuses
                )
            except SessionExpired as again:
                raise ReauthorizationRequired(
                    f"Salesforce refused a freshly renewed session: {again.message}",
                    code=again.code,
                ) from None

    def _renew_session(self, stale: TokenSet) -> None:
        assert self._renew is not None
        with self._renew_lock:
            if self._tokens is not stale:  # another thread renewed it already
                return
            fresh = self._renew(stale)
            self._tokens = fresh
            log.info("salesforce.session_renewed", instance_url=fresh.instance_url)
            if self._on_renewed is not None:
                self._on_renewed(fresh)

    def _send_once(
        self,
        method: str,
        url: str,
        resource: str,
        params: Mapping[str, Any] | None,
        json: Any,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        ok_statuses: Sequence[int],
    ) -> httpx.Response:
        all_headers = {"Authorization": f"Bearer {self._tokens.access_token}"}
        if headers:
            all_headers.update(headers)
        self.usage.record_call(resource)
        response = send(
            self._http,
            method,
            url,
            params=params,
            json=json,
            content=content,
            headers=all_headers,
        )
        self.usage.record_response(response, self._clock())
        if response.status_code >= 400 and response.status_code not in ok_statuses:
            raise error_from_response(response)
        return response

    # --- org information --------------------------------------------------------------

    def versions(self) -> list[str]:
        """API versions the org offers (``GET /services/data/``)."""
        response = self.request("GET", "/services/data/")
        return [str(v["version"]) for v in response.json()]

    def limits(self) -> dict[str, Any]:
        """The org's limits resource (DailyApiRequests, DailyBulkApiBatches …)."""
        return dict(self.request("GET", "limits").json())

    def describe_global(self) -> dict[str, Any]:
        """describeGlobal: every sObject the user can see."""
        return dict(self.request("GET", "sobjects").json())

    def describe(self, sobject: str) -> dict[str, Any]:
        """The describe of one sObject."""
        return dict(self.request("GET", f"sobjects/{_name(sobject)}/describe").json())

    def describe_if_modified(
        self, sobject: str, since: dt.datetime | None
    ) -> tuple[dict[str, Any] | None, dt.datetime | None]:
        """The describe of one sObject if its metadata changed after ``since``.

        Salesforce answers ``304 Not Modified`` without a body when nothing changed
        (REST API Developer Guide, "Get Object Metadata Changes").

        Args:
            sobject: the object's API name.
            since: the time of the copy the caller holds; ``None`` always downloads.

        Returns:
            ``(None, None)`` when unchanged, else the describe and its ``Last-Modified``
            time (or the response's ``Date``; ``None`` when neither is sent).
        """
        headers = None
        if since is not None:
            headers = {"If-Modified-Since": format_datetime(since.astimezone(dt.UTC), usegmt=True)}
        response = self.request("GET", f"sobjects/{_name(sobject)}/describe", headers=headers)
        if response.status_code == 304:
            return None, None
        stamp = response.headers.get("Last-Modified") or response.headers.get("Date")
        try:
            modified = parsedate_to_datetime(stamp) if stamp else None
        except (TypeError, ValueError):
            modified = None
        return dict(response.json()), modified

    # --- queries ----------------------------------------------------------------------

    def query_pages(
        self, soql: str, *, include_deleted: bool = False, batch_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Each page of a query (``query`` or ``queryAll``), following ``nextRecordsUrl``."""
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else None
        resource = "queryAll" if include_deleted else "query"
        page = json_value(
            self.request("GET", resource, params={"q": soql}, headers=headers).content
        )
        yield page
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            response = self.request("GET", page["nextRecordsUrl"], headers=headers)
            page = json_value(response.content)
            yield page

    def query(
        self, soql: str, *, include_deleted: bool = False, batch_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every record a query returns, across pages."""
        for page in self.query_pages(soql, include_deleted=include_deleted, batch_size=batch_size):
            yield from page.get("records", [])

    def query_each(
        self, soqls: Sequence[str], *, include_deleted: bool = False
    ) -> list[list[dict[str, Any]]]:
        """The records of each query, read five queries per ``composite`` call.

        A composite call counts as one API call whatever it holds, and its queries
        travel in the body, so many short queries (records read again by id) cost a
        fifth of the calls. A query whose answer spans pages continues with plain
        ``nextRecordsUrl`` requests.

        Raises:
            CrmError: the first failed query's error, classified as for a plain query.
        """
        resource = "queryAll" if include_deleted else "query"
        results: list[list[dict[str, Any]]] = []
        for start in range(0, len(soqls), COMPOSITE_QUERIES):
            group = soqls[start : start + COMPOSITE_QUERIES]
            body = {
                "allOrNone": False,
                "compositeRequest": [
                    {
                        "method": "GET",
                        "url": f"/services/data/v{self.api_version}/{resource}/?"
                        + urlencode({"q": soql}),
                        "referenceId": f"query{index}",
                    }
                    for index, soql in enumerate(group)
                ],
            }
            answer = json_value(
                self.request("POST", "composite", json=body, idempotent=True).content
            )
            for item in answer.get("compositeResponse") or ():
                status = int(item.get("httpStatusCode") or 0)
                page = item.get("body")
                if status >= 400 or not isinstance(page, Mapping):
                    raise _error_from_body(status, page)
                records = list(page.get("records") or ())
                while not page.get("done", True) and page.get("nextRecordsUrl"):
                    page = json_value(self.request("GET", page["nextRecordsUrl"]).content)
                    records.extend(page.get("records") or ())
                results.append(records)
        if len(results) != len(soqls):
            raise NetworkError(
                f"Salesforce answered {len(results)} of {len(soqls)} composite queries."
            )
        return results

    def count(self, soql: str) -> int:
        """``totalSize`` of a ``SELECT COUNT() ...`` query."""
        return int(self.request("GET", "query", params={"q": soql}).json()["totalSize"])

    # --- single records ---------------------------------------------------------------

    def get_record(
        self, sobject: str, record_id: str, fields: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """One record by id."""
        params = {"fields": ",".join(fields)} if fields else None
        path = f"sobjects/{_name(sobject)}/{_name(record_id)}"
        return dict(self.request("GET", path, params=params).json())

    def create(self, sobject: str, values: Mapping[str, Any]) -> str:
        """Create one record and return its id (not idempotent: prefer :meth:`upsert`)."""
        response = self.request("POST", f"sobjects/{_name(sobject)}", json=dict(values))
        return str(response.json()["id"])

    def update(self, sobject: str, record_id: str, values: Mapping[str, Any]) -> None:
        """Update fields of one record."""
        self.request("PATCH", f"sobjects/{_name(sobject)}/{_name(record_id)}", json=dict(values))

    def delete(self, sobject: str, record_id: str) -> None:
        """Delete one record."""
        self.request("DELETE", f"sobjects/{_name(sobject)}/{_name(record_id)}")

    def upsert(
        self, sobject: str, external_id_field: str, external_id: str, values: Mapping[str, Any]
    ) -> RecordResult:
        """Create or update one record matched by an external id (idempotent)."""
        path = f"sobjects/{_name(sobject)}/{_name(external_id_field)}/{_segment(external_id)}"
        response = self.request("PATCH", path, json=dict(values))
        if response.status_code == 204:  # before v46.0 an update answers 204
            return RecordResult(id=None, success=True, created=False)
        body = response.json()
        return RecordResult(
            id=body.get("id"), success=True, created=bool(body.get("created", False))
        )

    # --- collections ------------------------------------------------------------------

    def upsert_collection(
        self,
        sobject: str,
        external_id_field: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
    ) -> list[RecordResult]:
        """Upsert up to 200 records per call on an external id; results in input order."""
        path = f"composite/sobjects/{_name(sobject)}/{_name(external_id_field)}"
        return self._collection("PATCH", path, sobject, records, all_or_none)

    def create_collection(
        self, sobject: str, records: Sequence[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> list[RecordResult]:
        """Create records, 200 per call (not idempotent: prefer :meth:`upsert_collection`)."""
        return self._collection("POST", "composite/sobjects", sobject, records, all_or_none)

    def update_collection(
        self, sobject: str, records: Sequence[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> list[RecordResult]:
        """Update records (each with its ``Id``), 200 per call."""
        return self._collection("PATCH", "composite/sobjects", sobject, records, all_or_none)

    def delete_collection(
        self, ids: Sequence[str], *, all_or_none: bool = False
    ) -> list[RecordResult]:
        """Delete records by id, 200 per call."""
        results: list[RecordResult] = []
        for start in range(0, len(ids), COLLECTION_LIMIT):
            chunk = [_name(i) for i in ids[start : start + COLLECTION_LIMIT]]
            params = {"ids": ",".join(chunk), "allOrNone": str(all_or_none).lower()}
            response = self.request("DELETE", "composite/sobjects", params=params)
            results.extend(_record_results(response.json()))
        return results

    def _collection(
        self,
        method: str,
        path: str,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        all_or_none: bool,
    ) -> list[RecordResult]:
        results: list[RecordResult] = []
        for start in range(0, len(records), COLLECTION_LIMIT):
            chunk = [
                {"attributes": {"type": sobject}, **record}
                for record in records[start : start + COLLECTION_LIMIT]
            ]
            body = {"allOrNone": all_or_none, "records": chunk}
            response = self.request(method, path, json=body)
            results.extend(_record_results(response.json()))
        return results

    # --- replication helpers ----------------------------------------------------------

    def updated_ids(self, sobject: str, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
        """``sobjects/{Type}/updated``: ids changed in a window (at most 30 days back)."""
        params = {"start": _iso(start), "end": _iso(end)}
        return dict(
            self.request("GET", f"sobjects/{_name(sobject)}/updated/", params=params).json()
        )

    def deleted_ids(self, sobject: str, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
        """``sobjects/{Type}/deleted``: ids deleted in a window."""
        params = {"start": _iso(start), "end": _iso(end)}
        return dict(
            self.request("GET", f"sobjects/{_name(sobject)}/deleted/", params=params).json()
        )


def error_from_response(response: httpx.Response) -> CrmError:
    """The classified error of a failed REST response (a JSON array of errors)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    return _error_from_body(response.status_code, body)


def _error_from_body(status: int, body: Any) -> CrmError:
    """The classified error of a failed answer's body (a JSON array of errors)."""
    first: Mapping[str, Any] = {}
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        first = body[0]
    elif isinstance(body, Mapping):
        first = body
    code = str(first.get("errorCode") or first.get("error") or "")
    message = str(
        first.get("message")
        or first.get("error_description")
        or f"Salesforce answered HTTP {status}."
    )
    fields = first.get("fields") or ()
    return classify_salesforce_error(status=status, code=code, message=message, fields=fields)


def _record_results(body: Any) -> list[RecordResult]:
    results = []
    for item in body:
        errors = tuple(
            classify_salesforce_error(
                status=None,
                code=str(err.get("statusCode", "")),
                message=str(err.get("message", "")),
                fields=err.get("fields") or (),
            )
            for err in item.get("errors") or ()
        )
        results.append(
            RecordResult(
                id=item.get("id"),
                success=bool(item.get("success")),
                created=item.get("created"),
                errors=errors,
            )
        )
    return results


def _resource_family(path: str) -> str:
    if path.strip("/") == "":
        return "resources"  # the resources of the version (REST API, "Resources by Version")
    trimmed = path
    if trimmed.startswith("/services/data/"):
        trimmed = trimmed.split("/", 4)[-1] if trimmed.count("/") >= 4 else ""
    head = trimmed.strip("/").split("/", 1)[0].split("?", 1)[0]
    return head or "versions"


_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def _name(value: str) -> str:
    """An API name or id placed in a URL path: letters, digits, underscores only."""
    if not _NAME.match(value):
        raise ValueError(f"not an API name or id: {value!r}")
    return value


def _segment(value: str) -> str:
    """An external id value in a URL path segment, percent-encoded."""
    from urllib.parse import quote

    return quote(value, safe="")


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
