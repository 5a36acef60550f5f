"""Faults, seeded schedules of them, and the runner that records their windows in the history."""
