"""Hot spots: Getis-Ord Gi* with FDR correction, and emerging hot spots over time.

Gi* is computed by ``esda.G_Local(y, w, star=True, transform="B")``: binary weights with each
location counted in its own neighbourhood, which is ArcGIS's *Hot Spot Analysis (Getis-Ord Gi*)*.
Neighbours are polygon contiguity (queen or rook) for grids and communities, or k-rings for H3
cells. Significance follows ArcGIS: two-sided p-values from the Gi* z-score, bins +-3, +-2, +-1
for 99, 95 and 90 % confidence, optionally with the false discovery rate controlled at each of
the three levels (``esda.fdr``, Benjamini-Hochberg).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Hashable
from typing import TYPE_CHECKING

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import scipy.sparse as sp

from geo.errors import InputError

if TYPE_CHECKING:  # esda and libpysal take seconds to import: load them when used
    import libpysal

__all__ = [
    "EMERGING_CLASSES",
    "emerging_hotspot_classes",
    "emerging_hotspots",
    "gi_star",
    "h3_weights",
    "mann_kendall",
    "spatial_weights",
]

log = logging.getLogger(__name__)

_LEVELS = ((0.10, 1), (0.05, 2), (0.01, 3))

#: Emerging hot spot classes (ArcGIS's 17 patterns) in the order they are tested.
EMERGING_CLASSES = (
    "new_hot",
    "consecutive_hot",
    "intensifying_hot",
    "persistent_hot",
    "diminishing_hot",
    "sporadic_hot",
    "oscillating_hot",
    "historical_hot",
    "new_cold",
    "consecutive_cold",
    "intensifying_cold",
    "persistent_cold",
    "diminishing_cold",
    "sporadic_cold",
    "oscillating_cold",
    "historical_cold",
    "no_pattern",
)


def _two_sided_p(z: np.ndarray) -> np.ndarray:
    """Two-sided p-values of standard normal scores (scipy.stats loads on first use)."""
    from scipy import stats  # 0.6 s to import: only when a test is run

    return 2.0 * stats.norm.sf(np.abs(z))


def h3_weights(cells: list[str] | pd.Index, *, k: int = 1) -> libpysal.weights.W:
    """Binary k-ring neighbours among the given H3 cells.

    Parameters
    ----------
    cells
        H3 cell ids (hexadecimal strings), all at one resolution.
    k
        Ring distance: 1 gives the 6 adjacent cells, 2 adds the next ring (18 in all).

    Returns
    -------
    libpysal.weights.W
        Ids are positions 0..n-1 in ``cells``; cells absent from ``cells`` are not neighbours.
        The diagonal is empty (Gi* adds the self-weight).
    """
    import libpysal

    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"k (H3 ring distance) must be a positive integer, got {k!r}")
    cells = list(cells)
    bad = [c for c in cells if not isinstance(c, str) or not h3.is_valid_cell(c)]
    if bad:
        raise InputError(f"not valid H3 cell ids: {bad[:10]}{' ...' if len(bad) > 10 else ''}")
    res = {h3.get_resolution(c) for c in cells}
    if len(res) > 1:
        raise InputError(f"H3 cells must share one resolution; found resolutions {sorted(res)}")
    pos = {c: i for i, c in enumerate(cells)}
    if len(pos) != len(cells):
        raise InputError("H3 cell ids must be unique")
    neighbors = {}
    for i, c in enumerate(cells):
        neighbors[i] = [pos[d] for d in h3.grid_disk(c, int(k)) if d != c and d in pos]
    return libpysal.weights.W(neighbors, silence_warnings=True)


def spatial_weights(
    frame: gpd.GeoDataFrame, *, weights: str = "queen", k: int = 1
) -> libpysal.weights.W:
    """Binary spatial weights for the rows of ``frame`` (ids are positions 0..n-1).

    Parameters
    ----------
    frame
        Polygons (for ``"queen"`` and ``"rook"``), or a frame whose index or ``h3_cell`` column
        holds H3 cell ids (for ``"h3"``).
    weights
        ``"queen"`` (shared edge or corner), ``"rook"`` (shared edge) or ``"h3"`` (k-ring).
    k
        Ring distance for ``"h3"``.
    """
    import libpysal

    if weights == "h3":
        cells = frame["h3_cell"] if "h3_cell" in frame.columns else frame.index
        return h3_weights(list(cells), k=k)
    if weights in ("queen", "rook"):
        if not isinstance(frame, gpd.GeoDataFrame):
            raise InputError(f"{weights} contiguity needs a GeoDataFrame of polygons")
        geoms = frame.geometry
        types = set(geoms.geom_type.dropna())
        if not types <= {"Polygon", "MultiPolygon"}:
            raise InputError(
                f"{weights} contiguity needs polygons; found geometry types {sorted(types)}"
            )
        plain = gpd.GeoDataFrame(geometry=geoms.to_numpy(), crs=geoms.crs)
        cls = libpysal.weights.Queen if weights == "queen" else libpysal.weights.Rook
        w = cls.from_dataframe(plain, use_index=True, silence_warnings=True)
        if w.islands:
            log.info("spatial weights: %d locations without neighbours", len(w.islands))
        return w
    raise InputError(f"weights must be 'queen', 'rook', 'h3' or a libpysal W, got {weights!r}")


def _bins(z: np.ndarray, p: np.ndarray, *, fdr: bool) -> np.ndarray:
    import esda

    out = np.zeros(len(z), dtype=np.int8)
    for alpha, level in _LEVELS:
        cut = float(esda.fdr(p, alpha)) if fdr else alpha
        sig = p <= cut
        out[sig] = level
    return (np.sign(z) * out).astype(np.int8)


def gi_star(
    frame: gpd.GeoDataFrame | pd.DataFrame,
    *,
    column: Hashable = "count",
    weights: str | libpysal.weights.W = "queen",
    k: int = 1,
    fdr: bool = True,
    permutations: int = 0,
    seed: int | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Getis-Ord Gi* hot and cold spots, binned by confidence as in ArcGIS.

    Parameters
    ----------
    frame
        One row per location (grid polygons, or the output of :func:`geo.analytics.hexes.h3_counts`).
    column
        Numeric column to test (case counts, or rates).
    weights
        ``"queen"`` or ``"rook"`` polygon contiguity, ``"h3"`` k-ring neighbours of the cell ids
        in the index (or an ``h3_cell`` column), or a ready ``libpysal.weights.W`` whose ids are
        positions 0..n-1.
    k
        Ring distance for ``weights="h3"``.
    fdr
        Control the false discovery rate (Benjamini-Hochberg, ``esda.fdr``) separately at the
        10, 5 and 1 % levels, as ArcGIS's *Apply False Discovery Rate Correction* does.
    permutations
        0 (default) uses the analytic normal p-value of the Gi* z-score, as ArcGIS does. A
        positive number uses esda's conditional permutation pseudo p-value, doubled to be
        two-sided.
    seed
        Seed for the permutations.

    Returns
    -------
    same type as ``frame``
        A copy with columns ``gi_z`` (z-score), ``gi_p`` (two-sided p-value) and ``gi_bin``:
        +3/+2/+1 hot spot at 99/95/90 % confidence, -3/-2/-1 cold spot, 0 not significant.
        Index and CRS are kept.

    Examples
    --------
    A 5 x 5 lattice with one hot cross in the middle:

    >>> import geopandas as gpd, numpy as np
    >>> from shapely.geometry import box
    >>> cells = [box(x, y, x + 1, y + 1) for y in range(5) for x in range(5)]
    >>> y = np.zeros(25); y[[7, 11, 12, 13, 17]] = 10
    >>> g = gpd.GeoDataFrame({"count": y}, geometry=cells, crs="EPSG:4547")
    >>> int(gi_star(g, column="count", fdr=False).loc[12, "gi_bin"])
    3
    """
    import esda
    import libpysal

    if column not in frame.columns:
        raise InputError(f"frame has no column {column!r}; columns are {list(frame.columns)}")
    y = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(y)
    if bad.any():
        raise InputError(
            f"column {column!r} must be finite numbers; rows {list(frame.index[bad][:10])} "
            f"are not ({int(bad.sum())} in all)"
        )
    if len(frame) < 3:
        raise InputError(f"Gi* needs at least 3 locations, got {len(frame)}")
    if isinstance(weights, libpysal.weights.W):
        if weights.n != len(frame):
            raise InputError(f"weights cover {weights.n} locations but frame has {len(frame)} rows")
        w = libpysal.weights.W(weights.neighbors, weights.weights, silence_warnings=True)
    else:
        w = spatial_weights(frame, weights=weights, k=k)
    out = frame.copy()
    if np.allclose(y, y[0]):
        out["gi_z"] = 0.0
        out["gi_p"] = 1.0
        out["gi_bin"] = np.zeros(len(y), dtype=np.int8)
        return out
    with warnings.catch_warnings():
        # libpysal re-warns about disconnected components when esda adds the self-weights
        warnings.filterwarnings("ignore", message="The weights matrix is not fully connected")
        # esda 2.x announces a change of its permutation p-value; we double it ourselves
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="esda")
        g = esda.G_Local(
            y,
            w,
            star=True,
            transform="B",
            permutations=int(permutations),
            seed=seed,
            keep_simulations=False,
        )
    z = np.asarray(g.Zs, dtype=float)
    sim = np.minimum(1.0, 2.0 * np.asarray(g.p_sim, dtype=float)) if permutations else None
    p = sim if sim is not None else _two_sided_p(z)
    out["gi_z"] = z
    out["gi_p"] = p
    out["gi_bin"] = _bins(z, p, fdr=fdr)
    log.debug("gi_star: %d locations, %d significant", len(y), int((out["gi_bin"] != 0).sum()))
    return out


def mann_kendall(values: np.ndarray) -> pd.DataFrame:
    """Mann-Kendall monotonic trend test, row by row.

    Parameters
    ----------
    values
        Array of shape (locations, time steps), time in order.

    Returns
    -------
    pandas.DataFrame
        Columns ``s`` (the statistic S = sum over i < j of sign(x_j - x_i)), ``tau`` (Kendall's
        tau-a, S / (n (n - 1) / 2)), ``z`` (with continuity correction and the variance
        corrected for ties) and ``p`` (two-sided).
    """
    x = np.atleast_2d(np.asarray(values, dtype=float))
    n_loc, n = x.shape
    if n < 3:
        raise InputError(f"Mann-Kendall needs at least 3 time steps, got {n}")
    s = np.zeros(n_loc)
    for i in range(n - 1):
        s += np.sign(x[:, i + 1 :] - x[:, i : i + 1]).sum(axis=1)
    var = np.full(n_loc, n * (n - 1) * (2 * n + 5) / 18.0)
    srt = np.sort(x, axis=1)
    has_ties = (np.diff(srt, axis=1) == 0).any(axis=1)
    for r in np.flatnonzero(has_ties):
        _, t = np.unique(srt[r], return_counts=True)
        t = t[t > 1]
        var[r] -= float((t * (t - 1) * (2 * t + 5)).sum()) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(var), 0.0)
    p = _two_sided_p(z)
    return pd.DataFrame({"s": s, "tau": s / (n * (n - 1) / 2.0), "z": z, "p": p})


def _final_run(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True at the end of each row."""
    rev = flags[:, ::-1]
    return np.where(rev.all(axis=1), flags.shape[1], np.argmin(rev, axis=1))


def _classify_side(
    sig: np.ndarray, other: np.ndarray, trend_up: np.ndarray, trend_down: np.ndarray
) -> np.ndarray:
    n_loc, n = sig.shape
    out = np.full(n_loc, "", dtype=object)
    final = sig[:, -1]
    share = sig.sum(axis=1) / n
    ninety = share >= 0.9
    prior_any = sig[:, :-1].any(axis=1)
    run = _final_run(sig)
    before_run = (sig & (np.arange(n)[None, :] < (n - run)[:, None])).any(axis=1)
    other_prior = other[:, :-1].any(axis=1)
    rules = [
        ("new", final & ~prior_any),
        ("consecutive", final & (run >= 2) & ~before_run & ~ninety),
        ("intensifying", final & ninety & trend_up),
        ("diminishing", final & ninety & trend_down),
        ("persistent", final & ninety),
        ("oscillating", final & ~ninety & other_prior),
        ("sporadic", final & ~ninety),
        ("historical", ~final & ninety),
    ]
    for name, mask in rules:
        out[(out == "") & mask] = name
    return out


def emerging_hotspot_classes(
    z: np.ndarray, significant: np.ndarray, *, trend_alpha: float = 0.05
) -> np.ndarray:
    """Classify locations by their Gi* series, following ArcGIS's emerging hot spot patterns.

    Let a bin be *hot* when it is significant with z > 0 and *cold* when significant with
    z < 0, *final* the last time step, and *90 %* mean "in at least 90 % of the time steps".
    The trend is a Mann-Kendall test on the location's Gi* z-scores (two-sided, at
    ``trend_alpha``). Hot classes, tested in this order (cold ones are the mirror image,
    with "increasing" meaning the z-scores grow more negative):

    - **new**: hot in the final step and never hot before.
    - **consecutive**: a single uninterrupted run of at least two hot steps ending in the
      final step, never hot before that run, and hot in less than 90 % of the steps.
    - **intensifying**: hot in 90 % of the steps including the final one, with a significant
      increasing trend in the z-scores.
    - **diminishing**: hot in 90 % of the steps including the final one, with a significant
      decreasing trend.
    - **persistent**: hot in 90 % of the steps including the final one, with no significant
      trend.
    - **oscillating**: hot in the final step, hot in less than 90 % of the steps, and cold in
      at least one earlier step.
    - **sporadic**: hot in the final step, on and off before (not new or consecutive), hot
      in less than 90 % of the steps and never cold.
    - **historical**: not hot in the final step, but hot in at least 90 % of the steps.
    - **no_pattern**: none of the above, hot or cold.

    A location whose final step is hot is classified among the hot classes, a final cold
    step among the cold ones; otherwise historical hot, historical cold or no pattern.

    Parameters
    ----------
    z
        Gi* z-scores, shape (locations, time steps), time in order.
    significant
        Boolean array of the same shape: the bin is significant.
    trend_alpha
        Significance level of the Mann-Kendall trend.

    Returns
    -------
    numpy.ndarray
        One label of :data:`EMERGING_CLASSES` per location (e.g. ``"new_hot"``).
    """
    z = np.atleast_2d(np.asarray(z, dtype=float))
    sig = np.atleast_2d(np.asarray(significant, dtype=bool))
    if z.shape != sig.shape:
        raise InputError(f"z has shape {z.shape} but significant has shape {sig.shape}")
    hot = sig & (z > 0)
    cold = sig & (z < 0)
    mk = mann_kendall(z)
    trend = mk["p"].to_numpy() < trend_alpha
    up = trend & (mk["s"].to_numpy() > 0)
    down = trend & (mk["s"].to_numpy() < 0)
    hot_cls = _classify_side(hot, cold, up, down)
    cold_cls = _classify_side(cold, hot, down, up)
    out = np.full(len(z), "no_pattern", dtype=object)
    has_hot = hot_cls != ""
    out[has_hot] = hot_cls[has_hot] + "_hot"
    has_cold = ~has_hot & (cold_cls != "")
    out[has_cold] = cold_cls[has_cold] + "_cold"
    return out


def _space_time_gi(
    x: np.ndarray, w: sp.csr_matrix, time_window: int
) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z and two-sided p for every bin of a (locations, steps) cube."""
    n_loc, n_t = x.shape
    ws = (w + sp.identity(n_loc, format="csr")).tocsr()
    ws.data[:] = 1.0
    spatial = np.asarray(ws @ x)
    card = np.asarray(ws.sum(axis=1)).ravel()
    lag_sum = np.zeros_like(spatial)
    n_lags = np.zeros(n_t)
    for lag in range(time_window + 1):
        lag_sum[:, lag:] += spatial[:, : n_t - lag]
        n_lags[lag:] += 1
    wi = card[:, None] * n_lags[None, :]
    big_n = x.size
    mean = x.mean()
    sd = np.sqrt((x**2).mean() - mean**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        den = sd * np.sqrt((big_n * wi - wi**2) / (big_n - 1))
        z = np.where(den > 0, (lag_sum - mean * wi) / den, 0.0)
    return z, _two_sided_p(z)


def emerging_hotspots(
    cube: gpd.GeoDataFrame,
    *,
    column: Hashable = "count",
    weights: str | libpysal.weights.W = "h3",
    k: int = 1,
    time_window: int = 1,
    alpha: float = 0.05,
    fdr: bool = True,
    trend_alpha: float = 0.05,
) -> gpd.GeoDataFrame:
    """Emerging hot spot analysis of a space-time cube (ArcGIS, sfdep).

    For every location and time step, Gi* is computed on the space-time neighbourhood: the
    location's spatial neighbours and itself in the same step and in the ``time_window``
    previous steps, with binary weights and the mean and standard deviation of the whole
    cube (as ArcGIS's *Emerging Hot Spot Analysis* does). A bin is significant when its
    two-sided p-value is at most ``alpha`` (FDR-controlled within each time step when ``fdr``).
    Each location is then classified by :func:`emerging_hotspot_classes`.

    Parameters
    ----------
    cube
        Complete cube with a MultiIndex (location, time step) and a count column, e.g.
        ``h3_counts(points, by="week")`` with ``points["week"] = points["reported_at"]
        .dt.to_period("W")``. Every location must have every time step (zeros included).
    column
        The count column.
    weights
        ``"h3"`` (k-ring of the cell ids in the first index level), ``"queen"``/``"rook"``
        (contiguity of each location's geometry) or a libpysal ``W`` over locations in
        sorted order (ids 0..n-1).
    k
        Ring distance for ``"h3"``.
    time_window
        Number of previous time steps in each bin's neighbourhood (ArcGIS's *Neighborhood
        Time Step* minus one; 1 by default).
    alpha
        Significance level of each bin.
    fdr
        Control the false discovery rate within each time step.
    trend_alpha
        Significance level of the Mann-Kendall trend of the z-scores.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per location (index: the first level of ``cube``), columns ``category`` (see
        :data:`EMERGING_CLASSES`), ``n_hot``, ``n_cold`` (significant steps), ``final_z``,
        ``trend_tau``, ``trend_p`` and the location's geometry.
    """
    import esda
    import libpysal

    if not isinstance(cube.index, pd.MultiIndex) or cube.index.nlevels != 2:
        raise InputError(
            "cube must have a two-level MultiIndex (location, time step), as returned by "
            "h3_counts(points, by=...)"
        )
    if column not in cube.columns:
        raise InputError(f"cube has no column {column!r}; columns are {list(cube.columns)}")
    if time_window < 0:
        raise InputError(f"time_window must be 0 or more, got {time_window}")
    values = cube[column].unstack(level=1)
    if values.isna().any().any():
        raise InputError(
            f"cube is not complete: {int(values.isna().sum().sum())} (location, step) bins are "
            "missing; fill them with 0 (h3_counts(..., by=...) returns a complete cube)"
        )
    n_loc, n_t = values.shape
    if n_t < 10:
        raise InputError(
            f"emerging hot spots need at least 10 time steps (as ArcGIS requires), got {n_t}"
        )
    locations = values.index
    first = cube.groupby(level=0, sort=True).head(1).droplevel(1).reindex(locations)
    if isinstance(weights, libpysal.weights.W):
        w = weights
    elif weights == "h3":
        w = h3_weights(list(locations), k=k)
    else:
        w = spatial_weights(first, weights=weights, k=k)
    if w.n != n_loc:
        raise InputError(f"weights cover {w.n} locations but the cube has {n_loc}")
    mat = w.sparse.tocsr()
    x = values.to_numpy(dtype=float)
    z, p = _space_time_gi(x, mat, time_window)
    sig = np.zeros_like(z, dtype=bool)
    for t in range(n_t):
        cut = float(esda.fdr(p[:, t], alpha)) if fdr else alpha
        sig[:, t] = p[:, t] <= cut
    labels = emerging_hotspot_classes(z, sig, trend_alpha=trend_alpha)
    mk = mann_kendall(z)
    data = {
        "category": labels,
        "n_hot": (sig & (z > 0)).sum(axis=1),
        "n_cold": (sig & (z < 0)).sum(axis=1),
        "final_z": z[:, -1],
        "trend_tau": mk["tau"].to_numpy(),
        "trend_p": mk["p"].to_numpy(),
    }
    if isinstance(first, gpd.GeoDataFrame):
        return gpd.GeoDataFrame(data, index=locations, geometry=first.geometry.values, crs=cube.crs)
    return pd.DataFrame(data, index=locations)
