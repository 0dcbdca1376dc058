"""The platform's entity types and their documented core fields (R-D1).

Every entity type is described here as plain data, so the store, the API, the mapping
editor and the sync engine treat all of them alike: one ``records`` table holds them
all (docs/decisions/0001-record-storage.md), and tenants add custom fields on top.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from crmbridge.domain.entities.fields import FieldSpec, FieldType

T = FieldType


def _f(name: str, type_: FieldType = T.STRING, **kwargs: object) -> FieldSpec:
    return FieldSpec(name=name, type=type_, **kwargs)  # type: ignore[arg-type]


def _ref(name: str, entity: str, **kwargs: object) -> FieldSpec:
    return FieldSpec(name=name, type=T.REFERENCE, references=entity, **kwargs)  # type: ignore[arg-type]


def _picklist(name: str, values: Iterable[str], **kwargs: object) -> FieldSpec:
    return FieldSpec(name=name, type=T.PICKLIST, values=tuple(values), **kwargs)  # type: ignore[arg-type]


def _address(prefix: str = "") -> tuple[FieldSpec, ...]:
    return (
        _f(f"{prefix}street", max_length=255),
        _f(f"{prefix}city", max_length=40),
        _f(f"{prefix}state", max_length=80),
        _f(f"{prefix}zip_code", max_length=20),
        _f(f"{prefix}country", max_length=80),
    )


@dataclass(frozen=True, kw_only=True)
class EntityType:
    """One kind of platform record."""

    #: Singular snake_case name (``member``); the ``entity_type`` column value.
    name: str
    #: URL path segment of the REST collection (``members``).
    plural: str
    #: Human label (``Member``).
    label: str
    #: The documented core fields, in display order.
    fields: tuple[FieldSpec, ...]
    #: One line for the API reference.
    description: str = ""

    def field(self, name: str) -> FieldSpec | None:
        """The core field called ``name``, if any."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        return None

    @property
    def field_names(self) -> frozenset[str]:
        """Names of the core fields."""
        return frozenset(spec.name for spec in self.fields)

    @property
    def references(self) -> tuple[FieldSpec, ...]:
        """Core fields that hold the id of another record (parents first in sync order)."""
        return tuple(spec for spec in self.fields if spec.type is T.REFERENCE)


#: Tag catalog of seed 000 (membership, event and course tags), fixed by design (R-F4).
MEMBER_TAGS: tuple[str, ...] = (
    "membership_active",
    "membership_expiring",
    "membership_expired",
    "membership_upgraded",
    "membership_downgrade_scheduled",
    "event_registered",
    "event_attended",
    "event_no_show",
    "course_enrolled",
    "course_completed",
)

#: Lead statuses of seed 004 ("Status Mapping").
LEAD_STATUSES: tuple[str, ...] = (
    "NEW",
    "CONTACTED",
    "QUALIFIED",
    "PROPOSAL_SENT",
    "NEGOTIATION",
    "CONVERTED",
    "LOST",
)

ACTIVITY_KINDS: tuple[str, ...] = ("NOTE", "EMAIL", "TASK", "CALL", "MEETING")

# Core fields that the default mappings send to Salesforce accept no more than the
# Salesforce field holds, so over-long data is refused here (422) rather than failing
# at sync time (Object Reference: Email 80, URL fields 255; Referral_Source_Note__c is
# a 1,000-character text area).
_EMAIL_NOTE = "Fits Salesforce's Email field."
_URL_NOTE = "Fits a Salesforce URL field."
_NOTE_NOTE = "Fits Referral_Source_Note__c."

_ENTITY_TYPES: tuple[EntityType, ...] = (
    EntityType(
        name="member",
        plural="members",
        label="Member",
        description="A person with a membership (seed 000 contacts, seed 001 members/targets).",
        fields=(
            _f("first_name", max_length=40, required=True),
            _f("last_name", max_length=80, required=True),
            _f("email", T.EMAIL, max_length=80, description=_EMAIL_NOTE),
            _f("email_opt_in", T.BOOLEAN, default=False, description="May be e-mailed."),
            _f("phone", T.PHONE),
            _f("phone_opt_in", T.BOOLEAN, default=False, description="May be called/texted."),
            _f("mobile_phone", T.PHONE),
            _f("title", max_length=128),
            _f("company", description="Company name; maps to Account.Name (seed 000)."),
            _ref("organization_id", "organization", description="The member's organization."),
            _picklist(
                "membership_status",
                ("PENDING", "ACTIVE", "EXPIRING", "EXPIRED", "INACTIVE", "CANCELLED"),
                default="ACTIVE",
            ),
            _f("member_since", T.DATE),
            _f("birthdate", T.DATE),
            *_address(),
            FieldSpec(
                name="tags",
                type=T.MULTI_PICKLIST,
                values=MEMBER_TAGS,
                description="Tags from the fixed seed 000 catalog.",
            ),
            _f("external_id", max_length=255, description="The host application's own id."),
        ),
    ),
    EntityType(
        name="organization",
        plural="organizations",
        label="Organization",
        description="A company or organisational unit; hierarchical through parent_id.",
        fields=(
            _f("name", required=True),
            _ref("parent_id", "organization", description="Parent organization (hierarchy)."),
            _f("phone", T.PHONE),
            _f("website", T.URL, max_length=255, description=_URL_NOTE),
            _f("description", T.TEXT),
            _f("industry", max_length=40),
            _ref("owner_id", "platform_user"),
            *_address("billing_"),
            *_address("shipping_"),
            _f("external_id", max_length=255),
        ),
    ),
    EntityType(
        name="lead",
        plural="leads",
        label="Lead",
        description="A sales lead (seed 004 lead fields).",
        fields=(
            _f("first_name", max_length=40),
            _f("last_name", max_length=80, required=True),
            _f("email", T.EMAIL, max_length=80, description=_EMAIL_NOTE),
            _f("phone", T.PHONE),
            _f("mobile_phone", T.PHONE),
            _f("company"),
            *_address(),
            _f("score", T.INTEGER, description="Lead score (seed 004: Lead_Score__c)."),
            _picklist("status", LEAD_STATUSES, required=True, default="NEW"),
            _f("source", max_length=40, description="Lead source (seed 004: LeadSource)."),
            _f("insurance_type", max_length=100),
            _ref("owner_id", "platform_user"),
            _ref("team_id", "team", description="Routing team (seed 004 assignment)."),
            _f("converted_at", T.DATETIME),
        ),
    ),
    EntityType(
        name="program",
        plural="programs",
        label="Referral program",
        description="A referral program (seed 003); referrals belong to one.",
        fields=(
            _f("name", required=True),
            _f("description", T.TEXT),
            _picklist(
                "referral_target",
                ("LEAD", "CONTACT"),
                default="LEAD",
                description="Referrals of this program become Salesforce Leads or Contacts.",
            ),
            _f("is_active", T.BOOLEAN, default=True),
        ),
    ),
    EntityType(
        name="referral",
        plural="referrals",
        label="Referral",
        description="A person referred by a member within a program (seed 003).",
        fields=(
            _ref("program_id", "program", required=True),
            _ref("referring_member_id", "member"),
            _f("first_name", max_length=40),
            _f("last_name", max_length=80, required=True),
            _f("email", T.EMAIL, max_length=80, description=_EMAIL_NOTE),
            _f("phone", T.PHONE),
            _f("company"),
            _picklist("status", ("PENDING", "QUALIFIED", "APPROVED", "DENIED"), default="PENDING"),
            _f("referral_code", max_length=100),
            _f("referral_source", max_length=255),
            _f("source_note", T.TEXT, max_length=1000, description=_NOTE_NOTE),
            _f("member_url", T.URL, max_length=255, description=_URL_NOTE),
            _f("referral_url", T.URL, max_length=255, description=_URL_NOTE),
            _f("external_id", max_length=255),
        ),
    ),
    EntityType(
        name="opportunity",
        plural="opportunities",
        label="Opportunity",
        description="A sales opportunity (seed 002 default properties).",
        fields=(
            _f("name", max_length=120, required=True),
            _f("stage", max_length=255, required=True, description="Stage name (R-G2)."),
            _picklist("status", ("OPEN", "WON", "LOST"), default="OPEN"),
            _f("amount", T.DECIMAL),
            _f("probability", T.INTEGER, description="Percent, 0-100."),
            _f("close_date", T.DATE),
            _f("next_step", max_length=255),
            _ref("organization_id", "organization"),
            _ref("member_id", "member", description="Primary contact."),
            _ref("owner_id", "platform_user"),
            _f("win_loss_reason", max_length=255),
            _f("sales_process", max_length=255, description="Record type (R-G3)."),
            _ref("lead_id", "lead", description="The lead this came from, when converted."),
        ),
    ),
    EntityType(
        name="activity",
        plural="activities",
        label="Activity",
        description="A note, e-mail, task, call or meeting about a record.",
        fields=(
            _picklist("kind", ACTIVITY_KINDS, required=True),
            _f("subject", required=True),
            _f("body", T.TEXT),
            _picklist("status", ("OPEN", "COMPLETED"), default="OPEN"),
            _f("due_date", T.DATE),
            _f("occurred_at", T.DATETIME),
            _ref("member_id", "member"),
            _ref("lead_id", "lead"),
            _ref("organization_id", "organization"),
            _ref("opportunity_id", "opportunity"),
            _ref("support_ticket_id", "support_ticket"),
            _ref("owner_id", "platform_user"),
        ),
    ),
    EntityType(
        name="campaign",
        plural="campaigns",
        label="Campaign (effort)",
        description="A campaign, called an effort in seed 001.",
        fields=(
            _f("name", max_length=80, required=True),
            _picklist(
                "status", ("PLANNED", "IN_PROGRESS", "COMPLETED", "ABORTED"), default="PLANNED"
            ),
            _f("type", max_length=40),
            _f("description", T.TEXT),
            _f("start_date", T.DATE),
            _f("end_date", T.DATE),
            _f("is_active", T.BOOLEAN, default=True),
        ),
    ),
    EntityType(
        name="goal",
        plural="goals",
        label="Goal",
        description="A member's goal within a campaign (a CampaignMember, seed 001).",
        fields=(
            _ref("campaign_id", "campaign", required=True),
            _ref("member_id", "member"),
            _ref("lead_id", "lead"),
            _f("status", max_length=40, description="Member status in the campaign."),
            _f("completed", T.BOOLEAN, default=False),
            _f("completed_at", T.DATETIME),
            FieldSpec(
                name="sub_goals",
                type=T.FLAGS,
                description='Named sub-goals, e.g. {"voted": true, "contacted": false}.',
            ),
        ),
    ),
    EntityType(
        name="event_registration",
        plural="event-registrations",
        label="Event registration",
        fields=(
            _ref("member_id", "member", required=True),
            _f("event_name", required=True),
            _f("event_id", max_length=255),
            _f("event_starts_at", T.DATETIME),
            _picklist(
                "status", ("REGISTERED", "ATTENDED", "NO_SHOW"), required=True, default="REGISTERED"
            ),
        ),
    ),
    EntityType(
        name="course_enrollment",
        plural="course-enrollments",
        label="Course enrollment",
        fields=(
            _ref("member_id", "member", required=True),
            _f("course_name", required=True),
            _f("course_id", max_length=255),
            _picklist("status", ("ENROLLED", "COMPLETED"), required=True, default="ENROLLED"),
            _f("enrolled_at", T.DATETIME),
            _f("completed_at", T.DATETIME),
        ),
    ),
    EntityType(
        name="support_ticket",
        plural="support-tickets",
        label="Support ticket",
        description="A support ticket; its activity is logged to the Contact (R-F5).",
        fields=(
            _f("ticket_number", max_length=40, required=True),
            _f("subject", required=True),
            _f("description", T.TEXT),
            _picklist("status", ("OPEN", "PENDING", "RESOLVED", "CLOSED"), default="OPEN"),
            _picklist("priority", ("LOW", "NORMAL", "HIGH", "URGENT"), default="NORMAL"),
            _ref("member_id", "member"),
            _f("url", T.URL, description="Link back to the ticket in the platform."),
            _f("opened_at", T.DATETIME),
            _f("closed_at", T.DATETIME),
        ),
    ),
    EntityType(
        name="platform_user",
        plural="platform-users",
        label="Platform user",
        description="A salesperson/owner in the host platform (seed 002 users).",
        fields=(
            _f("email", T.EMAIL, required=True),
            _f("first_name", max_length=40),
            _f("last_name", max_length=80, required=True),
            _f("title", max_length=80),
            _f("is_active", T.BOOLEAN, default=True),
            _ref("team_id", "team"),
        ),
    ),
    EntityType(
        name="team",
        plural="teams",
        label="Team",
        description="A routing team (seed 004 lead assignment).",
        fields=(
            _f("name", required=True),
            _f("description", T.TEXT),
            _f("is_active", T.BOOLEAN, default=True),
        ),
    ),
)

#: All entity types by name.
ENTITY_TYPES: Mapping[str, EntityType] = MappingProxyType({e.name: e for e in _ENTITY_TYPES})


def get_entity_type(name: str) -> EntityType:
    """The entity type called ``name``.

    Raises:
        KeyError: no such entity type.
    """
    return ENTITY_TYPES[name]


def entity_type_by_plural(plural: str) -> EntityType | None:
    """The entity type whose REST collection is ``plural``, if any."""
    for entity in _ENTITY_TYPES:
        if entity.plural == plural:
            return entity
    return None
