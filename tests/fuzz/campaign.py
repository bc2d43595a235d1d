"""A schemathesis campaign against the app's own OpenAPI document, in process, with real tokens.

Every operation is fuzzed with schema-valid data (positive) and with data that breaks the schema
(negative). Checks: no 5xx, status codes, content types, headers and bodies as documented, and bad
input rejected. `positive_data_acceptance` is left out on purpose: several rules cannot be said in
JSON Schema (a sale's price above 0, min_price ≤ max_price, avatar URLs of our own uploads, opaque
cursors, a sniffed upload type), so schema-valid input may rightly get a 400/415.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import schemathesis
import schemathesis.specs.openapi.schemas  # noqa: F401  (imported here, at collection, not deep in a test)
from flask import Flask
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.factories import Factory
from tests.fuzz.world import World

SPEC = "/api/v1/openapi.json"
CONFIG = {
    # NUL characters are refused on purpose (no column stores them): 400, documented in API.md's input rules.
    "generation": {"allow-x00": False},
    "checks": {"positive_data_acceptance": {"enabled": False}},
}
MAX_FAILURES_KEPT = 3


@dataclass
class Report:
    """What a campaign did: calls per (operation, status) and the failures it found."""

    calls: Counter = field(default_factory=Counter)
    failures: dict[str, list[str]] = field(default_factory=dict)

    def add_failure(self, label: str, error: BaseException) -> None:
        kept = self.failures.setdefault(label, [])
        if len(kept) < MAX_FAILURES_KEPT:
            kept.append(str(error))

    def summary(self) -> str:
        lines = [f"{sum(self.calls.values())} calls, {len(self.failures)} operations failing"]
        for label, errors in self.failures.items():
            lines.append(f"== {label}")
            lines.extend(errors)
        return "\n".join(lines)


def run_campaign(app: Flask, world: World, *, max_examples: int, seed_value: int) -> Report:
    """Fuzz every operation in both generation modes; return what happened (failures collected, not raised)."""
    schema = schemathesis.openapi.from_wsgi(SPEC, app, config=schemathesis.Config.from_dict(CONFIG))
    factory = Factory(app.test_client())
    _authenticate(schema, world, factory)
    report = Report()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(operation, mode, world, factory, report, max_examples, seed_value)
    return report


def _token_for(label: str, world: World, factory: Factory) -> str:
    if label == "DELETE /api/v1/token":
        return factory.login(world.user.username).token  # a throwaway token: this call revokes it
    return world.admin.token if label.split(" ", 1)[1].startswith("/api/v1/admin") else world.user.token


def _authenticate(schema, world: World, factory: Factory) -> None:
    """Real bearer tokens through schemathesis' auth hook, so its own auth checks know them for valid."""
    @schema.auth(refresh_interval=None)
    class Bearer:
        def get(self, case, _context) -> str:
            return _token_for(case.operation.label, world, factory)

        def set(self, case, token: str, _context) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


def _fuzz_operation(operation, mode: GenerationMode, world: World, factory: Factory, report: Report,
                    max_examples: int, seed_value: int) -> None:
    label = operation.label

    @seed(seed_value)
    @settings(max_examples=max_examples, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def fuzz(case, data) -> None:
        # Three times in four, aim path ids at objects that exist, so the fuzzer gets past the 404.
        for name in case.path_parameters or {}:
            known = world.ids.get(name)
            if known and mode is GenerationMode.POSITIVE and data.draw(st.integers(0, 3)):
                case.path_parameters[name] = data.draw(st.sampled_from(known))
        try:
            response = case.call_and_validate()
        except BaseException as error:  # schemathesis raises a FailureGroup (a BaseExceptionGroup)
            if not isinstance(error, Exception | BaseExceptionGroup):
                raise
            report.add_failure(f"{label} [{mode.value}]", error)
            return
        report.calls[(label, response.status_code)] += 1

    try:
        fuzz()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        # Nothing to break: an operation with no parameters or body has no invalid input.
