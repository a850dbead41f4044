"""Schemathesis over /openapi.json: no request, however malformed, gets a 5xx.

Cases are generated per operation from the published schema (bounded examples, fixed
randomness) and sent with the bearer token, so validation paths behind auth are fuzzed too.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from serving_helpers import AUTH

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MAX_EXAMPLES = 12


def test_no_server_errors(service: Any) -> None:
    schema = schemathesis.openapi.from_url(f"{service.url}/openapi.json")
    failures: list[str] = []
    n_calls = 0
    operations = [r.ok() for r in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 15
    for op in operations:

        @given(case=op.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            nonlocal n_calls
            response = case.call(headers=AUTH, timeout=30)
            n_calls += 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query} "
                    f"{str(case.body)[:200]} -> {response.status_code} "
                    f"{response.text[:200]}"
                )
            if case.method == "POST" and response.status_code == 202:
                # keep the worker free: a fuzzed job is cancelled as soon as it is accepted
                job_id = response.json()["job_id"]
                httpx.delete(f"{service.url}/v1/jobs/{job_id}", headers=AUTH, timeout=30)

        run()
    assert n_calls >= len(operations)
    assert not failures, "\n".join(failures[:20])
