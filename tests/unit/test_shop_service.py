"""The shop test service (tests/shop_service): unsafe exactly where it says, safe everywhere else, and its
correct variant safe everywhere. Two real instances per variant sharing one SQLite file, driven by plain
HTTP from threads released together by a barrier (no test hooks, no Flask test client)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from chaos.target import load_profile
from tests.shop_service import PROFILE, ROOT, instances, reset_command
from tests.shop_service.app import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD_POLICY

pytestmark = pytest.mark.unit
PASSWORD = "Shop-Test-Passw0rd"
TRIES = 5        # a race is a race: the unsafe ones must show within this many tries
PARALLEL = 10
EXISTS = "An invoice for this subscription already exists."
IN_PROGRESS = "A request with this idempotency key is still in progress."
MISMATCH = "Idempotency key was already used with a different request."
ALREADY_ACTIVE = "This subscription is already active."


@pytest.fixture(scope="module")
def default_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """The default variant; the login limit raised (the rate limit has its own test and instances)."""
    with instances(tmp_path_factory.mktemp("shop") / "default.db", login_limit="100000/10") as urls:
        yield urls


@pytest.fixture(scope="module")
def correct_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    with instances(tmp_path_factory.mktemp("shop") / "correct.db", variant="correct",
                   login_limit="100000/10") as urls:
        yield urls


# helpers


def together(count: int, call: Callable[[int], requests.Response]) -> list[requests.Response]:
    """``call(i)`` for i < count, each in its own thread, all released at once by a barrier."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call(i)
        except BaseException as exc:  # noqa: BLE001 - shown by the assert below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    errors = [r for r in results if not isinstance(r, requests.Response)]
    assert not errors, errors
    return results


def email() -> str:
    return f"shopper-{uuid.uuid4().hex[:12]}@shop.test"


def signup(url: str, address: str | None = None) -> tuple[str, str]:
    """A new customer: (user id, token)."""
    address = address or email()
    made = requests.post(f"{url}/auth/signup", json={"email": address, "password": PASSWORD, "full_name": "S"},
                         timeout=10)
    assert made.status_code == 201, made.text
    token = login(url, address, PASSWORD)
    for known in (token, made.json()["token"]):  # signing up logs in too
        assert made.json()["id"] == requests.get(f"{url}/me", headers=auth(known), timeout=10).json()["id"]
    return made.json()["id"], token


def login(url: str, address: str, password: str) -> str:
    answer = requests.post(f"{url}/auth/token", json={"email": address, "password": password}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def auth(token: str, key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Token {token}", **({"Idempotency-Key": key} if key else {})}


def admin(url: str) -> dict[str, str]:
    return auth(login(url, ADMIN_EMAIL, ADMIN_PASSWORD))


def checkout(url: str, token: str) -> str:
    plan = requests.get(f"{url}/catalog/plans", timeout=10).json()["results"][0]["uuid"]
    made = requests.post(f"{url}/checkout", json={"plan": plan}, headers=auth(token), timeout=10)
    assert made.status_code == 201 and made.json()["subscription"]["state"] == "pending", made.text
    return made.json()["subscription"]["uuid"]


def customer(url: str) -> tuple[str, str, str]:
    """(user id, token, a pending subscription)."""
    user_id, token = signup(url)
    return user_id, token, checkout(url, token)


def pay(url: str, token: str, subscription: str, key: str | None, method: str = "card") -> requests.Response:
    return requests.post(f"{url}/subscriptions/{subscription}/pay", json={"method": method},
                         headers=auth(token, key), timeout=20)


def generate(url: str, headers: dict[str, str], user_id: str) -> requests.Response:
    return requests.post(f"{url}/admin/customers/{user_id}/invoices", headers=headers, timeout=20)


def invoices(url: str, headers: dict[str, str], user_id: str) -> list[dict[str, Any]]:
    read = requests.get(f"{url}/admin/customers/{user_id}/invoices", headers=headers, timeout=10)
    assert read.status_code == 200, read.text
    return read.json()["data"]


def statuses(answers: list[requests.Response]) -> Counter[int]:
    return Counter(a.status_code for a in answers)


# the default variant: unsafe where it says


def test_default_parallel_pays_with_one_key_each_invoice(default_shop: list[str]) -> None:
    headers = admin(default_shop[0])
    made = []
    for _ in range(TRIES):
        user_id, token, subscription = customer(default_shop[0])
        answers = together(PARALLEL, lambda i: pay(default_shop[i % 2], token, subscription, "one-key"))
        assert statuses(answers) == {201: PARALLEL}, [a.text for a in answers]
        made.append(len(invoices(default_shop[1], headers, user_id)))
        if made[-1] > 1:
            break
    assert made[-1] > 1, f"one key's parallel pays made {made} invoices: the race did not show in {TRIES} tries"
    assert {a.json()["invoice"]["uuid"] for a in answers} == {i["uuid"] for i in invoices(default_shop[0], headers,
                                                                                             user_id)}


def test_default_key_reused_with_another_method_pays_again(default_shop: list[str]) -> None:
    first_url, second_url = default_shop
    user_id, token, subscription = customer(first_url)
    first = pay(first_url, token, subscription, "key-1", "card")
    replay = pay(second_url, token, subscription, "key-1", "card")
    assert first.status_code == replay.status_code == 201 and replay.json() == first.json()  # a replay is safe
    reused = pay(second_url, token, subscription, "key-1", "paypal")
    assert reused.status_code == 201, reused.text  # accepted...
    assert reused.json()["invoice"]["uuid"] != first.json()["invoice"]["uuid"]  # ...and executed again
    assert len(invoices(first_url, admin(first_url), user_id)) == 2


def test_default_pay_with_a_fresh_key_on_an_active_subscription_invoices_again(default_shop: list[str]) -> None:
    url = default_shop[0]
    user_id, token, subscription = customer(url)
    assert pay(url, token, subscription, "first").status_code == 201
    again = pay(url, token, subscription, "second")
    assert again.status_code == 201 and again.json()["state"] == "active"
    assert len(invoices(url, admin(url), user_id)) == 2


def test_default_parallel_admin_invoices_duplicate(default_shop: list[str]) -> None:
    headers = admin(default_shop[0])
    made = []
    for _ in range(TRIES):
        user_id, _, _ = customer(default_shop[0])
        answers = together(PARALLEL, lambda i: generate(default_shop[i % 2], headers, user_id))
        made.append(statuses(answers)[201])
        final = invoices(default_shop[0], headers, user_id)
        assert len(final) == made[-1]
        assert all(a.json() == {"detail": EXISTS} for a in answers if a.status_code == 409)
        if made[-1] > 1:
            break
    assert made[-1] > 1, f"parallel admin invoices made {made}: the race did not show in {TRIES} tries"
    assert len({i["subscription"] for i in final}) == 1 and all("period" not in i for i in final)


def test_default_sequential_admin_invoice_is_refused_with_a_sentence(default_shop: list[str]) -> None:
    url = default_shop[0]
    headers = admin(url)
    user_id, _, subscription = customer(url)
    first = generate(url, headers, user_id)
    assert first.status_code == 201, first.text
    assert set(first.json()) == {"uuid", "subscription", "customer", "amount_cents", "created"}
    assert first.json()["subscription"] == subscription and first.json()["customer"] == user_id
    second = generate(default_shop[1], headers, user_id)
    assert second.status_code == 409 and second.json() == {"detail": EXISTS}


def test_default_registration_is_safe_under_parallel_signups(default_shop: list[str]) -> None:
    address = email()
    answers = together(20, lambda i: requests.post(f"{default_shop[i % 2]}/auth/signup",
                                                   json={"email": address, "password": PASSWORD}, timeout=10))
    assert statuses(answers) == {201: 1, 409: 19}
    assert {a.json()["detail"] for a in answers if a.status_code == 409} == {"Email already registered."}
    made = next(a for a in answers if a.status_code == 201).json()
    uuid.UUID(made["id"])  # ids are UUID strings
    assert made["email"] == address and set(made) == {"id", "email", "token"}


@pytest.mark.parametrize("password", ["Short1A", "alllowercase1", "NoDigitsHereAtAll", "Abcdefgh1"])
def test_the_password_policy_is_a_400_sentence(default_shop: list[str], password: str) -> None:
    answer = requests.post(f"{default_shop[0]}/auth/signup", json={"email": email(), "password": password},
                           timeout=10)
    assert answer.status_code == 400 and answer.json() == {"detail": PASSWORD_POLICY}


def test_bad_input_is_a_4xx_sentence_never_a_500(default_shop: list[str]) -> None:
    url = default_shop[0]
    _, token, subscription = customer(url)
    headers = admin(url)
    calls = [
        ("POST", "/auth/signup", {"data": "{not json"}),
        ("POST", "/auth/signup", {"json": [1, 2]}),
        ("POST", "/auth/signup", {"json": {"email": 7, "password": PASSWORD}}),
        ("POST", "/auth/signup", {"json": {"email": "no-at-sign", "password": PASSWORD}}),
        ("POST", "/auth/token", {"json": {}}),
        ("POST", "/auth/token", {"json": {"email": "nobody@shop.test", "password": "Wrong-Passw0rd"}}),
        ("GET", "/me", {}),
        ("GET", "/me", {"headers": {"Authorization": "Bearer x"}}),
        ("GET", "/me", {"headers": {"Authorization": "Token nope"}}),
        ("POST", "/checkout", {"json": {}, "headers": auth(token)}),
        ("POST", "/checkout", {"json": {"plan": 1}, "headers": auth(token)}),
        ("POST", "/checkout", {"json": {"plan": str(uuid.uuid4())}, "headers": auth(token)}),
        ("POST", "/subscriptions/not-a-uuid/pay", {"json": {"method": "card"}, "headers": auth(token)}),
        ("POST", f"/subscriptions/{subscription}/pay", {"json": {}, "headers": auth(token)}),
        ("POST", f"/subscriptions/{subscription}/pay", {"json": {"method": "Card!"}, "headers": auth(token)}),
        ("POST", f"/subscriptions/{subscription}/pay", {"json": {"method": "card"},
                                                        "headers": auth(token, "k" * 256)}),
        ("POST", f"/admin/customers/{uuid.uuid4()}/invoices", {"headers": headers}),
        ("POST", f"/admin/customers/{signup(url)[0]}/invoices", {"headers": headers}),
        ("POST", "/admin/customers/x/invoices", {"headers": auth(token)}),
        ("GET", f"/admin/customers/{uuid.uuid4()}/invoices", {"headers": headers}),
        ("GET", "/no/such/route", {}),
        ("DELETE", "/health", {}),
    ]
    for method, path, extra in calls:
        answer = requests.request(method, url + path, timeout=10, **extra)
        assert 400 <= answer.status_code < 500, (method, path, answer.status_code, answer.text)
        detail = answer.json()["detail"]
        assert set(answer.json()) == {"detail"} and detail.endswith(".") and detail[0].isupper(), (path, detail)


def test_no_header_names_the_instance(default_shop: list[str]) -> None:
    for url in default_shop:
        answer = requests.get(f"{url}/health", timeout=10)
        assert answer.json() == {"ok": True}
        assert not any("shop-" in value for value in answer.headers.values()), answer.headers


def test_the_login_rate_limit_is_shared_by_instances_and_reset_by_command(tmp_path: Path) -> None:
    db = tmp_path / "limited.db"
    with instances(db) as urls:  # the default limit: 30 logins per 10 s per IP
        address = email()
        assert requests.post(f"{urls[0]}/auth/signup", json={"email": address, "password": PASSWORD},
                             timeout=10).status_code == 201
        answers = [requests.post(f"{urls[i % 2]}/auth/token", json={"email": address, "password": PASSWORD},
                                 timeout=10) for i in range(31)]
        assert statuses(answers) == {200: 30, 429: 1}
        assert answers[-1].json() == {"detail": "Too many requests, slow down."}
        assert answers[-1].headers["Retry-After"] == "10"
        reset = subprocess.run(reset_command(db), cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert reset.returncode == 0, reset.stderr
        assert login(urls[1], address, PASSWORD)
        via_env = subprocess.run([sys.executable, "-m", "tests.shop_service.app", "--reset-rate-limits"], cwd=ROOT,
                                 env={**os.environ, "SHOP_DB": str(db)}, capture_output=True, text=True, timeout=30)
        assert via_env.returncode == 0 and "cleared 1 login attempts" in via_env.stdout, via_env
    missing = subprocess.run(reset_command(tmp_path / "absent.db"), cwd=ROOT, capture_output=True, text=True,
                             timeout=30)
    assert missing.returncode != 0 and not (tmp_path / "absent.db").exists()


# the correct variant: safe everywhere


def test_correct_parallel_pays_with_one_key_invoice_once_and_replay_the_first_answer(correct_shop: list[str]) -> None:
    user_id, token, subscription = customer(correct_shop[0])
    answers = together(PARALLEL, lambda i: pay(correct_shop[i % 2], token, subscription, "one-key"))
    counts = statuses(answers)
    assert set(counts) <= {201, 409} and counts[201] >= 1, [a.text for a in answers]
    assert all(a.json() == {"detail": IN_PROGRESS} for a in answers if a.status_code == 409)
    retries = [pay(correct_shop[i % 2], token, subscription, "one-key") for i in range(4)]
    bodies = {repr(a.json()) for a in answers + retries if a.status_code == 201}
    assert len(bodies) == 1 and all(r.status_code == 201 for r in retries), bodies  # the first outcome, again
    final = invoices(correct_shop[1], admin(correct_shop[1]), user_id)
    assert [i["uuid"] for i in final] == [retries[0].json()["invoice"]["uuid"]]


def test_correct_key_reused_with_another_method_is_refused(correct_shop: list[str]) -> None:
    first_url, second_url = correct_shop
    user_id, token, subscription = customer(first_url)
    assert pay(first_url, token, subscription, "key-1", "card").status_code == 201
    reused = pay(second_url, token, subscription, "key-1", "paypal")
    assert reused.status_code == 422 and reused.json() == {"detail": MISMATCH}
    assert len(invoices(first_url, admin(first_url), user_id)) == 1


def test_correct_pay_of_an_active_subscription_is_refused_and_that_outcome_replays(correct_shop: list[str]) -> None:
    url = correct_shop[0]
    user_id, token, subscription = customer(url)
    assert pay(url, token, subscription, "first").status_code == 201
    again = pay(url, token, subscription, "second")
    assert again.status_code == 409 and again.json() == {"detail": ALREADY_ACTIVE}
    replay = pay(correct_shop[1], token, subscription, "second")
    assert replay.status_code == 409 and replay.json() == again.json()
    assert pay(url, token, subscription, None).status_code == 409  # no key: still once
    assert len(invoices(url, admin(url), user_id)) == 1


def test_correct_parallel_admin_invoices_make_one(correct_shop: list[str]) -> None:
    headers = admin(correct_shop[0])
    user_id, token, subscription = customer(correct_shop[0])
    answers = together(PARALLEL, lambda i: generate(correct_shop[i % 2], headers, user_id))
    assert statuses(answers) == {201: 1, 409: PARALLEL - 1}, [a.text for a in answers]
    assert all(a.json() == {"detail": EXISTS} for a in answers if a.status_code == 409)
    (made,) = invoices(correct_shop[1], headers, user_id)
    paid = pay(correct_shop[1], token, subscription, "settle")  # paying settles the admin's invoice
    assert paid.status_code == 201 and paid.json()["invoice"]["uuid"] == made["uuid"]
    assert len(invoices(correct_shop[0], headers, user_id)) == 1


def test_correct_200_customers_one_invoice_each_without_an_error(correct_shop: list[str]) -> None:
    """The stress in small (the suite's is 1000): half paid, half invoiced by the admin, in parallel."""
    headers = admin(correct_shop[0])
    count, workers = 200, 25
    made: dict[int, tuple[str, requests.Response]] = {}

    def one(n: int) -> None:
        url = correct_shop[n % 2]
        user_id, token, subscription = customer(url)
        answer = pay(url, token, subscription, f"k-{n}") if n % 2 else generate(url, headers, user_id)
        made[n] = (user_id, answer)

    def worker(w: int) -> None:
        for n in range(w, count, workers):
            one(n)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(made) == count
    assert statuses([answer for _, answer in made.values()]) == {201: count}
    for n, (user_id, _) in made.items():
        assert len(invoices(correct_shop[n % 2], headers, user_id)) == 1, user_id


# the profile


def test_the_profile_loads_and_maps_every_sentence() -> None:
    profile = load_profile(PROFILE)
    assert profile.name == "shop-service" and profile.instance_from_url and profile.error_code is None
    assert profile.identity("invoice") == ("subscription_id",) and profile.identity("activation") is None
    assert profile.credentials.password_for(3) == "Chaos-3-Passw0rd"
    expected = {EXISTS: "invoice_exists", MISMATCH: "idempotency_mismatch", IN_PROGRESS: "idempotency_in_flight",
                "Too many requests, slow down.": "rate_limited", ALREADY_ACTIVE: "subscription_not_pending",
                "Email already registered.": "email_taken", "Invalid credentials.": "invalid_credentials",
                PASSWORD_POLICY: "weak_password", "Subscription not found.": "subscription_not_found",
                "Customer not found.": "user_not_found", "This customer has no subscription.": "no_subscription",
                "You do not have permission to perform this action.": "forbidden"}
    assert {sentence: profile.error_of(None, sentence) for sentence in expected} == expected
    for operation in ("generate_invoice", "list_invoices", "activate", "subscribe", "list_plans"):
        assert profile.offers(operation), operation
    assert {"bulk_users", "reset", "slow_invoice", "lock_events", "pool_metrics"} <= profile.lacks
    assert profile.reset_command is not None and "--reset-rate-limits" in profile.reset_command
