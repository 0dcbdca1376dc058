"""Default mappings of the membership recipes (seeds 000 and 001, R-F1..R-F7).

member ↔ Contact (seed 000 field table, seed 002 Contact properties, seed 001 opt-ins
and ``Movement_Exclude__c``), organization ↔ Account (seed 001 hierarchy, seed 002
Account properties), campaign ↔ Campaign and goal ↔ CampaignMember (seed 001 efforts
and goals), support ticket → Task (seed 000 "Support Ticket Notes").
"""

from __future__ import annotations

from crmbridge.domain.mapping.conditions import where
from crmbridge.domain.mapping.model import (
    CreationRule,
    Direction,
    FieldMapping,
    MatchKey,
    ObjectMapping,
    computed,
    direct,
    transformed,
)
from crmbridge.domain.mapping.transforms import (
    Concatenate,
    DateFormat,
    DateKind,
    Lookup,
    Reference,
    value_map,
)

FROM_SF = Direction.FROM_SALESFORCE
TO_SF = Direction.TO_SALESFORCE

#: Platform tag names → the Contact.Member_Tags__c values (seed 000 tag catalog).
TAG_VALUES = {
    "membership_active": "Membership Active",
    "membership_expiring": "Membership Expiring",
    "membership_expired": "Membership Expired",
    "membership_upgraded": "Membership Upgraded",
    "membership_downgrade_scheduled": "Membership Downgrade Scheduled",
    "event_registered": "Event Registered",
    "event_attended": "Event Attended",
    "event_no_show": "Event No-Show",
    "course_enrolled": "Course Enrolled",
    "course_completed": "Course Completed",
}

_MEMBERSHIP_STATUS = value_map(
    {
        "ACTIVE": "Active",
        "EXPIRING": "Expiring",
        "EXPIRED": "Expired",
        "INACTIVE": "Inactive",
        "PENDING": "Pending",
        "CANCELLED": "Cancelled",
    },
    case_insensitive=True,
)
#: The platform stores opt-ins; Salesforce stores opt-outs.
_INVERTED = value_map([(True, False), (False, True)], platform_default=None)


def polymorphic_link(object_name: str, entity: str) -> Reference:
    """A link through a polymorphic field (Task.WhoId: a Contact or a Lead).

    SOQL reaches only a few common fields through a polymorphic relationship (SOQL and
    SOSL Reference, "Understanding Relationship Fields and Polymorphic Fields"), not
    Platform_Id__c, so these links resolve through the engine's known links only; an
    unlinked record fails the field until its counterpart has synced.
    """
    return Reference(object_name=object_name, entity=entity, external_id_field=None)


def owner_reference() -> Reference:
    """OwnerId ↔ the platform user paired with the Salesforce user (R-G4), if any."""
    return Reference(
        object_name="User", entity="platform_user", external_id_field=None, optional=True
    )


def member_contact() -> ObjectMapping:
    """member ↔ Contact."""
    return ObjectMapping(
        platform_entity="member",
        salesforce_object="Contact",
        match_keys=(MatchKey(platform_field="email", salesforce_field="Email"),),
        # Seed 001: contacts with Movement_Exclude__c = true are never imported.
        salesforce_filter=where("Movement_Exclude__c", "eq", False),
        fields=(
            direct("first_name", "FirstName"),
            direct("last_name", "LastName"),
            direct("email", "Email"),
            direct("phone", "Phone"),
            direct("mobile_phone", "MobilePhone"),
            direct("title", "Title"),
            transformed("company", "AccountId", Lookup(object_name="Account", match_field="Name")),
            transformed(
                "organization_id",
                "AccountId",
                Reference(object_name="Account", entity="organization", optional=True),
                direction=FROM_SF,
            ),
            transformed("membership_status", "Membership_Status__c", _MEMBERSHIP_STATUS),
            transformed("email_opt_in", "HasOptedOutOfEmail", _INVERTED),
            transformed("phone_opt_in", "DoNotCall", _INVERTED),
            transformed("birthdate", "Birthdate", DateFormat()),
            direct("street", "MailingStreet"),
            direct("city", "MailingCity"),
            direct("state", "MailingState"),
            direct("zip_code", "MailingPostalCode"),
            direct("country", "MailingCountry"),
            transformed(
                "tags",
                "Member_Tags__c",
                value_map(TAG_VALUES, case_insensitive=True),
                # Multi-select picklist values are joined with ';' (SOAP API, multipicklist).
                Concatenate(separator=";"),
            ),
        ),
    )


def organization_account() -> ObjectMapping:
    """organization ↔ Account, with the hierarchy through ParentId."""

    def address(prefix: str, sf_prefix: str) -> tuple[FieldMapping, ...]:
        return (
            direct(f"{prefix}street", f"{sf_prefix}Street"),
            direct(f"{prefix}city", f"{sf_prefix}City"),
            direct(f"{prefix}state", f"{sf_prefix}State"),
            direct(f"{prefix}zip_code", f"{sf_prefix}PostalCode"),
            direct(f"{prefix}country", f"{sf_prefix}Country"),
        )

    return ObjectMapping(
        platform_entity="organization",
        salesforce_object="Account",
        fields=(
            direct("name", "Name"),
            transformed(
                "parent_id",
                "ParentId",
                Reference(object_name="Account", entity="organization"),
            ),
            transformed("owner_id", "OwnerId", owner_reference()),
            direct("phone", "Phone"),
            direct("website", "Website"),
            direct("description", "Description"),
            direct("industry", "Industry"),
            *address("billing_", "Billing"),
            *address("shipping_", "Shipping"),
        ),
    )


def campaign_campaign() -> ObjectMapping:
    """campaign ← Campaign: included campaigns become efforts (seed 001, R-F7)."""
    return ObjectMapping(
        platform_entity="campaign",
        salesforce_object="Campaign",
        direction=FROM_SF,
        salesforce_filter=where("Movement_Include__c", "eq", True),
        fields=(
            direct("name", "Name"),
            transformed(
                "status",
                "Status",
                value_map(
                    {
                        "PLANNED": "Planned",
                        "IN_PROGRESS": "In Progress",
                        "COMPLETED": "Completed",
                        "ABORTED": "Aborted",
                    },
                    platform_default="PLANNED",
                ),
            ),
            direct("type", "Type"),
            direct("description", "Description"),
            transformed("start_date", "StartDate", DateFormat()),
            transformed("end_date", "EndDate", DateFormat()),
            direct("is_active", "IsActive"),
        ),
    )


def goal_campaign_member() -> ObjectMapping:
    """goal ↔ CampaignMember: imported with sub-goals, completions written back (R-F7)."""
    return ObjectMapping(
        platform_entity="goal",
        salesforce_object="CampaignMember",
        # Goals come from Salesforce; only their completion is written back.
        creation_in_salesforce=CreationRule.UPDATE_MATCHED_ONLY,
        salesforce_filter=where("Campaign.Movement_Include__c", "eq", True),
        fields=(
            transformed(
                "campaign_id",
                "CampaignId",
                Reference(object_name="Campaign", entity="campaign"),
                direction=FROM_SF,
            ),
            transformed(
                "member_id",
                "ContactId",
                Reference(object_name="Contact", entity="member", optional=True),
                direction=FROM_SF,
            ),
            transformed(
                "lead_id",
                "LeadId",
                Reference(object_name="Lead", entity="lead", optional=True),
                direction=FROM_SF,
            ),
            direct("status", "Status"),
            direct("sub_goals.voted", "Voted__c"),
            direct("sub_goals.contacted", "Contacted__c"),
        ),
    )


def support_ticket_task() -> ObjectMapping:
    """support_ticket → Task on the member's Contact (seed 000, R-F5)."""
    return ObjectMapping(
        platform_entity="support_ticket",
        salesforce_object="Task",
        direction=TO_SF,
        fields=(
            computed("Subject", '"Support ticket " & ticket_number & ": " & subject'),
            computed(
                "Description",
                '"Ticket " & ticket_number & " is " & status & "." & "\\n" & url'
                ' & IF(ISBLANK(description), "", "\\n\\n" & description)',
            ),
            transformed(
                "status",
                "Status",
                value_map(
                    {
                        "OPEN": "Not Started",
                        "PENDING": "Waiting on someone else",
                        "RESOLVED": "Completed",
                        "CLOSED": "Completed",
                    },
                    salesforce_default="Not Started",
                ),
            ),
            transformed(
                "priority",
                "Priority",
                value_map(
                    {"LOW": "Low", "NORMAL": "Normal", "HIGH": "High", "URGENT": "High"},
                    salesforce_default="Normal",
                ),
            ),
            transformed(
                "opened_at",
                "ActivityDate",
                DateFormat(platform_kind=DateKind.DATETIME, salesforce_type=DateKind.DATE),
            ),
            transformed("member_id", "WhoId", polymorphic_link("Contact", "member")),
        ),
    )
