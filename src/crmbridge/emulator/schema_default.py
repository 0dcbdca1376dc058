"""The default schema: the standard objects the seed guides use plus their custom fields.

Standard fields, lengths and picklist values follow the Object Reference for the
Salesforce Platform; custom fields (``__c``) are the ones the seed guides name
(MemberPulse membership status and tags, Movement include/exclude flags, the
insurance lead platform's score and type, Referral Rock's referral fields) and the
``Platform_Id__c`` external id crmbridge upserts by.
"""

from __future__ import annotations

from dataclasses import replace

from crmbridge.emulator.schema import FieldDef, RecordTypeDef, Schema, SObjectDef
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

#: The default opportunity stages of a new org: (name, probability, forecast category,
#: closed, won). Object Reference, "OpportunityStage".
DEFAULT_STAGES: tuple[tuple[str, int, str, bool, bool], ...] = (
    ("Prospecting", 10, "Pipeline", False, False),
    ("Qualification", 10, "Pipeline", False, False),
    ("Needs Analysis", 20, "Pipeline", False, False),
    ("Value Proposition", 50, "Pipeline", False, False),
    ("Id. Decision Makers", 60, "Pipeline", False, False),
    ("Perception Analysis", 70, "Pipeline", False, False),
    ("Proposal/Price Quote", 75, "Pipeline", False, False),
    ("Negotiation/Review", 90, "Pipeline", False, False),
    ("Closed Won", 100, "Closed", True, True),
    ("Closed Lost", 0, "Omitted", True, False),
)

#: Lead statuses: Salesforce's standard ones plus the seed 004 status-mapping table.
LEAD_STATUSES = (
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
)

#: Seed 000's tag catalog (membership, events, courses), for Contact.Member_Tags__c.
MEMBER_TAGS = (
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
)

MEMBERSHIP_STATUSES = ("Active", "Expiring", "Expired", "Inactive", "Pending", "Cancelled")
INSURANCE_TYPES = ("Auto", "Home", "Life", "Health", "Renters", "Business", "Umbrella", "Pet")
LEAD_SOURCES = (
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Purchased List",
    "Referral",
    "Event",
    "Advertisement",
    "Other",
)
INDUSTRIES = (
    "Agriculture",
    "Banking",
    "Education",
    "Finance",
    "Government",
    "Healthcare",
    "Insurance",
    "Manufacturing",
    "Media",
    "Not For Profit",
    "Retail",
    "Technology",
    "Other",
)
RATINGS = ("Hot", "Warm", "Cold")
SALUTATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")


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


def _opportunity() -> SObjectDef:
    stage_names = tuple(stage[0] for stage in DEFAULT_STAGES)
    return sobject(
        "Opportunity",
        "006",
        (
            reference("AccountId", "Account", "Account", child="Opportunities", cascade=True),
            reference("RecordTypeId", "RecordType", "RecordType", label="Record Type ID"),
            boolean("IsPrivate", label="Private"),
            text("Name", 120, label="Name", nillable=False, name_field=True),
            textarea("Description", 32000),
            picklist("StageName", stage_names, restricted=True, nillable=False, label="Stage"),
            number("Amount", "currency", 18, 2),
            number(
                "Probability", "percent", 3, 0, label="Probability (%)", defaulted_on_create=True
            ),
            date("CloseDate", nillable=False, label="Close Date"),
            picklist(
                "Type",
                (
                    "Existing Customer - Upgrade",
                    "Existing Customer - Replacement",
                    "Existing Customer - Downgrade",
                    "New Customer",
                ),
                label="Opportunity Type",
            ),
            text("NextStep", 255, label="Next Step"),
            picklist("LeadSource", LEAD_SOURCES),
            read_only(boolean("IsClosed", label="Closed")),
            read_only(boolean("IsWon", label="Won")),
            picklist(
                "ForecastCategoryName",
                ("Omitted", "Pipeline", "Best Case", "Commit", "Closed"),
                restricted=True,
                label="Forecast Category",
                defaulted_on_create=True,
            ),
            reference("CampaignId", "Campaign", "Campaign", child="Opportunities"),
            platform_id(),
        ),
        label_plural="Opportunities",
        record_types=(
            RecordTypeDef(developer_name="New_Business", name="New Business", default=True),
            RecordTypeDef(developer_name="Renewal", name="Renewal"),
        ),
    )


def _opportunity_stage() -> SObjectDef:
    return replace(
        sobject(
            "OpportunityStage",
            "01J",
            (
                text("MasterLabel", 255, nillable=False, name_field=True, label="Master Label"),
                text("ApiName", 255, nillable=False, label="Api Name"),
                boolean("IsActive", True, label="Active"),
                integer("SortOrder", 9, label="Sort Order"),
                boolean("IsClosed", label="Closed"),
                boolean("IsWon", label="Won"),
                picklist(
                    "ForecastCategory",
                    ("Omitted", "Pipeline", "BestCase", "Forecast", "Closed"),
                    label="Forecast Type",
                ),
                text("ForecastCategoryName", 40, label="Forecast Category"),
                number("DefaultProbability", "percent", 3, 0, label="Probability (%)"),
                textarea("Description", 255),
            ),
            owner=False,
            label="Opportunity Stage",
        ),
        createable=False,
        updateable=False,
        deletable=False,
        replicateable=False,
    )


def _record_type() -> SObjectDef:
    return replace(
        sobject(
            "RecordType",
            "012",
            (
                text("Name", 80, nillable=False, name_field=True, label="Record Type Label"),
                text("DeveloperName", 80, nillable=False, label="Record Type Name"),
                text("NamespacePrefix", 15),
                textarea("Description", 255),
                text("BusinessProcessId", 18, label="Business Process ID"),
                text("SobjectType", 40, nillable=False),
                boolean("IsActive", label="Active"),
            ),
            owner=False,
            label="Record Type",
        ),
        createable=False,
        updateable=False,
        deletable=False,
    )


def _campaign() -> SObjectDef:
    return sobject(
        "Campaign",
        "701",
        (
            text("Name", 80, nillable=False, name_field=True, label="Campaign Name"),
            reference(
                "ParentId", "Campaign", "Parent", child="ChildCampaigns", label="Parent Campaign ID"
            ),
            picklist(
                "Type",
                (
                    "Conference",
                    "Webinar",
                    "Trade Show",
                    "Public Relations",
                    "Partners",
                    "Referral Program",
                    "Advertisement",
                    "Banner Ads",
                    "Direct Mail",
                    "Email",
                    "Telemarketing",
                    "Other",
                ),
            ),
            picklist("Status", ("Planned", "In Progress", "Completed", "Aborted")),
            date("StartDate"),
            date("EndDate"),
            number("ExpectedRevenue", "currency", 18, 0, label="Expected Revenue in Campaign"),
            number("BudgetedCost", "currency", 18, 0, label="Budgeted Cost in Campaign"),
            number("ActualCost", "currency", 18, 0, label="Actual Cost in Campaign"),
            number("ExpectedResponse", "percent", 10, 2, label="Expected Response (%)"),
            number("NumberSent", "double", 18, 0, label="Num Sent in Campaign"),
            boolean("IsActive", label="Active"),
            textarea("Description", 32000),
            boolean("Movement_Include__c", label="Movement Include"),
            platform_id(),
        ),
    )


def _campaign_member() -> SObjectDef:
    return sobject(
        "CampaignMember",
        "00v",
        (
            reference(
                "CampaignId",
                "Campaign",
                "Campaign",
                child="CampaignMembers",
                cascade=True,
                nillable=False,
                updateable=False,
            ),
            reference(
                "LeadId", "Lead", "Lead", child="CampaignMembers", cascade=True, updateable=False
            ),
            reference(
                "ContactId",
                "Contact",
                "Contact",
                child="CampaignMembers",
                cascade=True,
                updateable=False,
            ),
            picklist("Status", ("Planned", "Sent", "Received", "Responded"), default="Sent"),
            read_only(boolean("HasResponded", label="Responded")),
            date("FirstRespondedDate", label="First Responded Date"),
            boolean("Voted__c", label="Voted"),
            boolean("Contacted__c", label="Contacted"),
            platform_id(),
        ),
        owner=False,
        label="Campaign Member",
    )


_WHO = ("Contact", "Lead")
_WHAT = ("Account", "Opportunity", "Campaign")


def _task() -> SObjectDef:
    return sobject(
        "Task",
        "00T",
        (
            reference("WhoId", _WHO, "Who", child="Tasks", cascade=True, label="Name ID"),
            reference("WhatId", _WHAT, "What", child="Tasks", cascade=True, label="Related To ID"),
            typed_text(
                "Subject",
                "combobox",
                255,
                picklist_values=("Call", "Send Letter", "Send Quote", "Other"),
            ),
            date("ActivityDate", label="Due Date Only"),
            picklist(
                "Status",
                ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"),
                restricted=True,
                default="Not Started",
                nillable=False,
            ),
            picklist("Priority", ("High", "Normal", "Low"), default="Normal", nillable=False),
            picklist("Type", ("Call", "Email", "Meeting", "Other")),
            picklist(
                "TaskSubtype", ("Task", "Email", "Call"), default="Task", label="Task Subtype"
            ),
            textarea("Description", 32000, label="Comments"),
            read_only(boolean("IsClosed", label="Closed")),
            read_only(datetime_("CompletedDateTime", label="Completed Date/Time")),
            integer("CallDurationInSeconds", 8, label="Call Duration"),
            platform_id(),
        ),
    )


def _event() -> SObjectDef:
    return sobject(
        "Event",
        "00U",
        (
            reference("WhoId", _WHO, "Who", child="Events", cascade=True, label="Name ID"),
            reference("WhatId", _WHAT, "What", child="Events", cascade=True, label="Related To ID"),
            typed_text(
                "Subject",
                "combobox",
                255,
                picklist_values=("Call", "Email", "Meeting", "Send Letter/Quote", "Other"),
            ),
            text("Location", 255),
            boolean("IsAllDayEvent", label="All-Day Event"),
            datetime_("ActivityDateTime", label="Due Date Time", defaulted_on_create=True),
            read_only(date("ActivityDate", label="Due Date Only")),
            integer("DurationInMinutes", 8, label="Duration", defaulted_on_create=True),
            datetime_("StartDateTime", label="Start Date Time", defaulted_on_create=True),
            datetime_("EndDateTime", label="End Date Time", defaulted_on_create=True),
            textarea("Description", 32000),
            picklist("Type", ("Call", "Email", "Meeting", "Other")),
            picklist(
                "ShowAs", ("Busy", "OutOfOffice", "Free"), default="Busy", label="Show Time As"
            ),
            platform_id(),
        ),
    )


def _note() -> SObjectDef:
    return sobject(
        "Note",
        "002",
        (
            reference(
                "ParentId",
                ("Account", "Contact", "Lead", "Opportunity", "Campaign"),
                "Parent",
                child="Notes",
                cascade=True,
                nillable=False,
                updateable=False,
            ),
            text("Title", 255, nillable=False, name_field=True),
            boolean("IsPrivate", label="Private"),
            textarea("Body", 32000),
        ),
        replicateable=True,
    )


def _email_message() -> SObjectDef:
    return sobject(
        "EmailMessage",
        "02s",
        (
            reference("ActivityId", "Task", "Activity", label="Activity ID"),
            reference(
                "RelatedToId",
                _WHAT + _WHO,
                "RelatedTo",
                child="Emails",
                cascade=True,
                label="Related To ID",
            ),
            text("Subject", 3000, name_field=True),
            textarea("TextBody", 131072, label="Text Body"),
            textarea("HtmlBody", 131072, label="HTML Body"),
            textarea("Headers", 32000),
            text("FromName", 1000, label="From Name"),
            email("FromAddress", label="From Address"),
            text("ToAddress", 4000, label="To Address"),
            text("CcAddress", 4000, label="CC Address"),
            text("BccAddress", 4000, label="BCC Address"),
            boolean("Incoming", label="Is Incoming"),
            picklist(
                "Status",
                ("0", "1", "2", "3", "4", "5"),
                restricted=True,
                default="3",
                label="Status",
            ),
            datetime_("MessageDate", label="Message Date"),
            platform_id(),
        ),
        owner=False,
        label="Email Message",
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
            _opportunity(),
            _opportunity_stage(),
            _record_type(),
            _campaign(),
            _campaign_member(),
            _task(),
            _event(),
            _note(),
            _email_message(),
        ]
    )
