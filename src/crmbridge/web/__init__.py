"""crmbridge.web."""
