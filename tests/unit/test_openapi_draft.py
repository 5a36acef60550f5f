"""`chaos target init --from-openapi` drafts a profile the suite accepts, from any service's document.

The two documents in the repository are the proof: billing's (billing/openapi.json)
drafts billing's shipped profile, and the test service's (tests/target_service/openapi.json),
where every name differs, drafts its hand-written profile. The pure parts
(words, names, references, matching) are tested on small documents of their own.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from chaos.cli_target import target
from chaos.target import openapi
from chaos.target.model import TargetProfile
from chaos.target.operations import NAMES
from chaos.target.profile import load_profile, parse_profile

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
BILLING_DOC = ROOT / "billing/openapi.json"
SERVICE_DOC = ROOT / "tests/target_service/openapi.json"
SERVED_AT = "http://127.0.0.1:8000/openapi.json"  # as `chaos target init --from-openapi <running instance>` fetches it


def drafted(source: Path, **options: Any) -> tuple[openapi.Draft, TargetProfile]:
    doc = openapi.load_document(str(source))
    result = openapi.draft(doc, "draft", **options)
    return result, parse_profile(openapi.render(result, str(source)))


# billing's document drafts billing's profile

def test_billings_draft_is_accepted_and_lacks_nothing() -> None:
    result, profile = drafted(BILLING_DOC, instance_url=SERVED_AT, admin=("admin@billing.test", "admin-password"))
    assert profile.lacks == frozenset() and result.notes == []
    assert result.unused == ["GET /openapi.json (openapi)"]


def test_billings_draft_calls_what_the_shipped_profile_calls() -> None:
    _, profile = drafted(BILLING_DOC, instance_url=SERVED_AT, admin=("admin@billing.test", "admin-password"))
    shipped = load_profile("billing")
    assert set(profile.operations) == set(shipped.operations)
    for name, ours in shipped.operations.items():
        theirs = profile.operations[name]
        assert (theirs.method, theirs.path) == (ours.method, ours.path), name
        assert set(theirs.query) == set(ours.query), name
        if name != "create_slot":  # the shipped profile also sends a name, which billing ignores
            assert set(theirs.body or {}) == set(ours.body or {}), name
        assert set(ours.extract) <= set(theirs.extract), name
        for value, extract in ours.extract.items():
            assert theirs.extract[value].path == extract.path, (name, value)
    assert (profile.auth, profile.idempotency_header, profile.instance_header, profile.error_code) == \
        (shipped.auth, shipped.idempotency_header, shipped.instance_header, shipped.error_code)
    assert profile.identities == shipped.identities and profile.outages == shipped.outages


def test_without_admin_credentials_the_only_thing_to_add_by_hand_is_the_admin() -> None:
    result, profile = drafted(BILLING_DOC, instance_url=SERVED_AT)
    assert [note.split(":")[0] for note in result.notes] == ["admin.login"]
    assert profile.admin is not None  # a placeholder the loader accepts; `chaos target check` needs the real one


# the test service's document drafts its hand-written profile

def test_the_test_services_draft_equals_its_hand_written_profile() -> None:
    result, profile = drafted(SERVICE_DOC, admin=("root", "root-secret"))
    written = load_profile(ROOT / "tests/target_service/profile.yaml")
    assert result.notes == []
    assert set(profile.operations) == set(written.operations) and profile.lacks == written.lacks
    for name, ours in written.operations.items():
        theirs = profile.operations[name]
        assert (theirs.method, theirs.path, theirs.body, dict(theirs.extract)) == \
            (ours.method, ours.path, ours.body, dict(ours.extract)), name
    for key in ("auth", "idempotency_header", "instance_header", "error_code", "error_codes", "admin", "run"):
        assert getattr(profile, key) == getattr(written, key), key
    assert profile.identity("invoice") == written.identity("invoice")


def test_every_lacked_operation_says_what_was_looked_for() -> None:
    result, _ = drafted(SERVICE_DOC)
    assert set(result.lacks) == NAMES - set(result.profile["operations"])
    assert "a test hook" in result.lacks["slow_invoice"] and "booking" in result.lacks["book_slot"]


# the pure parts

def test_words_are_singular_and_split_on_case_and_punctuation() -> None:
    assert openapi.words("/api/tariff_plans/{plan_id}", "listTariffPlans") == {"api", "tariff", "plan", "list"}
    assert openapi.words("/v2/categories", "status") == {"v2", "category", "status"}


@pytest.mark.parametrize("ours, theirs, primary, expected", [
    ("password", ["login", "secret"], False, "secret"),
    ("plan_id", ["tariff_plan_id", "payment_method"], False, "tariff_plan_id"),
    ("invoice_id", ["id", "total"], True, "id"),
    ("invoice_id", ["id", "total"], False, None),
    ("email", ["Email"], False, "Email"),
])
def test_a_target_field_is_found_by_name_synonym_suffix_or_primary_id(ours: str, theirs: list[str], primary: bool,
                                                                      expected: str | None) -> None:
    assert openapi.best_name(ours, theirs, primary) == expected


def test_references_resolve_and_siblings_narrow_the_referenced_properties() -> None:
    doc = {"components": {"schemas": {
        "Error": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
        "Base": {"properties": {"id": {"type": "integer"}}}}}}
    narrowed = openapi.resolve(doc, {"$ref": "#/components/schemas/Error",
                                     "properties": {"code": {"enum": ["already_billed"]}}})
    assert narrowed["properties"] == {"code": {"type": "string", "enum": ["already_billed"]},
                                      "message": {"type": "string"}}
    merged = openapi.resolve(doc, {"allOf": [{"$ref": "#/components/schemas/Base"},
                                             {"properties": {"total": {"type": "string"}}}]})
    assert set(merged["properties"]) == {"id", "total"}
    with pytest.raises(openapi.DocumentError, match="leads nowhere"):
        openapi.resolve(doc, {"$ref": "#/components/schemas/Missing"})


def small_document(**paths: Any) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": "Acme Billing"}, "paths": paths}


def reply(schema: dict[str, Any], status: str = "200") -> dict[str, Any]:
    return {status: {"description": "ok", "content": {"application/json": {"schema": schema}}}}


def test_a_service_of_other_names_is_matched_by_method_path_and_fields() -> None:
    charge = {"type": "object", "properties": {"id": {"type": "string"}, "customer_id": {"type": "string"},
                                               "billing_month": {"type": "string"}, "total": {"type": "string"}}}
    doc = small_document(**{
        "/status": {"get": {"responses": reply({"type": "object", "properties": {"healthy": {"type": "boolean"}}})}},
        "/customers/{cid}/charges": {
            "get": {"responses": reply({"type": "object", "properties": {"data": {"type": "array", "items": charge}}})},
            "post": {"requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "properties": {"billing_month": {"type": "string"}}}}}},
                "responses": reply(charge, "201")}}})
    result = openapi.draft(doc, openapi.profile_name(doc))
    profile = parse_profile(openapi.render(result, "acme.json"))
    assert profile.name == "acme-billing"
    invoice = profile.operations["generate_invoice"]
    assert (invoice.path, invoice.body) == ("/customers/{user_id}/charges", {"billing_month": "{period}"})
    assert {k: v.path.text for k, v in invoice.extract.items()} == {
        "invoice_id": "id", "user_id": "customer_id", "period": "billing_month", "amount": "total"}
    listed = profile.operations["list_invoices"].extract["invoices"]
    assert listed.path.text == "data[*]" and listed.fields["period"].text == "billing_month"
    assert profile.operations["health"].extract["status"].path.text == "healthy"
    assert profile.instance_from_url  # no header names the instance


@pytest.mark.parametrize("text, message", [
    ('{"swagger": "2.0", "paths": {}}', "OpenAPI 3.x document is needed, this one says swagger 2.0"),
    ("[1, 2]", "top level is not a mapping"),
    ('{"openapi": "3.1.0", "paths": {}}', "has no paths"),
    ("{: nope", "neither JSON nor YAML"),
])
def test_a_document_that_is_not_openapi_3_is_one_sentence(text: str, message: str) -> None:
    with pytest.raises(openapi.DocumentError, match=message):
        openapi.parse_document(text, "doc.json")


# the command

def test_init_writes_a_draft_the_suite_accepts(tmp_path: Path) -> None:
    out = tmp_path / "svc.yaml"
    result = CliRunner().invoke(target, ["init", "--from-openapi", str(SERVICE_DOC), "--out", str(out),
                                         "--admin-email", "root", "--admin-password", "root-secret"])
    assert result.exit_code == 0, result.output
    assert load_profile(out).name == "test-service"
    again = CliRunner().invoke(target, ["init", "--from-openapi", str(SERVICE_DOC), "--out", str(out)])
    assert again.exit_code != 0 and "exists" in again.output


@pytest.mark.parametrize("content", [None, '{"swagger": "2.0"}'])
def test_init_on_a_bad_document_is_one_line_and_a_non_zero_exit(tmp_path: Path, content: str | None) -> None:
    source = tmp_path / "doc.json"
    if content is not None:
        source.write_text(content)
    result = CliRunner().invoke(target, ["init", "--from-openapi", str(source)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ") and "Traceback" not in result.output


def test_init_without_a_health_route_writes_the_draft_and_says_what_to_add(tmp_path: Path) -> None:
    source, out = tmp_path / "doc.json", tmp_path / "draft.yaml"
    source.write_text(json.dumps(small_document(**{"/things": {"get": {"responses": reply({"type": "object"})}}})))
    result = CliRunner().invoke(target, ["init", "--from-openapi", str(source), "--out", str(out)])
    assert result.exit_code == 1 and out.is_file()
    assert "needs by hand" in result.output and "operations.health" in result.output
