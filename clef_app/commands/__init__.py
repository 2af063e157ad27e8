"""Headless subcommands that span layers (transcribe, export)."""
