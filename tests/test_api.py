"""The HTTP API under /api/v1 (Flask test client on the real app)."""

from __future__ import annotations

import json

import pytest
from conftest import X0, Y0, load_tiny_county

from dashboard.app import create_app
from wangge.settings import Settings
from wangge.store import SCHEMA_VERSION, Store


@pytest.fixture
def client(tmp_path):
    settings = Settings(data_dir=tmp_path)
    store = Store(settings.db_path)
    load_tiny_county(store)
    app = create_app(settings)
    client = app.server.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {store.create_token('reader', 'county')}"
    return client


def test_health(client):
    body = client.get("/api/v1/health").get_json()
    assert (
        body["status"] == "ok"
        and body["schema_version"] == SCHEMA_VERSION
        and body["data_version"] > 0
    )
    # the start-up analytics: not computed yet, then ready once warmed up
    assert body["warm"] is False
    client.application.config["WANGGE_ANALYTICS"].warm_up()
    assert client.get("/api/v1/health").get_json()["warm"] is True


@pytest.mark.parametrize(
    ("layer", "n", "prop"),
    [
        ("townships", 2, "name"),
        ("communities", 4, "code"),
        ("grids", 4, "households"),
        ("roads", 2, "kind"),
    ],
)
def test_layers_are_geojson(client, layer, n, prop):
    resp = client.get(f"/api/v1/layers/{layer}.geojson")
    assert resp.status_code == 200
    assert resp.mimetype == "application/geo+json"
    fc = json.loads(resp.data)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == n
    assert all(prop in f["properties"] for f in fc["features"])


def test_grid_layer_carries_what_the_map_colours_by(client):
    fc = client.get("/api/v1/layers/grids.geojson").get_json(force=True)
    first = fc["features"][0]
    assert first["id"] == "420999001001001"
    assert first["properties"]["households"] == sum(range(24, 32))
    assert first["properties"]["flags"] == "undersize-community"
    lon, lat = first["geometry"]["coordinates"][0][0]
    assert abs(lon - X0) < 0.011 and abs(lat - Y0) < 0.021


def test_unknown_layer_is_404_with_the_choices(client):
    resp = client.get("/api/v1/layers/secret.geojson")
    assert resp.status_code == 404
    assert "layer 'secret' does not exist" in resp.get_json()["detail"]


def test_buildings_by_bbox(client):
    resp = client.get(f"/api/v1/buildings?bbox={X0},{Y0},{X0 + 0.0099},{Y0 + 0.02}")
    assert resp.status_code == 200
    assert resp.headers["X-Feature-Count"] == "8" and resp.headers["X-Truncated"] == "false"
    resp = client.get(f"/api/v1/buildings?bbox={X0},{Y0},{X0 + 1},{Y0 + 1}&limit=3")
    assert resp.headers["X-Feature-Count"] == "3" and resp.headers["X-Truncated"] == "true"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "bbox is required"),
        ("bbox=1,2,3", "expected 4 comma-separated numbers"),
        ("bbox=a,2,3,4", "expected numbers"),
        ("bbox=3,2,1,4", "expected minx <= maxx"),
        ("bbox=1,2,3,nan", "numbers must be finite"),
        ("bbox=1,2,3,4&limit=0", "limit 0: expected 1 to 4000"),
    ],
)
def test_bad_bbox_is_422_naming_the_problem(client, query, message):
    resp = client.get(f"/api/v1/buildings?{query}")
    assert resp.status_code == 422
    assert message in resp.get_json()["detail"]


def test_openapi_document_is_the_data_file_completed(client):
    """The served document is ``dashboard/openapi.json`` with the code's values filled in."""
    from wangge.casework import CATEGORIES, LEVELS, SOURCES, STATUSES

    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["info"]["version"] == f"1.{SCHEMA_VERSION}"
    schemas = doc["components"]["schemas"]
    assert schemas["Case"]["properties"]["status"]["enum"] == list(STATUSES)
    assert schemas["Case"]["properties"]["category"]["enum"] == list(CATEGORIES)
    assert schemas["Case"]["properties"]["level"]["enum"] == list(LEVELS)
    assert schemas["NewCase"]["properties"]["source"]["enum"] == list(SOURCES)
    assert schemas["Transition"]["properties"]["to_status"]["enum"] == list(STATUSES[1:])
    assert [s for s in _strings(doc) if s.startswith("$")] == []  # no marker left


def _strings(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node
