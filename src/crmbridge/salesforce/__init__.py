"""crmbridge.salesforce."""
