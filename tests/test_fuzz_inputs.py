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
        block = cases.rows_for(request_, None, None, None, "all", [], "zh")
    assert block == {"rowData": [], "rowCount": 0}
