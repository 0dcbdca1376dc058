"""The org's describes, cached per tenant, org and object (R-M5).

Validating a mapping needs the describe of its Salesforce object. Each describe is
kept in the store with the time it was fetched. Within :data:`DESCRIBE_MAX_AGE` the
cached copy is used without calling Salesforce; after that it is revalidated with
``If-Modified-Since`` (a ``304 Not Modified`` costs one API call and no download;
REST API Developer Guide, "Get Object Metadata Changes"). An explicit refresh
downloads it again unconditionally, because changes to the integration user's
permissions (createable / updateable) need not count as a metadata change.

The cache is read and written in short transactions of its own, never in the caller's
request transaction: a describe fetched is worth keeping even when the request fails,
and on SQLite the caller must not hold a write lock while Salesforce is called (the
client's token renewal writes in its own transaction; see
:mod:`crmbridge.connections.client_factory`). Use case code therefore fetches first
(describes, checks) and writes its own rows afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crmbridge.domain.errors import CrmError, RecordDeletedError
from crmbridge.mappings.errors import SalesforceObjectNotFound, SalesforceUnavailable
from crmbridge.salesforce.client import SalesforceClient
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import describes as repo

#: How long a cached describe is used before Salesforce is asked whether it changed.
DESCRIBE_MAX_AGE = timedelta(minutes=10)


@dataclass(frozen=True, kw_only=True)
class DescribeSnapshot:
    """A describe and how fresh it is."""

    #: The JSON of ``sobjects/{name}/describe``.
    describe: dict[str, Any]
    #: When it was downloaded.
    fetched_at: datetime
    #: When Salesforce last confirmed it current.
    checked_at: datetime
    #: How this call got it: ``cache``, ``not_modified`` (revalidated) or ``downloaded``.
    source: str
    #: What to send as ``If-Modified-Since`` when revalidating it.
    modified_since: datetime | None = None


class OrgSchema:
    """Describes of one tenant's org: from the cache, revalidated, or downloaded.

    Args:
        session_factory: opens the cache's own short transactions.
        client: the tenant's Salesforce client.
        tenant_id: the tenant.
        max_age: how long a cached describe is used as it is.
        clock: the time source.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        client: SalesforceClient,
        *,
        tenant_id: str,
        max_age: timedelta = DESCRIBE_MAX_AGE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._session_factory = session_factory
        self.client = client
        self.tenant_id = tenant_id
        self._max_age = max_age
        self._clock = clock
        self._seen: dict[str, DescribeSnapshot] = {}

    @property
    def org_id(self) -> str:
        """The connected org's id (describes of another org are never reused)."""
        return self.client.tokens.org_id or "unknown"

    def describe(self, sobject: str, *, refresh: bool = False) -> DescribeSnapshot:
        """The describe of ``sobject``.

        Args:
            sobject: the object's API name (any case).
            refresh: download it again, whatever the cache holds.

        Raises:
            SalesforceObjectNotFound: the org has no such object (or hides it).
            SalesforceUnavailable: Salesforce could not answer.
        """
        key = sobject.lower()
        if not refresh and key in self._seen:
            return self._seen[key]
        now = self._clock()
        cached = None if refresh else self._cached(sobject)
        try:
            if cached is not None and now - cached.checked_at < self._max_age:
                snapshot = cached
            elif cached is not None:
                name = str(cached.describe.get("name") or sobject)
                describe, modified = self.client.describe_if_modified(name, cached.modified_since)
                if describe is None:
                    with self._session_factory.begin() as session:
                        entry = repo.get_cached_describe(
                            session, tenant_id=self.tenant_id, org_id=self.org_id, sobject=name
                        )
                        if entry is not None:
                            repo.mark_describe_checked(session, entry, now)
                    snapshot = replace(cached, checked_at=now, source="not_modified")
                else:
                    snapshot = self._store(describe, modified, now)
            else:
                describe, modified = self.client.describe_if_modified(sobject, None)
                assert describe is not None  # asked without a date: always a body
                snapshot = self._store(describe, modified, now)
        except RecordDeletedError as error:
            raise SalesforceObjectNotFound(
                f"The org has no object {sobject!r}, or the integration user cannot see it."
            ) from error
        except CrmError as error:
            raise SalesforceUnavailable(error) from error
        self._seen[key] = snapshot
        self._seen[str(snapshot.describe.get("name", sobject)).lower()] = snapshot
        return snapshot

    def _cached(self, sobject: str) -> DescribeSnapshot | None:
        with self._session_factory() as session:
            entry = repo.get_cached_describe(
                session, tenant_id=self.tenant_id, org_id=self.org_id, sobject=sobject
            )
            if entry is None:
                return None
            return DescribeSnapshot(
                describe=entry.describe,
                fetched_at=entry.fetched_at,
                checked_at=entry.checked_at,
                source="cache",
                modified_since=entry.schema_modified_at or entry.fetched_at,
            )

    def _store(
        self, describe: dict[str, Any], modified: datetime | None, now: datetime
    ) -> DescribeSnapshot:
        with self._session_factory.begin() as session:
            repo.save_describe(
                session,
                tenant_id=self.tenant_id,
                org_id=self.org_id,
                sobject_name=str(describe["name"]),
                describe=describe,
                schema_modified_at=modified,
                fetched_at=now,
            )
        return DescribeSnapshot(
            describe=describe,
            fetched_at=now,
            checked_at=now,
            source="downloaded",
            modified_since=modified or now,
        )

    def list_objects(self) -> list[dict[str, Any]]:
        """describeGlobal's objects (name, label, custom, createable …), not cached.

        Raises:
            SalesforceUnavailable: Salesforce could not answer.
        """
        try:
            sobjects = self.client.describe_global().get("sobjects", [])
        except CrmError as error:
            raise SalesforceUnavailable(error) from error
        return [dict(item) for item in sobjects]
