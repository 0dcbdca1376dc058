"""Helpers of the mapping integration tests (a module name unique in the suite)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from crmbridge.mappings.describes import OrgSchema
from crmbridge.salesforce.client import SalesforceClient


@dataclass
class OrgWorld:
    """A tenant, the store, and the org its mappings are checked against."""

    session_factory: sessionmaker[Session]
    tenant_id: str
    client: SalesforceClient
    org: OrgSchema
