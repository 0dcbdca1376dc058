"""crmbridge.store."""
