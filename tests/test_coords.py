"""WGS84 <-> GCJ-02."""

from __future__ import annotations

import numpy as np
from pyproj import Geod

from geo.coords import gcj02_to_wgs84, in_china, wgs84_to_gcj02

GEOD = Geod(ellps="WGS84")


def test_the_shift_in_china_is_hundreds_of_metres_and_zero_abroad():
    lon = np.array([116.397, 121.49, 113.63, 87.6, -87.63, 2.35])
    lat = np.array([39.909, 31.24, 30.88, 43.8, 41.88, 48.85])
    glon, glat = wgs84_to_gcj02(lon, lat)
    _, _, dist = GEOD.inv(lon, lat, glon, glat)
    assert np.all((dist[:4] > 100) & (dist[:4] < 800))
    assert np.all(dist[4:] == 0)
    assert list(in_china(lon, lat)) == [True] * 4 + [False] * 2


def test_the_inverse_is_under_a_centimetre():
    rng = np.random.default_rng(0)
    lon = rng.uniform(75, 134, 2000)
    lat = rng.uniform(18, 53, 2000)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    _, _, err = GEOD.inv(lon, lat, back_lon, back_lat)
    assert err.max() < 0.01
