"""crmbridge.domain."""
