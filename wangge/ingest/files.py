"""Imports of operational data from files: cases (CSV, Excel), cameras (CSV, GeoJSON, OSM) and
patrol GPS tracks (CSV, GPX).

Every importer validates each row, keeps the good rows, and reports the bad ones by row number
(the spreadsheet row: the header is row 1) with the reason. Importing the same file twice adds
nothing: cases are keyed by the file's own id column, or by a hash of the row when it has none;
GPS fixes by worker and time; cameras by id (updated in place).

Hotline (12345) exports carry Chinese headers; :data:`CASE_HEADERS` lists the names recognised
for each field, and ``mapping`` (source header -> field) overrides or extends them. Naive times
are read in ``timezone`` (default :data:`wangge.clock.COUNTY_TZ`, the command centres' clock).
A case's 地址 column is its ``address``; 紧急程度 its ``urgency`` (紧急/特急 urgent, 一般 or an
empty cell normal: :data:`URGENCY_LABELS`).

Every importer takes the importing principal's ``scope`` (:class:`wangge.access.Scope`: the
CLI passes ``Scope.county()``, the HTTP import the token's scope). A row outside it is refused
and reported by its row number: a case located in another township, a GPS fix of another
township's worker, a camera placed in another township or whose id is another township's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from wangge import clock
from wangge.access import Scope
from wangge.casework import CATEGORIES, SOURCES, ValidationError, validate_new_case
from wangge.services.locate import Locator
from wangge.store import Store

__all__ = [
    "CASE_HEADERS",
    "CATEGORY_LABELS",
    "URGENCY_LABELS",
    "GPS_HEADERS",
    "ImportReport",
    "import_cameras",
    "import_cases",
    "import_gps",
    "read_table",
]

log = logging.getLogger(__name__)

#: Recognised headers (lower-cased) per case field.
CASE_HEADERS: dict[str, tuple[str, ...]] = {
    "client_id": (
        "client_id",
        "id",
        "工单编号",
        "工单号",
        "案件编号",
        "事件编号",
        "编号",
        "流水号",
    ),
    "category": ("category", "诉求类型", "事件类型", "案件类别", "类别", "问题类型", "事件分类"),
    "lon": ("lon", "lng", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "title": ("title", "标题", "诉求标题", "事件标题"),
    "description": ("description", "诉求内容", "事件描述", "问题描述", "内容", "描述"),
    "reporter_name": ("reporter_name", "来电人", "联系人", "反映人", "上报人", "姓名"),
    "reporter_phone": ("reporter_phone", "联系电话", "来电号码", "电话", "手机号"),
    "reported_at": (
        "reported_at",
        "date",
        "time",
        "受理时间",
        "来电时间",
        "上报时间",
        "发生时间",
        "登记时间",
    ),
    "source": ("source", "来源", "渠道", "诉求渠道"),
    "address": ("address", "地址", "事发地址", "事发地点", "详细地址", "发生地址"),
    "urgency": ("urgency", "紧急程度", "紧急度", "是否紧急"),
}

#: Urgency labels seen in exports -> urgency (an empty cell is normal).
URGENCY_LABELS: dict[str, str] = {
    "": "normal",
    "normal": "normal",
    "urgent": "urgent",
    "一般": "normal",
    "普通": "normal",
    "否": "normal",
    "紧急": "urgent",
    "特急": "urgent",
    "加急": "urgent",
    "是": "urgent",
}

#: Category labels seen in exports -> category code.
CATEGORY_LABELS: dict[str, str] = {
    **{c.zh: c.code for c in CATEGORIES.values()},
    **{c.en.lower(): c.code for c in CATEGORIES.values()},
    **{code: code for code in CATEGORIES},
    "纠纷": "dispute",
    "邻里纠纷": "dispute",
    "安全": "safety",
    "消防隐患": "safety",
    "环卫": "sanitation",
    "卫生": "sanitation",
    "市容环境": "sanitation",
    "城市管理": "facilities",
    "设施": "facilities",
    "治安": "order",
    "社会治安": "order",
    "民生": "services",
    "咨询": "services",
}

SOURCE_LABELS: dict[str, str] = {
    **{s: s for s in SOURCES},
    "网格员": "grid_worker",
    "网格员上报": "grid_worker",
    "12345": "hotline_12345",
    "12345热线": "hotline_12345",
    "热线": "hotline_12345",
    "群众": "citizen",
    "群众反映": "citizen",
    "视频": "camera_ai",
    "视频监控": "camera_ai",
    "巡查": "inspection",
}

#: Recognised headers (lower-cased) per GPS field.
GPS_HEADERS: dict[str, tuple[str, ...]] = {
    "worker_id": ("worker_id", "worker", "网格员编号", "人员编号", "网格员", "工号"),
    "at": ("at", "time", "timestamp", "时间", "定位时间"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "accuracy": ("accuracy", "精度", "定位精度"),
}

#: Recognised headers (lower-cased) per camera field.
CAMERA_HEADERS: dict[str, tuple[str, ...]] = {
    "camera_id": ("camera_id", "id", "osm_id", "设备编号", "编号", "点位编号"),
    "name": ("name", "名称", "点位名称", "设备名称"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "direction": ("camera:direction", "direction", "bearing", "方向", "朝向"),
    "camera_type": ("camera:type", "camera_type", "type", "类型", "摄像机类型"),
    "fov": ("fov", "fov_deg", "视场角"),
    "range_m": ("range_m", "range", "监控距离"),
    "mount_height": ("mount_height", "height", "安装高度"),
    "tags": ("tags_json", "tags", "other_tags"),
}

MAX_ERRORS_KEPT = 1000


@dataclass
class ImportReport:
    """What an import did: rows read, added, duplicates, and bad rows (row number, reason)."""

    file: str
    kind: str
    total: int = 0
    added: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    bad_rows: int = 0

    def add_error(self, row: int, reason: str) -> None:
        self.bad_rows += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append((row, reason))

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "kind": self.kind,
            "total": self.total,
            "added": self.added,
            "duplicates": self.duplicates,
            "bad_rows": self.bad_rows,
            "errors": [{"row": r, "reason": m} for r, m in self.errors],
        }

    def summary(self) -> str:
        lines = [
            f"{self.file}: {self.total} rows, {self.added} added, {self.duplicates} already there, "
            f"{self.bad_rows} bad"
        ]
        lines += [f"  row {r}: {m}" for r, m in self.errors[:50]]
        if self.bad_rows > 50:
            lines.append(f"  ... and {self.bad_rows - 50} more bad rows")
        return "\n".join(lines)


def read_table(
    path: Path, *, sheet: str | int | None = None, encoding: str | None = None
) -> pd.DataFrame:
    """A CSV (UTF-8, UTF-8 with BOM, or GBK/GB18030, detected) or Excel sheet, all as text."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=str)
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{path}: cannot read sheet {sheet!r}: {exc}") from None
    elif suffix in (".csv", ".txt", ".tsv"):
        sep = "\t" if suffix == ".tsv" else ","
        encodings = [encoding] if encoding else ["utf-8-sig", "gb18030"]
        frame = None
        for enc in encodings:
            try:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc, sep=sep)
                break
            except UnicodeDecodeError:
                continue
        if frame is None:
            raise ValueError(f"{path}: not UTF-8 or GB18030 text; pass the encoding (--encoding)")
    else:
        raise ValueError(f"{path}: unsupported file type {suffix!r}; expected .csv, .tsv or .xlsx")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.fillna("")


def _resolve_columns(
    frame: pd.DataFrame,
    headers: dict[str, tuple[str, ...]],
    mapping: dict[str, str] | None,
    required: tuple[str, ...],
    path: Path,
) -> dict[str, str]:
    """field -> source column."""
    found: dict[str, str] = {}
    lower = {c.lower(): c for c in frame.columns}
    for source, target in (mapping or {}).items():
        if source not in frame.columns:
            raise ValueError(
                f"{path}: the mapping names column {source!r}, which the file lacks; columns: {list(frame.columns)}"
            )
        if target not in headers:
            raise ValueError(
                f"{path}: the mapping targets {target!r}; expected one of {list(headers)}"
            )
        found[target] = source
    for target, names in headers.items():
        if target in found:
            continue
        for name in names:
            if name.lower() in lower:
                found[target] = lower[name.lower()]
                break
    missing = [f for f in required if f not in found]
    if missing:
        raise ValueError(
            f"{path}: no column for {missing}; columns are {list(frame.columns)}. "
            f"Name them with a mapping such as --map 'SOURCE=FIELD'"
        )
    return found


def _time_parser(tz: ZoneInfo) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().replace("/", "-")
        if not value:
            raise ValueError("empty time")
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"time {text!r}: expected a date and time such as 2026-11-22 08:30:00"
            ) from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=tz)
        return clock.stamp(dt)

    return parse


def _number(text: str) -> float | str:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return text
    return value if math.isfinite(value) else text


def import_cases(
    path: Path,
    store: Store,
    *,
    scope: Scope,
    mapping: dict[str, str] | None = None,
    constants: dict[str, str] | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    timezone: str = clock.COUNTY_TZ,
    actor: str = "import",
    locator: Locator | None = None,
) -> ImportReport:
    """Import cases from a CSV or Excel file into ``store``.

    Parameters
    ----------
    mapping
        Source column -> case field, for headers not in :data:`CASE_HEADERS`.
    constants
        Field -> value for every row (e.g. ``{"category": "order", "source": "hotline_12345"}``).
    scope
        The importing principal's scope: a row located outside it is refused.
    """
    path = Path(path)
    frame = read_table(path, sheet=sheet, encoding=encoding)
    constants = dict(constants or {})
    required = tuple(f for f in ("category", "lon", "lat", "reported_at") if f not in constants)
    columns = _resolve_columns(frame, CASE_HEADERS, mapping, required, path)
    report = ImportReport(file=str(path), kind="cases", total=len(frame))
    parse_time = _time_parser(ZoneInfo(timezone))
    now = clock.utc_now()
    good: list[dict] = []
    good_rows: list[int] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(frame.to_dict("records")):
        row_no = i + 2
        body: dict = {f: raw[c] for f, c in columns.items()}
        body.update(constants)
        try:
            body["category"] = CATEGORY_LABELS.get(
                str(body.get("category", "")).strip().lower(), body.get("category")
            )
            if "source" in body:
                body["source"] = SOURCE_LABELS.get(
                    str(body["source"]).strip().lower(), body["source"]
                )
            if "urgency" in body:
                body["urgency"] = URGENCY_LABELS.get(
                    str(body["urgency"]).strip().lower(), body["urgency"]
                )
            body["lon"], body["lat"] = _number(body.get("lon", "")), _number(body.get("lat", ""))
            body["reported_at"] = parse_time(str(body.get("reported_at", "")))
            if not body.get("client_id"):
                # identical rows in one file are distinct reports: number their occurrences
                digest = hashlib.sha1(
                    json.dumps(raw, ensure_ascii=False, sort_keys=True).encode()
                ).hexdigest()
                seen[digest] = seen.get(digest, 0) + 1
                body["client_id"] = f"import:{digest}:{seen[digest]}"
            else:
                body["client_id"] = str(body["client_id"]).strip()
            good.append(validate_new_case(body, now=now))
            good_rows.append(row_no)
        except ValidationError as exc:
            report.add_error(
                row_no, "; ".join(f"{columns.get(k, k)}: {v}" for k, v in exc.errors.items())
            )
        except ValueError as exc:
            report.add_error(row_no, f"{columns.get('reported_at', 'reported_at')}: {exc}")
    if good:
        locator = locator or Locator(store)
        located = locator.locate_many(
            np.array([c["lon"] for c in good]), np.array([c["lat"] for c in good])
        )
        inside = _cases_inside(report, scope, good_rows, located)
        good = [c for c, ok in zip(good, inside, strict=True) if ok]
        located = [loc for loc, ok in zip(located, inside, strict=True) if ok]
    if good:
        ids = store.create_cases_bulk(good, located, scope=scope, actor=actor)
        report.added = sum(1 for x in ids if x)
        report.duplicates = len(ids) - report.added
    log.info(
        "imported %s: %d added, %d duplicates, %d bad rows",
        path,
        report.added,
        report.duplicates,
        report.bad_rows,
    )
    return report


def _cases_inside(
    report: ImportReport, scope: Scope, rows: list[int], located: list[dict]
) -> list[bool]:
    """Which located cases lie inside ``scope``; the others are reported by row."""
    inside = [scope.contains(loc["township_code"]) for loc in located]
    for row_no, ok in zip(rows, inside, strict=True):
        if not ok:
            report.add_error(row_no, f"lon/lat: the case lies outside {_scope_name(scope)}")
    return inside


def _scope_name(scope: Scope) -> str:
    """How a refused row names the importer's scope."""
    return f"township {scope.township}" if scope.township else "the importer's scope (none)"


def _read_gpx(path: Path, worker: str | None) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """GPX track points -> frame (worker_id, at, lon, lat, accuracy, row) and parse errors."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise ValueError(f"{path}: not a GPX file ({exc})") from None
    ns = {"g": root.tag[1:].split("}")[0]} if root.tag.startswith("{") else {}
    q = (lambda t: f"g:{t}") if ns else (lambda t: t)
    rows, errors = [], []
    for t, trk in enumerate(root.iter(f"{{{ns['g']}}}trk" if ns else "trk")):
        name_el = trk.find(q("name"), ns)
        who = worker or (name_el.text.strip() if name_el is not None and name_el.text else None)
        for n, pt in enumerate(trk.iter(f"{{{ns['g']}}}trkpt" if ns else "trkpt")):
            time_el = pt.find(q("time"), ns)
            hdop = pt.find(q("hdop"), ns)
            rows.append(
                {
                    "worker_id": who or "",
                    "at": time_el.text if time_el is not None and time_el.text else "",
                    "lon": pt.get("lon", ""),
                    "lat": pt.get("lat", ""),
                    "accuracy": hdop.text if hdop is not None and hdop.text else "",
                    "row": f"track {t + 1} point {n + 1}",
                }
            )
    if not rows:
        raise ValueError(f"{path}: the GPX file has no track points (trk/trkseg/trkpt)")
    return pd.DataFrame(rows), errors


def import_gps(
    path: Path,
    store: Store,
    *,
    scope: Scope,
    worker: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    timezone: str = clock.COUNTY_TZ,
) -> ImportReport:
    """Import patrol GPS fixes from CSV or GPX; ``worker`` names the worker of a GPX track.

    Inside a township ``scope`` every fix must be of one of the township's workers (a row of
    another worker is refused)."""
    path = Path(path)
    if path.suffix.lower() == ".gpx":
        frame, _ = _read_gpx(path, worker)
        labels = frame.pop("row").tolist()
        columns = {c: c for c in ("worker_id", "at", "lon", "lat", "accuracy")}
    else:
        frame = read_table(path, encoding=encoding)
        if worker is not None:
            frame["worker_id"] = worker
        columns = _resolve_columns(
            frame, GPS_HEADERS, mapping, ("worker_id", "at", "lon", "lat"), path
        )
        labels = [f"row {i + 2}" for i in range(len(frame))]
    report = ImportReport(file=str(path), kind="gps", total=len(frame))
    parse_time = _time_parser(ZoneInfo(timezone))
    points = []
    mine = None if scope.county_wide else set(store.workers(scope=scope)["worker_id"])
    for label, raw in zip(labels, frame.to_dict("records"), strict=True):
        problems = []
        who = str(raw.get(columns["worker_id"], "")).strip()
        if not who:
            problems.append(
                f"{columns['worker_id']}: no worker id (pass --worker for a GPX track without a name)"
            )
        elif mine is not None and who not in mine:
            problems.append(
                f"{columns['worker_id']}: {who!r} is not a worker of {_scope_name(scope)}"
            )
        try:
            at = parse_time(str(raw.get(columns["at"], "")))
        except ValueError as exc:
            problems.append(f"{columns['at']}: {exc}")
        lon, lat = _number(raw.get(columns["lon"], "")), _number(raw.get(columns["lat"], ""))
        if not isinstance(lon, float) or not -180 <= lon <= 180:
            problems.append(f"{columns['lon']}: expected a longitude in degrees, found {lon!r}")
        if not isinstance(lat, float) or not -90 <= lat <= 90:
            problems.append(f"{columns['lat']}: expected a latitude in degrees, found {lat!r}")
        acc = _number(raw.get(columns.get("accuracy", ""), "")) if "accuracy" in columns else ""
        if problems:
            report.add_error(
                int(label.split()[-1]) if label.startswith("row") else 0,
                f"{label}: " + "; ".join(problems),
            )
            continue
        points.append((who, at, lon, lat, acc if isinstance(acc, float) else None))
    if points:
        report.added = store.add_patrol_points(points, scope=scope)
        report.duplicates = len(points) - report.added
    return report


def _read_points(path: Path, layer: str | None) -> pd.DataFrame:
    """Camera points from CSV/Excel (lon/lat columns) or any vector file (point geometry)."""
    if path.suffix.lower() in (".csv", ".tsv", ".txt", ".xlsx", ".xlsm"):
        return read_table(path)
    import geopandas as gpd

    try:
        frame = gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise ValueError(f"{path}: cannot read it as a vector file ({exc})") from None
    if frame.crs is None:
        raise ValueError(
            f"{path}: the file has no CRS; expected lon/lat (EPSG:4326) or a declared CRS"
        )
    frame = frame.to_crs("EPSG:4326")
    kinds = set(frame.geometry.geom_type.dropna())
    if kinds - {"Point"}:
        raise ValueError(f"{path}: expected point geometries, found {sorted(kinds)}")
    out = pd.DataFrame(frame.drop(columns="geometry"))
    out["lon"], out["lat"] = frame.geometry.x, frame.geometry.y
    return out


def import_cameras(
    path: Path,
    store: Store,
    *,
    scope: Scope,
    layer: str | None = None,
    mapping: dict[str, str] | None = None,
    locator: Locator | None = None,
) -> ImportReport:
    """Import cameras from CSV, GeoJSON/GeoPackage or an OSM export (``man_made=surveillance``).

    Directions are read from ``camera:direction``/``direction`` (in a tags column or their own
    column) as OSM writes them: degrees, cardinals, ranges (``90-270``) or several values
    (``180;160;170``), one camera head each: heads after the first get ids ``ID-2``, ``ID-3``...
    Field of view and range come from the row when given, else from the camera type. A camera
    placed outside ``scope``, or whose id is a stored camera outside it, is refused.
    """
    from geo.analytics.cameras import CAMERA_DEFAULTS, camera_from_tags
    from geo.errors import InputError

    path = Path(path)
    frame = _read_points(path, layer)
    columns = _resolve_columns(frame, CAMERA_HEADERS, mapping, ("camera_id", "lon", "lat"), path)
    report = ImportReport(file=str(path), kind="cameras", total=len(frame))
    rows: list[dict] = []
    for i, raw in enumerate(frame.to_dict("records")):
        row_no = i + 2
        vals = {f: raw.get(c) for f, c in columns.items()}
        problems = []
        cid = str(vals.get("camera_id") or "").strip()
        if not cid or cid == "nan":
            problems.append(f"{columns['camera_id']}: no camera id")
        lon, lat = _number(vals.get("lon")), _number(vals.get("lat"))
        if not isinstance(lon, float) or not -180 <= lon <= 180:
            problems.append(
                f"{columns['lon']}: expected a longitude in degrees, found {vals.get('lon')!r}"
            )
        if not isinstance(lat, float) or not -90 <= lat <= 90:
            problems.append(
                f"{columns['lat']}: expected a latitude in degrees, found {vals.get('lat')!r}"
            )
        tags: dict = {}
        try:
            if vals.get("tags"):
                tags = (
                    json.loads(vals.get("tags"))
                    if isinstance(vals.get("tags"), str)
                    else dict(vals.get("tags"))
                )
            for f, key in (("direction", "camera:direction"), ("camera_type", "camera:type")):
                value = vals.get(f)
                if value not in (None, "") and not (isinstance(value, float) and math.isnan(value)):
                    tags[key] = str(value)
            info = camera_from_tags(tags)
        except (InputError, json.JSONDecodeError, TypeError, ValueError) as exc:
            problems.append(str(exc))
            info = None
        if problems:
            report.add_error(row_no, "; ".join(problems))
            continue
        fov = _number(vals.get("fov")) if vals.get("fov") not in (None, "") else None
        rng = _number(vals.get("range_m")) if vals.get("range_m") not in (None, "") else None
        height = (
            _number(vals.get("mount_height"))
            if vals.get("mount_height") not in (None, "")
            else None
        )
        bearings = info["bearings"] or [None]
        fovs = info["fov_deg"] or [CAMERA_DEFAULTS[info["camera_type"]]["fov_deg"]]
        for k, (bearing, head_fov) in enumerate(zip(bearings, fovs, strict=True)):
            rows.append(
                {
                    "row": row_no,
                    "camera_id": cid if k == 0 else f"{cid}-{k + 1}",
                    "name": str(vals.get("name") or ""),
                    "lon": lon,
                    "lat": lat,
                    "bearing": bearing,
                    "fov": float(fov) if isinstance(fov, float) else float(head_fov),
                    "range_m": float(rng) if isinstance(rng, float) else float(info["range_m"]),
                    "mount_height": float(height) if isinstance(height, float) else 4.0,
                    "camera_type": info["camera_type"],
                }
            )
    if rows:
        _store_cameras(report, store, scope, rows, locator or Locator(store))
    return report


def _store_cameras(
    report: ImportReport, store: Store, scope: Scope, rows: list[dict], locator: Locator
) -> None:
    """Locate the cameras read, refuse those outside ``scope`` and store the others."""
    cams = pd.DataFrame(rows).drop_duplicates("camera_id", keep="last")
    cams["grid_code"] = [
        loc["grid_code"]
        for loc in locator.locate_many(cams["lon"].to_numpy(), cams["lat"].to_numpy())
    ]
    cams = _cameras_inside(report, store, scope, cams)
    if len(cams):
        known = set(store.cameras(scope=scope)["camera_id"])
        report.duplicates = int(cams["camera_id"].isin(known).sum())
        report.added = len(cams) - report.duplicates
        store.upsert_cameras(cams.drop(columns="row"), scope=scope)


def _cameras_inside(
    report: ImportReport, store: Store, scope: Scope, cams: pd.DataFrame
) -> pd.DataFrame:
    """The cameras placed inside ``scope`` whose ids are not another township's; the others are
    reported by row."""
    foreign = set(store.cameras_outside(cams["camera_id"].tolist(), scope=scope))
    keep = []
    for cam in cams.itertuples():
        if cam.camera_id in foreign:
            report.add_error(
                cam.row, f"{cam.camera_id}: a camera of another township than {_scope_name(scope)}"
            )
        elif not scope.contains(cam.grid_code):
            report.add_error(cam.row, f"{cam.camera_id}: placed outside {_scope_name(scope)}")
        keep.append(cam.camera_id not in foreign and scope.contains(cam.grid_code))
    return cams[keep]
