"""Schema-driven fuzzing of the whole API (core and every mounted module) as a demo user:
whatever the input, no endpoint answers 5xx. Bounded so the run stays short."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from mufakat.core.accounts.auth import issue_token
from mufakat.core.tenancy.demo import load_demo


@pytest.fixture
def api_token(db: None) -> str:
    load_demo()
    from django.contrib.auth import get_user_model

    # sg-admin holds organisation and platform admin: it reaches every endpoint, audit included.
    _tok, raw = issue_token(get_user_model().objects.get(username="sg-admin"), "fuzz")
    return raw


@pytest.fixture
def wsgi_keeps_test_connection() -> Iterator[None]:
    """Requests through the real WSGI app would close the test's database connection at the end
    of each request; Django's own test client suspends that the same way."""
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in signals:
            signal.connect(close_old_connections)


# Operations are walked by hand: schemathesis' pytest loader does not run under pytest 9 yet.
# Negative cases (bodies and parameters that break the schema: wrong types, out-of-range
# numbers, missing fields) must be refused with a 4xx just as surely as valid ones succeed.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(
    api_token: str, wsgi_keeps_test_connection: None, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
    headers = {"Authorization": f"Bearer {api_token}"}
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=8,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])

        run()
        checked.append(operation.label)
    assert any("/api/sharedapp/dossiers" in label for label in checked)
    assert any("/api/core/audit" in label for label in checked)
