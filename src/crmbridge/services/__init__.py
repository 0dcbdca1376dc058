"""Use cases over the store: tenants, users, API keys, custom fields and records.

Services validate, decide and call repositories; they never commit. The caller (an
HTTP request, a CLI command, a worker task) owns the transaction.
"""
