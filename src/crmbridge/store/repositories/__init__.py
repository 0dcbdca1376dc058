"""Every database query of crmbridge lives in this package, one module per table group.

Repository functions take the caller's ``Session`` and never commit.
"""
