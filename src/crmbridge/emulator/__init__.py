"""crmbridge.emulator."""
