"""A local Salesforce org over HTTPS for tests, demos and benchmarks (docs/emulator.md).

Start one with ``crmbridge emulator`` or :class:`crmbridge.emulator.server.EmulatorServer`;
the pytest plugin in :mod:`crmbridge.testing` provides the ``emulator`` fixture.
"""
