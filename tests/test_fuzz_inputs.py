"""Bounded fuzzing of the input parsers (issue #11): whatever arrives, the answer is the data or a
ValidationError naming the field, never another exception. The HTTP API as a whole is fuzzed
by schemathesis in tests/test_fuzz_api.py."""

from __future__ import annotations

import pytest
from conftest import load_tiny_county, signed_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.validation import CAMERA, NEW_CASE, PATROL_POINT, TRANSITION, ValidationError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
FIELDS = sorted({*NEW_CASE.names, *TRANSITION.names, *CAMERA.names, *PATROL_POINT.names})
bodies = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), json_values, max_size=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies | json_values)
def test_records_answer_values_or_a_validation_error(body):
    for record in (NEW_CASE, TRANSITION, CAMERA, PATROL_POINT):
        try:
            values = record.validate(body)
        except ValidationError as exc:
            assert exc.errors and all(isinstance(v, str) for v in exc.errors.values())
        else:
            assert set(values) == set(record.names)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40) | st.from_regex(r"-?[0-9]{1,5}-[0-9]{2}-[0-9]{2}T.{0,12}"))
def test_any_text_as_a_time_is_a_stamp_in_range_or_a_clear_error(text):
    value, problem = NEW_CASE.field("reported_at").check(text)
    if problem is None:
        assert value >= "2000-01-01T00:00:00Z" and len(value) == 20
    else:
        assert problem.startswith("expected")


@pytest.fixture(scope="module")
def cases_app(tmp_path_factory):
    from dashboard.app import create_app
    from wangge.settings import Settings
    from wangge.store import Store

    settings_ = Settings(data_dir=tmp_path_factory.mktemp("fuzz-cases"))
    load_tiny_county(Store(settings_.db_path))
    return create_app(settings_)


@pytest.mark.parametrize(
    "request_",
    [
        None,
        "rows please",
        {"startRow": "abc", "endRow": None},
        {"startRow": -5, "endRow": -1},
        {"startRow": 10**30, "endRow": 10**31},
        {"startRow": 1.5, "endRow": [1]},
        {"sortModel": "reported_at"},
        {"sortModel": [{"colId": ["x"], "sort": "asc"}]},
        {"sortModel": [None]},
    ],
)
def test_a_malformed_case_list_row_request_answers_the_first_block(cases_app, request_):
    from dashboard.pages import cases

    start, end, order_by, descending = cases.row_request(request_)
    assert 0 <= start < end and order_by in cases.SORTABLE and isinstance(descending, bool)
    with signed_in(cases_app):
        block = cases.rows_for(request_, {"window": "all"}, "zh")
    assert block == {"rowData": [], "rowCount": 0}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("[" * 100_000 + "]" * 100_000, "body: the JSON is nested too deeply"),
        ("{not json", "body: not valid JSON"),
        ("[1, 2]", "body: expected a JSON object"),
        ('{"output": "nobody..value"}', "output: no callback has the output 'nobody..value'"),
        ('{"output": "$OUT", "inputs": "x"}', "inputs: expected a list"),
        ('{"output": "$OUT", "inputs": [1]}', "inputs[0]: expected an object"),
        ('{"output": "$OUT", "inputs": [{"id": 1, "property": "v"}]}', "inputs[0]: expected an id"),
        ('{"output": "$OUT", "changedPropIds": [1]}', "changedPropIds: expected a list of strings"),
        (
            '{"output": "$OUT", "inputs": [{"id": "a", "property": "v", "value": "\\ud800"}]}',
            "a string not valid Unicode text (a lone surrogate",
        ),
    ],
)
def test_a_malformed_callback_request_is_400_saying_why(cases_app, body, problem):
    client = cases_app.server.test_client()
    with client.session_transaction() as session:
        session["user"] = {"username": "admin", "display_name": "", "role": "county", "scope": ""}
    client.get("/")  # Dash collects the pages' callbacks on the first request
    output = next(iter(cases_app.callback_map))
    resp = client.post(
        "/_dash-update-component",
        data=body.replace("$OUT", output),
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "bad_callback_request"
    assert resp.get_json()["detail"].startswith(problem)


def test_a_well_formed_callback_request_still_reaches_its_callback(cases_app):
    from dashboard import ids

    client = cases_app.server.test_client()
    with client.session_transaction() as session:
        session["user"] = {"username": "admin", "display_name": "", "role": "county", "scope": ""}
    client.get("/")
    output = f"{ids.CASES_GRID}.getRowsResponse"
    assert output in cases_app.callback_map
    inputs = [{"id": ids.CASES_GRID, "property": "getRowsRequest", "value": {"startRow": "x"}}]
    state = [
        {"id": i, "property": p, "value": None}
        for i, p in (
            (ids.CASES_VIEW, "value"),
            (ids.CASES_STATUS, "value"),
            (ids.CASES_CATEGORY, "value"),
            (ids.CASES_TOWNSHIP, "value"),
            (ids.CASES_WINDOW, "value"),
            (ids.CASES_SEARCH, "value"),
            (ids.CASES_LANG, "data"),
        )
    ]

    def ask(state):
        return client.post(
            "/_dash-update-component",
            json={
                "output": output,
                "outputs": {"id": ids.CASES_GRID, "property": "getRowsResponse"},
                "inputs": inputs,
                "state": state,
                "changedPropIds": [f"{ids.CASES_GRID}.getRowsRequest"],
            },
            headers={"Referer": "http://localhost/cases"},
        )

    # one state value short: Dash itself would fail with an IndexError (a 500)
    short = ask(state[:-1])
    assert short.status_code == 400
    assert short.get_json()["detail"].startswith(f"state: the callback of {output!r} takes")
    resp = ask(state)
    assert resp.status_code == 200, resp.data[:300]
    assert resp.get_json()["response"][ids.CASES_GRID]["getRowsResponse"]["rowCount"] == 0
