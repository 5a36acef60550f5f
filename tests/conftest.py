"""Shared by every test folder: nothing yet beyond making ``tests`` importable."""
