"""Run reports: stored history, results and schedule per scenario, rendered to HTML from those files."""
from chaos.report.writer import render, write_report

__all__ = ["render", "write_report"]
