"""Schemathesis against the served app's own OpenAPI document (issue #11, item 9).

The dashboard is started as it runs in production (``python app.py``, waitress) on the tiny
county; every operation of ``/api/v1/openapi.json`` is called with generated requests, valid and
invalid, as a county principal and as a township principal. The checks: no 5xx, every status
code and content type documented, every JSON answer matching its documented schema, and a
request that breaks the schema refused (4xx). Bounded: :data:`MAX_EXAMPLES` requests per
operation and role, no shrinking, the same requests on every run (``WANGGE_FUZZ_RANDOM=1``
explores new ones, ``WANGGE_FUZZ_EXAMPLES`` sets the count), so the whole run takes about a
minute on 2 cores.
"""

from __future__ import annotations

import os
import sys

import pytest
from conftest import load_tiny_county, served_app

pytestmark = pytest.mark.slow

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from wangge.store import Store  # noqa: E402

#: Generated requests per operation and role (the CI budget: a few minutes in all).
MAX_EXAMPLES = int(os.environ.get("WANGGE_FUZZ_EXAMPLES", "30"))
#: The same requests on every run (CI is reproducible); WANGGE_FUZZ_RANDOM=1 explores new ones.
DERANDOMIZE = os.environ.get("WANGGE_FUZZ_RANDOM", "") != "1"

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = tmp_path_factory.mktemp("fuzz-data")
    store = Store(data / "wangge.sqlite")
    load_tiny_county(store)
    store.set_meta("county_code", "420999000000")  # a county is there: no demo set-up
    tokens = {
        "county": store.create_token("fuzz-county", "county"),
        "township": store.create_token("fuzz-township", "township", scope="420999001000"),
    }
    env = {
        **os.environ,
        "WANGGE_DATA_DIR": str(data),
        "WANGGE_DEMO_FEED": "0",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    with served_app(env, data / "server.log") as url:
        yield url, tokens


@pytest.fixture(scope="module")
def api_schema(served):
    url, _ = served
    return schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")


def _operations() -> list[tuple[str, str, str]]:
    """(path, method, mode) of every documented operation, from the document the server
    serves: valid requests for each, invalid ones for those that take parameters or a body."""
    from dashboard.openapi import document

    out = []
    for path, ops in document()["paths"].items():
        for method, op in ops.items():
            out.append((path, method, "positive"))
            if op.get("parameters") or op.get("requestBody"):
                out.append((path, method, "negative"))
    return out


@pytest.mark.parametrize(("path", "method", "mode"), _operations())
def test_the_api_keeps_its_contract(api_schema, served, path, method, mode):
    url, tokens = served
    operation = api_schema[path][method]
    strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode))

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=DERANDOMIZE,
    )
    def fuzz(case):
        for role in ("county", "township"):
            case.call_and_validate(
                base_url=url,
                headers={"Authorization": f"Bearer {tokens[role]}"},
                checks=CHECKS,
                timeout=30,
            )

    fuzz()
