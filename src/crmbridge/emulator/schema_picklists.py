"""Picklist values of the default schema (Salesforce's standard values plus the seed
guides' values), shared by the schema and the seed generator."""

from __future__ import annotations

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
