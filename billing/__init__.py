"""billing: the reference service the chaos suite proves things about.

The Flask app serves the target contract of docs/architecture.md; Celery runs the async
invoice path. Every protection named there lives in one module, and
:mod:`billing.unsafe` names the realistic ways to turn each one off.
"""
