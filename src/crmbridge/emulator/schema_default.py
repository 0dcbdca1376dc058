"""The default schema: the standard objects the seed guides use plus their custom fields.

Standard fields, lengths and picklist values follow the Object Reference for the
Salesforce Platform; custom fields (``__c``) are the ones the seed guides name
(MemberPulse membership status and tags, Movement include/exclude flags, the
insurance lead platform's score and type, Referral Rock's referral fields) and the
``Platform_Id__c`` external id crmbridge upserts by.
"""

from __future__ import annotations

from crmbridge.emulator import schema_default_sales as sales
from crmbridge.emulator.schema import FieldDef, Schema, SObjectDef
from crmbridge.emulator.schema_fields import (
    address,
    boolean,
    date,
    datetime_,
    email,
    formula,
    integer,
    number,
    phone,
    picklist,
    platform_id,
    read_only,
    reference,
    sobject,
    text,
    textarea,
    typed_text,
    url,
)
from crmbridge.emulator.schema_picklists import (
    DEFAULT_STAGES,
    INDUSTRIES,
    INSURANCE_TYPES,
    LEAD_SOURCES,
    LEAD_STATUSES,
    MEMBER_TAGS,
    MEMBERSHIP_STATUSES,
    RATINGS,
    SALUTATIONS,
)

__all__ = [
    "DEFAULT_STAGES",
    "INDUSTRIES",
    "INSURANCE_TYPES",
    "LEAD_SOURCES",
    "LEAD_STATUSES",
    "MEMBERSHIP_STATUSES",
    "MEMBER_TAGS",
    "RATINGS",
    "SALUTATIONS",
    "build_default_schema",
]


def _full_name(length: int = 121) -> FieldDef:
    """The read-only ``Name`` of people (Contact, Lead, User), kept from first + last name."""
    return read_only(text("Name", length, label="Full Name", name_field=True, nillable=False))


def _referral_fields() -> tuple[FieldDef, ...]:
    """Referral Rock's fields on Lead and Contact (seed 003 "Referral Add to Salesforce")."""
    return (
        text("Referral_ID__c", 64, label="Referral ID"),
        text("Referral_Source__c", 255),
        textarea("Referral_Source_Note__c", 1000),
        url("Member_URL__c", label="Member URL"),
        url("Referral_URL__c", label="Referral URL"),
        text("Referring_Member_Name__c", 255),
        email("Referring_Member_Email__c"),
        text("Referring_Member_External_ID__c", 255, label="Referring Member External ID"),
        phone("Referring_Member_Phone__c"),
        text("Referring_Member_Referral_Code__c", 64),
    )


def _user() -> SObjectDef:
    return sobject(
        "User",
        "005",
        (
            text("Username", 80, nillable=False, unique=True),
            text("LastName", 80, nillable=False),
            text("FirstName", 40),
            _full_name(),
            text("Alias", 8, nillable=False),
            email("Email", nillable=False),
            boolean("IsActive", True, label="Active"),
            text("Title", 80),
            text("Department", 80),
            text("CompanyName", 80),
            phone("Phone"),
            phone("MobilePhone", label="Mobile"),
            *address("", label=""),
            reference("ManagerId", "User", "Manager"),
            picklist(
                "TimeZoneSidKey",
                ("America/Los_Angeles", "America/New_York", "Europe/London", "GMT"),
                default="America/Los_Angeles",
                label="Time Zone",
                nillable=False,
            ),
            picklist("LocaleSidKey", ("en_US", "en_GB"), default="en_US", label="Locale"),
            picklist(
                "LanguageLocaleKey", ("en_US",), default="en_US", label="Language", nillable=False
            ),
            picklist("EmailEncodingKey", ("UTF-8", "ISO-8859-1"), default="UTF-8"),
            read_only(picklist("UserType", ("Standard", "AutomatedProcess"), default="Standard")),
            read_only(datetime_("LastLoginDate")),
        ),
        owner=False,
        deletable=False,
        full_name_parts=("FirstName", "LastName"),
    )


def _organization() -> SObjectDef:
    return sobject(
        "Organization",
        "00D",
        (
            text("Name", 80, nillable=False, name_field=True),
            text("Division", 80),
            *address("", label=""),
            phone("Phone"),
            text("OrganizationType", 40, label="Edition"),
            text("InstanceName", 5),
            boolean("IsSandbox"),
            text("DefaultLocaleSidKey", 40, label="Locale"),
            text("LanguageLocaleKey", 40, label="Language"),
            text("TimeZoneSidKey", 40, label="Time Zone"),
            text("NamespacePrefix", 15),
        ),
        owner=False,
        createable=False,
        updateable=False,
        deletable=False,
        replicateable=False,
    )


def _account() -> SObjectDef:
    return sobject(
        "Account",
        "001",
        (
            text("Name", 255, label="Account Name", nillable=False, name_field=True),
            picklist(
                "Type",
                (
                    "Prospect",
                    "Customer - Direct",
                    "Customer - Channel",
                    "Channel Partner / Reseller",
                    "Installation Partner",
                    "Technology Partner",
                    "Other",
                ),
                label="Account Type",
            ),
            reference(
                "ParentId", "Account", "Parent", child="ChildAccounts", label="Parent Account ID"
            ),
            *address("Billing", label="Billing"),
            *address("Shipping", label="Shipping"),
            phone("Phone", label="Account Phone"),
            phone("Fax", label="Account Fax"),
            text("AccountNumber", 40),
            url("Website"),
            text("Site", 80, label="Account Site"),
            picklist("Industry", INDUSTRIES),
            number("AnnualRevenue", "currency", 18, 0),
            integer("NumberOfEmployees", 8, label="Employees"),
            picklist("Rating", RATINGS, label="Account Rating"),
            picklist("AccountSource", LEAD_SOURCES),
            textarea("Description", 32000, label="Account Description"),
            platform_id(),
        ),
        label_plural="Accounts",
    )


def _contact() -> SObjectDef:
    return sobject(
        "Contact",
        "003",
        (
            reference("AccountId", "Account", "Account", child="Contacts", cascade=True),
            text("LastName", 80, nillable=False),
            text("FirstName", 40),
            picklist("Salutation", SALUTATIONS),
            _full_name(),
            *address("Other", label="Other"),
            *address("Mailing", label="Mailing"),
            phone("Phone", label="Business Phone"),
            phone("Fax", label="Business Fax"),
            phone("MobilePhone", label="Mobile Phone"),
            phone("HomePhone", label="Home Phone"),
            phone("OtherPhone", label="Other Phone"),
            reference("ReportsToId", "Contact", "ReportsTo", label="Reports To ID"),
            email("Email"),
            text("Title", 128),
            text("Department", 80),
            picklist("LeadSource", LEAD_SOURCES),
            date("Birthdate"),
            textarea("Description", 32000, label="Contact Description"),
            boolean("HasOptedOutOfEmail", label="Email Opt Out"),
            boolean("HasOptedOutOfFax", label="Fax Opt Out"),
            boolean("DoNotCall"),
            picklist("Membership_Status__c", MEMBERSHIP_STATUSES, label="Membership Status"),
            boolean("Movement_Exclude__c", label="Movement Exclude"),
            picklist("Member_Tags__c", MEMBER_TAGS, multi=True, label="Member Tags"),
            *_referral_fields(),
            formula("Account_Name__c", "Account.Name", label="Account Name"),
            typed_text(
                "Member_SSN__c",
                "encryptedstring",
                175,
                label="Member SSN",
                encrypted=True,
                filterable=False,
                sortable=False,
                groupable=False,
            ),
            platform_id(),
        ),
        full_name_parts=("FirstName", "LastName"),
    )


def _lead() -> SObjectDef:
    return sobject(
        "Lead",
        "00Q",
        (
            text("LastName", 80, nillable=False),
            text("FirstName", 40),
            picklist("Salutation", SALUTATIONS),
            _full_name(),
            text("Title", 128),
            text("Company", 255, nillable=False),
            *address("", label=""),
            phone("Phone"),
            phone("MobilePhone", label="Mobile Phone"),
            phone("Fax"),
            email("Email"),
            url("Website"),
            textarea("Description", 32000),
            picklist("LeadSource", LEAD_SOURCES),
            picklist(
                "Status",
                LEAD_STATUSES,
                restricted=True,
                default="Open - Not Contacted",
                nillable=False,
                label="Lead Status",
            ),
            picklist("Industry", INDUSTRIES),
            picklist("Rating", RATINGS),
            number("AnnualRevenue", "currency", 18, 0),
            integer("NumberOfEmployees", 8, label="Employees"),
            boolean("HasOptedOutOfEmail", label="Email Opt Out"),
            boolean("DoNotCall"),
            read_only(boolean("IsConverted", label="Converted")),
            read_only(date("ConvertedDate")),
            read_only(reference("ConvertedAccountId", "Account", "ConvertedAccount")),
            read_only(reference("ConvertedContactId", "Contact", "ConvertedContact")),
            read_only(reference("ConvertedOpportunityId", "Opportunity", "ConvertedOpportunity")),
            boolean("IsUnreadByOwner", label="Unread By Owner"),
            number("Lead_Score__c", "double", 18, 0, label="Lead Score"),
            picklist("Insurance_Type__c", INSURANCE_TYPES, label="Insurance Type"),
            picklist("Membership_Status__c", MEMBERSHIP_STATUSES, label="Membership Status"),
            *_referral_fields(),
            platform_id(),
        ),
        full_name_parts=("FirstName", "LastName"),
    )


def build_default_schema() -> Schema:
    """The default org schema (a fresh object graph on each call; it is immutable anyway)."""
    return Schema(
        [
            _user(),
            _organization(),
            _account(),
            _contact(),
            _lead(),
            sales.opportunity(),
            sales.opportunity_stage(),
            sales.record_type(),
            sales.campaign(),
            sales.campaign_member(),
            sales.task(),
            sales.event(),
            sales.note(),
            sales.email_message(),
        ]
    )
