"""crmbridge."""
