"""The pieces a profile is made of: reply paths, request templates, statuses, reading a reply."""
from __future__ import annotations

import pytest

from chaos.target import load_profile
from chaos.target.paths import MISSING, parse
from chaos.target.reply import read
from chaos.target.request import build
from chaos.target.statuses import Statuses, parse_entry
from chaos.target.templates import OMIT, placeholders, render, render_path
from tests.target_service import PROFILE as SERVICE_PROFILE

pytestmark = pytest.mark.unit
BODY = {"data": {"id": 7, "items": [{"id": 1, "m": "2026-01"}, {"id": 2}, "odd"]}, "token": "t"}


@pytest.mark.parametrize("path, found", [
    ("token", "t"), ("data.id", 7), ("data.items[0].m", "2026-01"), ("data.items[*].id", [1, 2]),
    ("data.items[9]", MISSING), ("data.nothing", MISSING), ("token.deeper", MISSING), ("$", BODY),
])
def test_reply_paths_find_or_miss(path: str, found: object) -> None:
    assert parse(path).find(BODY) == found


def test_a_list_body_and_a_header() -> None:
    assert parse("[*]").find([{"a": 1}, {"a": 2}]) == [{"a": 1}, {"a": 2}]
    assert parse("header:Idempotent-Replayed").find({}, {"idempotent-replayed": "true"}) == "true"


@pytest.mark.parametrize("bad", ["", "a..b", "a.", "[x]", "a[1", "header:", "header:two words", 7])
def test_bad_reply_paths_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="a path is"):
        parse(bad)


def test_a_whole_placeholder_keeps_its_type_and_a_missing_one_drops_its_entry() -> None:
    template = {"quantity": "{quantity}", "label": "order of {quantity}", "period": "{period}", "fixed": True,
                "list": ["{quantity}", "{period}"]}
    assert render(template, {"quantity": 2, "period": None}) == {"quantity": 2, "label": "order of 2",
                                                                 "fixed": True, "list": [2]}
    assert render("{period}", {}) is OMIT
    assert render("{{literal}} {q}", {"q": 1}) == "{literal} 1"


def test_path_values_are_quoted_and_required() -> None:
    assert render_path("/tasks/{task_id}", {"task_id": "a/b c"}) == "/tasks/a%2Fb%20c"
    with pytest.raises(ValueError, match="needs user_id"):
        render_path("/users/{user_id}", {})
    with pytest.raises(ValueError, match="bare parameter name"):
        placeholders("{user.id}")


@pytest.mark.parametrize("entry, parsed", [(409, (409, 409)), ("4xx", (400, 499)), ("500-503", (500, 503)),
                                           ("201", (201, 201))])
def test_status_entries(entry: object, parsed: tuple[int, int]) -> None:
    assert parse_entry(entry) == parsed


@pytest.mark.parametrize("bad", ["6xx", "503-500", 99, True, "2XX0", None])
def test_bad_status_entries(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_entry(bad)


def test_operation_statuses_come_before_the_profiles_and_classify_decides_the_rest() -> None:
    statuses = Statuses(ok=((200, 299),), fail=((400, 499),))
    assert [statuses.outcome(s) for s in (204, 409, 503)] == ["ok", "fail", None]
    profile = load_profile(SERVICE_PROFILE)
    assert profile.outcome("generate_invoice", 409) == "fail"
    assert profile.outcome("generate_invoice", 302) == "info"   # no list names it: classify, a write
    assert profile.outcome("list_invoices", 500) == "fail"      # info on a read is fail


def test_a_request_carries_the_token_and_the_idempotency_key_in_the_profiles_headers() -> None:
    profile = load_profile(SERVICE_PROFILE)
    request = build(profile, "activate", {"subscription_id": 3, "key": "k-1"}, token="jwt-1")
    assert (request.method, request.path, request.json) == ("POST", "/v2/orders/3/pay", {"method": "card"})
    assert request.headers == {"X-Session": "jwt-1", "X-Request-Id": "k-1"}
    assert build(profile, "generate_invoice", {"user_id": 3}).json == {}  # no period: the target's default


def test_reading_a_reply_normalises_names_and_keeps_other_fields() -> None:
    profile = load_profile(SERVICE_PROFILE)
    body = {"bills": [{"bill_no": 4, "customer": 3, "month": "2026-01", "total": "9.99", "pdf": "x.pdf"}]}
    reply = read(profile, "list_invoices", 200, {"X-Served-By": "svc-2"}, body)
    assert reply.values == {"invoices": [{"invoice_id": 4, "user_id": 3, "period": "2026-01", "amount": "9.99",
                                          "pdf": "x.pdf"}]}
    assert (reply.outcome, reply.instance, reply.error) == ("ok", "svc-2", None)
    refused = read(profile, "generate_invoice", 409, {}, {"problem": "already_billed"})
    assert (refused.outcome, refused.error, dict(refused.values)) == ("fail", "invoice_exists", {})
    other = read(profile, "generate_invoice", 400, {}, {"problem": "bad_month"})
    assert other.error == "bad_month"  # codes error_codes does not name stay the target's
    with pytest.raises(KeyError, match="has no value 'invoice_id'"):
        refused["invoice_id"]


def test_billing_replay_flag_comes_from_its_header() -> None:
    profile = load_profile("billing")
    body = {"subscription_id": 3, "status": "active", "invoice_id": 9, "amount": "9.99"}
    replayed = read(profile, "activate", 200, {"Idempotent-Replayed": "true", "X-Instance": "api_2"}, body)
    fresh = read(profile, "activate", 200, {"X-Instance": "api_1"}, body)
    assert (replayed["replayed"], fresh["replayed"], replayed.instance) == (True, False, "api_2")
    login = read(profile, "login", 200, {}, {"access_token": "abc", "token_type": "bearer", "user_id": 1})
    assert login.values == {"user_id": 1, "token": "abc"}
