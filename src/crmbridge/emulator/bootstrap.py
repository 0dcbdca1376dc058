"""What a brand-new org contains: the Organization row, the admin user, opportunity
stages and record types. Runs once per data directory; a restart finds them there.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from crmbridge.emulator.ids import make_id
from crmbridge.emulator.schema_default import DEFAULT_STAGES
from crmbridge.emulator.store import OrgStore

#: Instance name shown by Organization.InstanceName and the SOAP serverUrl pod.
INSTANCE_NAME = "EMU1"


@dataclass(frozen=True, kw_only=True)
class OrgIdentity:
    """The ids of the org and its admin user."""

    org_id: str
    admin_user_id: str


def bootstrap_org(
    store: OrgStore,
    *,
    org_name: str = "crmbridge Emulated Org",
    username: str = "admin@crmbridge-emulator.example",
    first_name: str = "Ada",
    last_name: str = "Admin",
) -> OrgIdentity:
    """Create the org's fixed records unless they exist; return the org and admin ids."""
    org_id = store.meta_get("org_id")
    admin_id = store.meta_get("admin_user_id")
    if org_id and admin_id:
        return OrgIdentity(org_id=org_id, admin_user_id=admin_id)
    admin_id = store.allocate_ids("005")[0]
    # Two emulated orgs must not share an org id (one org connects to one tenant).
    org_id = make_id("00D", 62**6 + secrets.randbelow(62**8), store.pod)
    with store.transaction(user_id=admin_id) as tx:
        tx.create(
            "User",
            {
                "Id": admin_id,
                "Username": username,
                "FirstName": first_name,
                "LastName": last_name,
                "Alias": (first_name[:1] + last_name[:4]).lower(),
                "Email": username,
                "IsActive": True,
                "Title": "System Administrator",
                "CompanyName": org_name,
            },
            system=True,
        )
        tx.create(
            "Organization",
            {
                "Id": org_id,
                "Name": org_name,
                "OrganizationType": "Developer Edition",
                "InstanceName": INSTANCE_NAME,
                "IsSandbox": False,
                "DefaultLocaleSidKey": "en_US",
                "LanguageLocaleKey": "en_US",
                "TimeZoneSidKey": "America/Los_Angeles",
                "Country": "United States",
            },
            system=True,
        )
        for order, (name, probability, category, closed, won) in enumerate(DEFAULT_STAGES, 1):
            tx.create(
                "OpportunityStage",
                {
                    "MasterLabel": name,
                    "ApiName": name,
                    "IsActive": True,
                    "SortOrder": order,
                    "IsClosed": closed,
                    "IsWon": won,
                    "ForecastCategory": "Closed" if won else ("Omitted" if closed else "Pipeline"),
                    "ForecastCategoryName": category,
                    "DefaultProbability": probability,
                },
                system=True,
            )
        for sobj in store.schema:
            for record_type in sobj.record_types:
                tx.create(
                    "RecordType",
                    {
                        "Name": record_type.name,
                        "DeveloperName": record_type.developer_name,
                        "SobjectType": sobj.name,
                        "IsActive": record_type.active,
                    },
                    system=True,
                )
        store.meta_set("admin_user_id", admin_id)
        store.meta_set("org_id", org_id)
    store.forget_cached_stages()
    return OrgIdentity(org_id=org_id, admin_user_id=admin_id)
