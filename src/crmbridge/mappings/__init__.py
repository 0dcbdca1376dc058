"""Mappings as a tenant keeps them: storage, versions, audit, describe cache, preview.

The use cases around the pure mapping domain (:mod:`crmbridge.domain.mapping`); the
web layer, the CLI and the sync engine call them. docs/mapping.md, "Storage, versions
and the API", describes them.
"""
