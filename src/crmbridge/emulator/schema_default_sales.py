"""The default schema's sales and activity objects: Opportunity, OpportunityStage,
RecordType, Campaign, CampaignMember, Task, Event, Note and EmailMessage
(Object Reference for the Salesforce Platform)."""

from __future__ import annotations

from dataclasses import replace

from crmbridge.emulator.schema import RecordTypeDef, SObjectDef
from crmbridge.emulator.schema_fields import (
    boolean,
    date,
    datetime_,
    email,
    integer,
    number,
    picklist,
    platform_id,
    read_only,
    reference,
    sobject,
    text,
    textarea,
    typed_text,
)
from crmbridge.emulator.schema_picklists import DEFAULT_STAGES, LEAD_SOURCES


def opportunity() -> SObjectDef:
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


def opportunity_stage() -> SObjectDef:
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


def record_type() -> SObjectDef:
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


def campaign() -> SObjectDef:
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


def campaign_member() -> SObjectDef:
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


def task() -> SObjectDef:
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


def event() -> SObjectDef:
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


def note() -> SObjectDef:
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


def email_message() -> SObjectDef:
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
