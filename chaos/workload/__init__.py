"""Clients that drive the target contract and record what happened."""
