"""gunicorn entry point: ``gunicorn billing.wsgi:app``."""
import logging

from billing.app import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
app = create_app()
