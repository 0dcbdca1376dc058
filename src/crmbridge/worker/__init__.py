"""The in-process scheduler and worker loop (R-O1, R-O4).

- :mod:`crmbridge.worker.schedule`: when a tenant's next scheduled run is due.
"""
