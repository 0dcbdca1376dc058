"""Realistic describe JSON for the mapping tests, in the documented REST shape.

Each field dict carries the keys of the REST API's sObject Describe ``fields[]``
(Object Reference, "API Field Properties"): name, label, type, length, createable,
updateable, nillable, defaultedOnCreate, picklistValues, restrictedPicklist,
calculated, autoNumber, encrypted, referenceTo, relationshipName, externalId, unique.
Field names, lengths and picklists follow the standard objects and the seed custom
fields of the emulator's default org.
"""

from __future__ import annotations

from typing import Any


def sf_field(name: str, type_: str = "string", **overrides: Any) -> dict[str, Any]:
    """One describe field with Salesforce's defaults for a custom, editable field."""
    length = {"string": 255, "textarea": 32000, "email": 80, "phone": 40, "url": 255}.get(type_, 0)
    if type_ in ("picklist", "multipicklist"):
        length = 255
    field: dict[str, Any] = {
        "name": name,
        "label": overrides.pop("label", _label(name)),
        "type": type_,
        "length": length,
        "createable": True,
        "updateable": True,
        "nillable": type_ != "boolean",
        "defaultedOnCreate": type_ == "boolean",
        "picklistValues": [],
        "restrictedPicklist": False,
        "calculated": False,
        "autoNumber": False,
        "encrypted": False,
        "referenceTo": [],
        "relationshipName": None,
        "externalId": False,
        "unique": False,
        "custom": name.endswith("__c"),
    }
    values = overrides.pop("values", ())
    field["picklistValues"] = [
        {"value": v, "label": v, "active": True, "defaultValue": False} for v in values
    ]
    field.update(overrides)
    return field


def _label(name: str) -> str:
    base = name.removesuffix("__c").replace("_", " ")
    out = ""
    for i, ch in enumerate(base):
        if ch.isupper() and i and base[i - 1].islower():
            out += " "
        out += ch
    return out


def reference(name: str, to: str | tuple[str, ...], relationship: str, **kw: Any) -> dict[str, Any]:
    """A lookup field."""
    targets = [to] if isinstance(to, str) else list(to)
    return sf_field(
        name, "reference", referenceTo=targets, relationshipName=relationship, length=18, **kw
    )


def system_fields() -> list[dict[str, Any]]:
    """Id and the audit fields every object has (not createable, not updateable)."""
    ro = {"createable": False, "updateable": False}
    return [
        sf_field("Id", "id", nillable=False, length=18, **ro),
        sf_field("IsDeleted", "boolean", **ro),
        sf_field("CreatedDate", "datetime", nillable=False, **ro),
        sf_field("LastModifiedDate", "datetime", nillable=False, **ro),
        sf_field("SystemModstamp", "datetime", nillable=False, **ro),
    ]


def platform_id() -> dict[str, Any]:
    """The Platform_Id__c external id crmbridge upserts by."""
    return sf_field("Platform_Id__c", "string", externalId=True, unique=True, label="Platform ID")


def owner() -> dict[str, Any]:
    """OwnerId: required but defaulted to the running user."""
    return reference("OwnerId", "User", "Owner", nillable=False, defaultedOnCreate=True)


def describe(name: str, fields: list[dict[str, Any]], **flags: Any) -> dict[str, Any]:
    """An object describe with its flags and fields."""
    data = {
        "name": name,
        "label": name,
        "custom": name.endswith("__c"),
        "createable": True,
        "updateable": True,
        "deletable": True,
        "queryable": True,
        "fields": [*system_fields(), *fields],
    }
    data.update(flags)
    return data


def address(prefix: str) -> list[dict[str, Any]]:
    return [
        sf_field(f"{prefix}Street", "textarea", length=255),
        sf_field(f"{prefix}City", length=40),
        sf_field(f"{prefix}State", length=80),
        sf_field(f"{prefix}PostalCode", length=20),
        sf_field(f"{prefix}Country", length=80),
    ]


MEMBERSHIP = ["Active", "Expiring", "Expired", "Inactive", "Pending", "Cancelled"]
TAGS = [
    "Membership Active",
    "Membership Expiring",
    "Membership Expired",
    "Membership Upgraded",
    "Membership Downgrade Scheduled",
    "Event Registered",
    "Event Attended",
    "Event No-Show",
    "Course Enrolled",
    "Course Completed",
]
LEAD_STATUSES = [
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
    "New",
    "Contacted",
    "Qualified",
    "Proposal Sent",
    "Negotiating",
    "Closed Won",
    "Closed Lost",
]
LEAD_SOURCES = [
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Purchased List",
    "Referral",
    "Event",
    "Advertisement",
    "Other",
]
STAGES = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
]


def referral_fields() -> list[dict[str, Any]]:
    return [
        sf_field("Referral_ID__c", length=64, label="Referral ID"),
        sf_field("Referral_Source__c"),
        sf_field("Referral_Source_Note__c", "textarea", length=1000),
        sf_field("Member_URL__c", "url", label="Member URL"),
        sf_field("Referral_URL__c", "url", label="Referral URL"),
    ]


def contact() -> dict[str, Any]:
    return describe(
        "Contact",
        [
            reference("AccountId", "Account", "Account"),
            sf_field("LastName", length=80, nillable=False),
            sf_field("FirstName", length=40),
            sf_field("Name", length=121, createable=False, updateable=False, nillable=False),
            *address("Mailing"),
            sf_field("Phone", "phone", label="Business Phone"),
            sf_field("MobilePhone", "phone"),
            sf_field("Email", "email"),
            sf_field("Title", length=128),
            sf_field("Birthdate", "date"),
            sf_field("Description", "textarea", label="Contact Description"),
            sf_field("HasOptedOutOfEmail", "boolean", label="Email Opt Out"),
            sf_field("DoNotCall", "boolean"),
            sf_field("Membership_Status__c", "picklist", values=MEMBERSHIP),
            sf_field("Movement_Exclude__c", "boolean"),
            sf_field("Member_Tags__c", "multipicklist", values=TAGS),
            *referral_fields(),
            sf_field("Account_Name__c", createable=False, updateable=False, calculated=True),
            sf_field("Member_SSN__c", "encryptedstring", length=175, encrypted=True),
            owner(),
            platform_id(),
        ],
    )


def account() -> dict[str, Any]:
    return describe(
        "Account",
        [
            sf_field("Name", nillable=False, label="Account Name"),
            reference("ParentId", "Account", "Parent", label="Parent Account ID"),
            *address("Billing"),
            *address("Shipping"),
            sf_field("Phone", "phone", label="Account Phone"),
            sf_field("Website", "url"),
            sf_field("Industry", "picklist", values=["Banking", "Insurance", "Other"]),
            sf_field("Description", "textarea", label="Account Description"),
            sf_field("AccountNumber", length=40),
            owner(),
            platform_id(),
        ],
    )


def lead() -> dict[str, Any]:
    return describe(
        "Lead",
        [
            sf_field("LastName", length=80, nillable=False),
            sf_field("FirstName", length=40),
            sf_field("Name", length=121, createable=False, updateable=False, nillable=False),
            sf_field("Title", length=128),
            sf_field("Company", nillable=False),
            sf_field("Street", "textarea", length=255),
            sf_field("City", length=40),
            sf_field("State", length=80),
            sf_field("PostalCode", length=20),
            sf_field("Country", length=80),
            sf_field("Phone", "phone"),
            sf_field("MobilePhone", "phone"),
            sf_field("Email", "email"),
            sf_field("LeadSource", "picklist", values=LEAD_SOURCES),
            sf_field(
                "Status",
                "picklist",
                values=LEAD_STATUSES,
                restrictedPicklist=True,
                nillable=False,
                defaultedOnCreate=True,
                label="Lead Status",
            ),
            sf_field("IsConverted", "boolean", createable=False, updateable=False),
            sf_field("ConvertedDate", "date", createable=False, updateable=False),
            sf_field("Lead_Score__c", "double", label="Lead Score"),
            sf_field(
                "Insurance_Type__c",
                "picklist",
                values=["Auto", "Home", "Life", "Health", "Renters", "Business"],
            ),
            *referral_fields(),
            owner(),
            platform_id(),
        ],
    )


def opportunity() -> dict[str, Any]:
    return describe(
        "Opportunity",
        [
            reference("AccountId", "Account", "Account"),
            sf_field("Name", length=120, nillable=False),
            sf_field(
                "StageName", "picklist", values=STAGES, restrictedPicklist=True, nillable=False
            ),
            sf_field("Amount", "currency"),
            sf_field("Probability", "percent", defaultedOnCreate=True),
            sf_field("CloseDate", "date", nillable=False),
            sf_field("NextStep", length=255),
            sf_field("IsWon", "boolean", createable=False, updateable=False),
            owner(),
            platform_id(),
        ],
    )


def campaign() -> dict[str, Any]:
    return describe(
        "Campaign",
        [
            sf_field("Name", length=80, nillable=False),
            sf_field("Type", "picklist", values=["Conference", "Webinar", "Email", "Other"]),
            sf_field(
                "Status", "picklist", values=["Planned", "In Progress", "Completed", "Aborted"]
            ),
            sf_field("StartDate", "date"),
            sf_field("EndDate", "date"),
            sf_field("IsActive", "boolean"),
            sf_field("Description", "textarea"),
            sf_field("Movement_Include__c", "boolean"),
            owner(),
            platform_id(),
        ],
    )


def campaign_member() -> dict[str, Any]:
    return describe(
        "CampaignMember",
        [
            reference("CampaignId", "Campaign", "Campaign", nillable=False, updateable=False),
            reference("LeadId", "Lead", "Lead", updateable=False),
            reference("ContactId", "Contact", "Contact", updateable=False),
            sf_field("Status", "picklist", values=["Planned", "Sent", "Received", "Responded"]),
            sf_field("Voted__c", "boolean"),
            sf_field("Contacted__c", "boolean"),
            platform_id(),
        ],
    )


def task() -> dict[str, Any]:
    return describe(
        "Task",
        [
            reference("WhoId", ("Contact", "Lead"), "Who"),
            reference("WhatId", ("Account", "Opportunity", "Campaign"), "What"),
            sf_field("Subject", "combobox", values=["Call", "Send Letter", "Other"]),
            sf_field("ActivityDate", "date"),
            sf_field(
                "Status",
                "picklist",
                values=["Not Started", "In Progress", "Completed", "Waiting on someone else"],
                restrictedPicklist=True,
                nillable=False,
                defaultedOnCreate=True,
            ),
            sf_field(
                "Priority",
                "picklist",
                values=["High", "Normal", "Low"],
                nillable=False,
                defaultedOnCreate=True,
            ),
            sf_field("Type", "picklist", values=["Call", "Email", "Meeting", "Other"]),
            sf_field("Description", "textarea", label="Comments"),
            owner(),
            platform_id(),
        ],
    )


def email_message() -> dict[str, Any]:
    return describe(
        "EmailMessage",
        [
            reference(
                "RelatedToId",
                ("Account", "Opportunity", "Campaign", "Contact", "Lead"),
                "RelatedTo",
            ),
            sf_field("Subject", length=3000),
            sf_field("TextBody", "textarea", length=131072),
            sf_field("MessageDate", "datetime"),
            sf_field(
                "Status",
                "picklist",
                values=["0", "1", "2", "3", "4", "5"],
                restrictedPicklist=True,
                defaultedOnCreate=True,
            ),
            platform_id(),
        ],
    )


#: Describes by object name.
DESCRIBES = {
    "Contact": contact,
    "Account": account,
    "Lead": lead,
    "Opportunity": opportunity,
    "Campaign": campaign,
    "CampaignMember": campaign_member,
    "Task": task,
    "EmailMessage": email_message,
}
