"""A second target service, built only for the tests (``app``), its profile (``profile.yaml``) and a
helper that serves instances of it in threads (``serve``)."""
from pathlib import Path

PROFILE = Path(__file__).with_name("profile.yaml")
