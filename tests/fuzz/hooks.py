"""Schemathesis hooks for the live fuzz run (loaded through SCHEMATHESIS_HOOKS): real bearer tokens, and
positive data acceptance that knows the rules the document states in words.

The tokens come from FUZZ_TOKENS (JSON: user, admin, username, password). Admin routes get the
admin's token; `DELETE /token` gets a fresh token of its own each time (the call revokes it).
"""
from __future__ import annotations

import json
import os
import urllib.request

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from core.openapi import RULE_CODES, RULE_FIELDS

_TOKENS = json.loads(os.environ.get("FUZZ_TOKENS", "{}"))
_BASE = os.environ.get("FUZZ_BASE_URL", "")


def _fresh_token() -> str:
    body = json.dumps({"grant_type": "password", "username": _TOKENS["username"],
                       "password": _TOKENS["password"]}).encode()
    request = urllib.request.Request(f"{_BASE}/api/v1/token", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["access_token"]


@schemathesis.auth(refresh_interval=None, retry_on=[])
class Bearer:
    """The caller's token for each operation, as a real client would hold it."""

    def get(self, case, _context) -> str:
        if case.operation.method.upper() == "DELETE" and case.operation.path.endswith("/token"):
            return _fresh_token()
        return _TOKENS["admin" if "/admin/" in case.operation.path else "user"]

    def set(self, case, token: str, _context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


@schemathesis.hook
def before_call(context, case, kwargs) -> None:  # noqa: ARG001 - the hook spec names them
    """An admin action on a user never targets the fuzzer's own accounts (a ban would revoke the
    tokens every later call carries): it goes to a bystander instead."""
    params = case.path_parameters or {}
    if "/admin/users/" in case.operation.path and params.get("user_id") in _TOKENS.get("protected", []):
        params["user_id"] = _TOKENS["bystander"]


@schemathesis.check
def positive_data_acceptance_within_rules(ctx, response, case):
    """Schemathesis' positive_data_acceptance, except a refusal the operation documents as a rule.

    Some rules cannot be said in JSON Schema (min_price <= max_price, a cursor this server made,
    an upload URL that exists, not yourself, seq <= last_seq). The document lists them per operation,
    and on the response they come back with, `x-rule-codes` and `x-rule-fields`; a schema-valid request
    refused with one of those codes, naming only those fields, is the server keeping its documented
    word. Any other refusal of schema-valid data still fails, exactly as the built-in check fails it.
    """
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if not _documented_refusal(case, response):
            raise
    return None


def _documented_refusal(case, response) -> bool:
    documented = case.operation.definition.raw.get("responses", {}).get(str(response.status_code), {})
    codes = documented.get(RULE_CODES)
    if not codes:
        return False
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    fields = set((error.get("details") or {}).get("fields") or {})
    return error.get("code") in codes and fields <= set(documented.get(RULE_FIELDS, []))
