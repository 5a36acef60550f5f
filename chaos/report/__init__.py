"""Run reports: stored history, results and schedule per scenario, rendered to HTML from those files.

``write_report`` stores a run and renders it; ``render`` renders a stored run
again (``python -m chaos.report reports/<run-id>``); ``chaos.report.recheck.recheck`` judges a
stored run again offline, with the checks and final reads each scenario stored.
"""
from chaos.report.model import RunRecord, ScenarioRecord
from chaos.report.writer import render, write_report

__all__ = ["RunRecord", "ScenarioRecord", "render", "write_report"]
