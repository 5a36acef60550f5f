"""Hunts: generated workloads under generated fault schedules, judged by every checker, shrunk when they fail."""
