"""Default mappings of the sales recipes (seeds 002, 003 and 004, R-G1, R-G6, R-H1).

lead ↔ Lead (seed 004 field table and status mapping), referral → Lead (seed 003
"Referral Add to Salesforce"), opportunity ↔ Opportunity (seed 002 default properties),
activity ↔ Task and activity ↔ EmailMessage (seed 004 "Notes ↔ Tasks, Emails ↔
EmailMessage").
"""

from __future__ import annotations

from crmbridge.domain.mapping.conditions import where
from crmbridge.domain.mapping.defaults.membership import owner_reference, polymorphic_link
from crmbridge.domain.mapping.model import (
    Direction,
    FieldMapping,
    MatchKey,
    ObjectMapping,
    computed,
    direct,
    transformed,
)
from crmbridge.domain.mapping.transforms import DateFormat, DateKind, Reference, value_map

#: Seed 004 "Status Mapping", then Salesforce's standard Lead statuses for records
#: created in Salesforce (only the first pair of a Salesforce value comes back).
LEAD_STATUS_PAIRS = (
    ("NEW", "New"),
    ("CONTACTED", "Contacted"),
    ("QUALIFIED", "Qualified"),
    ("PROPOSAL_SENT", "Proposal Sent"),
    ("NEGOTIATION", "Negotiating"),
    ("CONVERTED", "Closed Won"),
    ("LOST", "Closed Lost"),
    ("NEW", "Open - Not Contacted"),
    ("CONTACTED", "Working - Contacted"),
    ("CONVERTED", "Closed - Converted"),
    ("LOST", "Closed - Not Converted"),
)

#: Platform lead sources → the standard LeadSource picklist values.
LEAD_SOURCE_PAIRS = (
    ("WEB", "Web"),
    ("PHONE", "Phone Inquiry"),
    ("PARTNER", "Partner Referral"),
    ("PURCHASED_LIST", "Purchased List"),
    ("REFERRAL", "Referral"),
    ("EVENT", "Event"),
    ("ADVERTISEMENT", "Advertisement"),
    ("OTHER", "Other"),
)

#: The stages of a new org; identical names map as they are (R-G2 refines per tenant).
DEFAULT_STAGES = (
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
)

#: Lead.Company is required; Salesforce's own web-to-lead uses this placeholder.
NO_COMPANY = "[not provided]"


def lead_lead() -> ObjectMapping:
    """lead ↔ Lead."""
    return ObjectMapping(
        platform_entity="lead",
        salesforce_object="Lead",
        match_keys=(MatchKey(platform_field="email", salesforce_field="Email"),),
        fields=(
            direct("first_name", "FirstName"),
            direct("last_name", "LastName"),
            direct("email", "Email"),
            direct("phone", "Phone"),
            direct("mobile_phone", "MobilePhone"),
            direct("company", "Company", default_value=NO_COMPANY),
            direct("street", "Street"),
            direct("city", "City"),
            direct("state", "State"),
            direct("zip_code", "PostalCode"),
            direct("country", "Country"),
            direct("score", "Lead_Score__c"),
            transformed("status", "Status", value_map(list(LEAD_STATUS_PAIRS))),
            transformed(
                "source",
                "LeadSource",
                value_map(
                    list(LEAD_SOURCE_PAIRS),
                    salesforce_default="Other",
                    platform_default="OTHER",
                    case_insensitive=True,
                ),
            ),
            direct("insurance_type", "Insurance_Type__c"),
            transformed("owner_id", "OwnerId", owner_reference()),
            transformed(
                "converted_at",
                "ConvertedDate",
                DateFormat(platform_kind=DateKind.DATETIME),
                direction=Direction.FROM_SALESFORCE,
            ),
        ),
    )


def referral_lead() -> ObjectMapping:
    """referral → Lead (seed 003: the fields Referral Rock always sends)."""
    return ObjectMapping(
        platform_entity="referral",
        salesforce_object="Lead",
        direction=Direction.TO_SALESFORCE,
        match_keys=(MatchKey(platform_field="email", salesforce_field="Email"),),
        fields=(
            direct("first_name", "FirstName"),
            direct("last_name", "LastName"),
            direct("email", "Email"),
            direct("phone", "Phone"),
            direct("company", "Company", default_value=NO_COMPANY),
            direct("id", "Referral_ID__c"),
            direct("referral_source", "Referral_Source__c"),
            direct("source_note", "Referral_Source_Note__c"),
            direct("member_url", "Member_URL__c"),
            direct("referral_url", "Referral_URL__c"),
        ),
    )


def opportunity_opportunity() -> ObjectMapping:
    """opportunity ↔ Opportunity (seed 002 default properties)."""
    return ObjectMapping(
        platform_entity="opportunity",
        salesforce_object="Opportunity",
        fields=(
            direct("name", "Name"),
            transformed(
                "stage",
                "StageName",
                value_map([(s, s) for s in DEFAULT_STAGES], case_insensitive=True),
            ),
            direct("amount", "Amount"),
            direct("next_step", "NextStep"),
            transformed(
                "organization_id",
                "AccountId",
                Reference(object_name="Account", entity="organization"),
            ),
            transformed("owner_id", "OwnerId", owner_reference()),
            direct("probability", "Probability"),
            transformed("close_date", "CloseDate", DateFormat()),
        ),
    )


def _who_and_what(who_field: str) -> tuple[FieldMapping, ...]:
    """Links of an activity: Who is a Contact or a Lead, What an Opportunity or Account."""
    return (
        transformed("member_id", who_field, polymorphic_link("Contact", "member")),
        transformed("lead_id", who_field, polymorphic_link("Lead", "lead")),
    )


def activity_task() -> ObjectMapping:
    """activity (notes, tasks, calls) ↔ Task."""
    return ObjectMapping(
        platform_entity="activity",
        salesforce_object="Task",
        platform_filter=where("kind", "in", ["NOTE", "TASK", "CALL"]),
        fields=(
            direct("subject", "Subject"),
            direct("body", "Description"),
            transformed("due_date", "ActivityDate", DateFormat()),
            transformed(
                "status",
                "Status",
                value_map(
                    {"OPEN": "Not Started", "COMPLETED": "Completed"}, platform_default="OPEN"
                ),
            ),
            transformed(
                "kind",
                "Type",
                value_map(
                    {"NOTE": "Other", "CALL": "Call", "TASK": "Other"},
                    salesforce_default="Other",
                    platform_default="NOTE",
                ),
            ),
            *_who_and_what("WhoId"),
            transformed(
                "opportunity_id",
                "WhatId",
                polymorphic_link("Opportunity", "opportunity"),
            ),
            transformed(
                "organization_id",
                "WhatId",
                polymorphic_link("Account", "organization"),
            ),
            transformed("owner_id", "OwnerId", owner_reference()),
        ),
    )


def activity_email_message() -> ObjectMapping:
    """activity (e-mails) ↔ EmailMessage."""
    return ObjectMapping(
        platform_entity="activity",
        salesforce_object="EmailMessage",
        platform_filter=where("kind", "eq", "EMAIL"),
        fields=(
            direct("subject", "Subject"),
            direct("body", "TextBody"),
            transformed(
                "occurred_at",
                "MessageDate",
                DateFormat(platform_kind=DateKind.DATETIME, salesforce_type=DateKind.DATETIME),
            ),
            *_who_and_what("RelatedToId"),
            transformed(
                "opportunity_id",
                "RelatedToId",
                polymorphic_link("Opportunity", "opportunity"),
            ),
            # EmailMessage.Status "3" is Sent (Object Reference, EmailMessage).
            computed("Status", '"3"'),
            computed("kind", '"EMAIL"', direction=Direction.FROM_SALESFORCE),
        ),
    )
