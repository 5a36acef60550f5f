"""No input, schema-valid or not, gets a 5xx from a healthy billing, and every answer is as documented.

schemathesis generates requests from the document billing serves (its own
``GET /openapi.json``) against one real api instance of the stack, outside any
fault window: valid requests (positive) and requests that break the document
(negative: wrong types, missing fields, out-of-range numbers and ids, odd
headers). Each answer must be no server error, and its status, content type,
body and headers must be the document's. At least 2,000 cases run.

Two of billing's test hooks are narrowed for fuzzing only, so that a case
never waits minutes: ``hold_s``/``linger_s`` at most 0.05 s, bulk users at most
20. ``POST /api/admin/test/reset`` is left out: it clears every other test's
data in the shared stack.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from chaos.compose import ComposeStack

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")
from schemathesis.config import SchemathesisConfig  # noqa: E402

pytestmark = pytest.mark.docker
ADMIN = {"email": "admin@billing.test", "password": "admin-password"}
OPERATIONS = 23                # billing's 24 documented operations, less reset
CASES_PER_OPERATION = 100      # positive and negative together: up to 2,300 cases in all
MIN_CASES = 2_000
FUZZ_HOLD_S = 0.05
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance")
_cases: list[str] = []


def fuzzable(document: dict[str, Any]) -> dict[str, Any]:
    """The served document with the test hooks' waits and sizes narrowed, and reset left out."""
    doc = copy.deepcopy(document)
    del doc["paths"]["/api/admin/test/reset"]
    for item in doc["paths"].values():
        for op in item.values():
            for param in op.get("parameters", []):
                if param["name"] in ("hold_s", "linger_s"):
                    param["schema"]["maximum"] = FUZZ_HOLD_S
    bulk = doc["paths"]["/api/admin/test/users"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    bulk["properties"]["count"]["maximum"] = 20
    return doc


@pytest.fixture(scope="module")
def api_url(stack: ComposeStack) -> str:
    """One api instance, not the lb: the answers are billing's own."""
    return sorted(stack.api_urls().values())[0]


@pytest.fixture(scope="module")
def billing_schema(api_url: str) -> Any:
    served = requests.get(f"{api_url}/openapi.json", timeout=10)
    assert served.status_code == 200, served.text
    login = requests.post(f"{api_url}/api/auth/login", json=ADMIN, timeout=10)
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    checks: dict[str, Any] = {"enabled": False, **{name: {"enabled": True} for name in CHECKS}}
    config = SchemathesisConfig.from_dict({
        "base-url": api_url,
        "headers": {"Authorization": f"Bearer {token}"},  # the admin: every route's own answers, not only 401
        "generation": {"mode": "all", "max-examples": CASES_PER_OPERATION, "database": "none"},
        "checks": checks,
        "request-timeout": 30,
    })
    return schemathesis.openapi.from_dict(fuzzable(served.json()), config=config)


schema = schemathesis.pytest.from_fixture("billing_schema")


@pytest.fixture(scope="module")
def cases_run() -> Iterator[list[str]]:
    yield _cases


@schema.parametrize()
def test_no_input_gets_a_5xx_and_every_answer_is_documented(case: Any, cases_run: list[str]) -> None:
    cases_run.append(case.operation.label)   # the documented operation (a negative case may send another method)
    case.call_and_validate()


def test_at_least_two_thousand_cases_ran(cases_run: list[str]) -> None:
    """Runs after the fuzzing above (pytest keeps a module's order); alone, it has nothing to count."""
    if not cases_run:
        pytest.skip("the fuzz test did not run in this session (selected alone?)")
    assert len({label for label in cases_run}) == OPERATIONS
    assert len(cases_run) >= MIN_CASES, f"only {len(cases_run)} cases ran"
