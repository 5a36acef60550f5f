"""Shared by every test folder (the plugin's makereport hook keeps each phase's report on the item)."""
