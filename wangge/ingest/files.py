"""Imports of operational data from files: cases (CSV, Excel), cameras (CSV, GeoJSON, OSM) and
patrol GPS tracks (CSV, GPX).

Every importer validates each row, keeps the good rows, and reports the bad ones by row number
(the spreadsheet row: the header is row 1) with the reason. Importing the same file twice adds
nothing: cases are keyed by the file's own id column, or by a hash of the row when it has none;
GPS fixes by worker and time; cameras by id (updated in place).

Hotline (12345) exports carry Chinese headers; :data:`CASE_HEADERS` lists the names recognised
for each field, and ``mapping`` (source header -> field) overrides or extends them. Naive times
are read in ``timezone`` (default :data:`wangge.clock.COUNTY_TZ`, the command centres' clock).
地址 is a case's ``address``, 紧急程度 its ``urgency`` (:data:`URGENCY_LABELS`: empty is normal).

Every importer takes the importing principal's ``scope`` (:class:`wangge.access.Scope`: the
CLI passes ``Scope.county()``, the HTTP import the token's scope). A row outside it is refused
and reported by its row number: a case located in another township, a GPS fix of another
township's worker, a camera placed in another township or whose id is another township's.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import math
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from wangge import clock
from wangge.access import Scope
from wangge.casework import CATEGORIES, SOURCES, ValidationError, validate_new_case
from wangge.services.locate import Locator
from wangge.store import Store
from wangge.validation import CAMERA, PATROL_POINT

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
    "zone",
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
    **dict.fromkeys(("", "normal", "一般", "普通", "否"), "normal"),
    **dict.fromkeys(("urgent", "紧急", "特急", "加急", "是"), "urgent"),
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

#: Most rows one file may have (cases, cameras, GPS fixes); a larger file is split.
MAX_ROWS = 200_000
#: Most bytes one member of an .xlsx (a sheet's XML) may expand to.
MAX_XLSX_MEMBER = 256 * 1024 * 1024
#: Most bytes an .xlsx may expand to in all.
MAX_XLSX_TOTAL = 384 * 1024 * 1024
#: Most bytes the shared strings of an .xlsx may expand to (openpyxl holds them in memory).
MAX_SHARED_STRINGS = 32 * 1024 * 1024


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
    """A CSV (UTF-8, UTF-8 with BOM, or GBK/GB18030, detected) or Excel sheet, all as text.

    Bounded: at most :data:`MAX_ROWS` rows; an Excel file is checked before it is parsed
    (:func:`check_xlsx`) and its sheet streamed row by row (openpyxl's read-only mode), so a
    crafted file cannot make the reader hold more than a few times the caps in memory.
    ValueError naming the file and what is wrong otherwise.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        frame = _read_xlsx(path, sheet)
    elif suffix in (".csv", ".txt", ".tsv"):
        frame = _read_csv(path, "\t" if suffix == ".tsv" else ",", encoding)
    else:
        raise ValueError(f"{path}: unsupported file type {suffix!r}; expected .csv, .tsv or .xlsx")
    if len(frame) > MAX_ROWS:
        raise ValueError(f"{path}: more than {MAX_ROWS:,} rows; split the file")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.fillna("")


def _read_csv(path: Path, sep: str, encoding: str | None) -> pd.DataFrame:
    """A delimited text file, all as text, at most :data:`MAX_ROWS` + 1 rows read."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(
                f"unknown encoding {encoding!r}; expected e.g. utf-8, gbk or gb18030"
            ) from None
    for enc in [encoding] if encoding else ["utf-8-sig", "gb18030"]:
        try:
            return pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                encoding=enc,
                sep=sep,
                nrows=MAX_ROWS + 1,
            )
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserError as exc:
            raise ValueError(f"{path}: not a readable table ({exc})") from None
        except pd.errors.EmptyDataError:
            raise ValueError(f"{path}: the file is empty") from None
    raise ValueError(f"{path}: not UTF-8 or GB18030 text; pass the encoding (--encoding)")


def check_xlsx(path: Path) -> None:
    """Refuse an Excel file that would expand beyond the caps, before any XML is parsed.

    The zip directory's declared sizes are checked first (a member above
    :data:`MAX_XLSX_MEMBER`, the shared strings above :data:`MAX_SHARED_STRINGS`, all members
    above :data:`MAX_XLSX_TOTAL`), then every member is decompressed as a stream, counting
    bytes, so a directory that lies about the sizes is caught too (zipfile also stops at the
    declared size and checks the CRC). openpyxl reads the shared strings whole into memory even
    in read-only mode, hence their lower cap; the sheets themselves are streamed.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
            _check_declared(path, members)
            total = 0
            for info in members:
                cap = _member_cap(info.filename)
                size = 0
                with zf.open(info) as fh:
                    while chunk := fh.read(1 << 20):
                        size += len(chunk)
                        total += len(chunk)
                        if size > cap or total > MAX_XLSX_TOTAL:
                            raise ValueError(
                                f"{path}: {info.filename} expands beyond {cap:,} bytes; the "
                                "file is refused"
                            )
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{path}: not an Excel .xlsx file ({exc})") from None


def _member_cap(name: str) -> int:
    return MAX_SHARED_STRINGS if name.lower().endswith("sharedstrings.xml") else MAX_XLSX_MEMBER


def _check_declared(path: Path, members: list[zipfile.ZipInfo]) -> None:
    total = sum(m.file_size for m in members)
    for m in members:
        if m.file_size > _member_cap(m.filename):
            raise ValueError(
                f"{path}: {m.filename} declares {m.file_size:,} bytes uncompressed, more than "
                f"the {_member_cap(m.filename):,} accepted; split the file or save it as CSV"
            )
    if total > MAX_XLSX_TOTAL:
        raise ValueError(
            f"{path}: the file expands to {total:,} bytes, more than the {MAX_XLSX_TOTAL:,} "
            "accepted; split it or save it as CSV"
        )


def _read_xlsx(path: Path, sheet: str | int | None) -> pd.DataFrame:
    """The sheet ``sheet`` (name or index; default the first) of an Excel file, streamed."""
    import openpyxl

    check_xlsx(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise ValueError(f"{path}: not a readable Excel workbook ({exc})") from None
    try:
        if sheet is None or isinstance(sheet, int):
            sheets = book.worksheets
            index = sheet or 0
            if not 0 <= index < len(sheets):
                raise ValueError(
                    f"{path}: cannot read sheet {sheet!r}: the workbook has {len(sheets)}"
                )
            ws = sheets[index]
        elif sheet in book.sheetnames:
            ws = book[sheet]
        else:
            raise ValueError(
                f"{path}: cannot read sheet {sheet!r}: the sheets are {book.sheetnames}"
            )
        rows = ws.iter_rows(values_only=True)
        header = [_cell(v) for v in next(rows, ())]
        data = []
        for values in rows:
            if len(data) >= MAX_ROWS:
                raise ValueError(f"{path}: more than {MAX_ROWS:,} rows; split the file")
            cells = [_cell(v) for v in values[: len(header)]]
            if any(cells):
                data.append(cells + [""] * (len(header) - len(cells)))
    finally:
        book.close()
    return pd.DataFrame(data, columns=_unique(header, path))


def _cell(value: object) -> str:
    """An Excel cell as text, the way pandas' ``dtype=str`` wrote it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _unique(header: list[str], path: Path) -> list[str]:
    """Header names, blank ones named ``Unnamed: n`` and repeats ``name.1`` (as pandas does)."""
    out: list[str] = []
    for n, name in enumerate(header):
        name = name.strip() or f"Unnamed: {n}"
        base, k = name, 0
        while name in out:
            k += 1
            name = f"{base}.{k}"
        out.append(name)
    if not out:
        raise ValueError(f"{path}: the sheet is empty")
    return out


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


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ValueError saying what is expected when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; expected an IANA name such as Asia/Shanghai or UTC"
        ) from None


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
        return clock.stamp(clock.check_range(dt))

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
    parse_time = _time_parser(zone(timezone))
    now = clock.utc_now()
    good: list[dict] = []
    good_rows: list[int] = []
    seen: dict[str, int] = {}
    labels = {"category": CATEGORY_LABELS, "source": SOURCE_LABELS, "urgency": URGENCY_LABELS}
    for i, raw in enumerate(frame.to_dict("records")):
        row_no = i + 2
        body: dict = {f: raw[c] for f, c in columns.items()}
        body.update(constants)
        try:
            for field, words in labels.items():  # the exports' words -> codes
                if field in body:
                    body[field] = words.get(str(body[field]).strip().lower(), body[field])
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
    parse_time = _time_parser(zone(timezone))
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
        fix: dict = {"worker_id": who or None}
        try:
            fix["at"] = parse_time(str(raw.get(columns["at"], "")))
        except ValueError as exc:
            problems.append(f"{columns['at']}: {exc}")
        for f in ("lon", "lat", "accuracy"):
            text = raw.get(columns[f], "") if f in columns else ""
            fix[f] = _number(text) if str(text).strip() else None
        values, bad = PATROL_POINT.problems(fix)
        problems += [
            f"{columns.get(f, f)}: {why}" for f, why in bad.items() if f not in ("worker_id", "at")
        ]
        if problems:
            report.add_error(
                int(label.split()[-1]) if label.startswith("row") else 0,
                f"{label}: " + "; ".join(problems),
            )
            continue
        points.append((who, values["at"], values["lon"], values["lat"], values["accuracy"]))
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
    from geo.analytics.cameras import camera_from_tags
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
        heads = _camera_heads(cid, vals, info, lon, lat)
        bad = {}
        for head in heads:
            bad.update(CAMERA.problems(head)[1])
        if bad:
            report.add_error(row_no, "; ".join(f"{columns.get(f, f)}: {w}" for f, w in bad.items()))
            continue
        rows += [{"row": row_no, **head} for head in heads]
    if rows:
        _store_cameras(report, store, scope, rows, locator or Locator(store))
    return report


def _camera_heads(cid: str, vals: dict, info: dict, lon: float, lat: float) -> list[dict]:
    """The cameras of one row, one per head (:data:`wangge.validation.CAMERA`'s fields): field
    of view, range and mount height from the row when given, else from the camera's type."""
    from geo.analytics.cameras import CAMERA_DEFAULTS

    given = {
        f: _number(vals[f]) if vals.get(f) not in (None, "") else None
        for f in ("fov", "range_m", "mount_height")
    }
    bearings = info["bearings"] or [None]
    fovs = info["fov_deg"] or [CAMERA_DEFAULTS[info["camera_type"]]["fov_deg"]]
    return [
        {
            "camera_id": cid if k == 0 else f"{cid}-{k + 1}",
            "name": str(vals.get("name") or ""),
            "lon": lon,
            "lat": lat,
            "bearing": bearing,
            "fov": given["fov"] if given["fov"] is not None else float(head_fov),
            "range_m": given["range_m"] if given["range_m"] is not None else float(info["range_m"]),
            "mount_height": given["mount_height"] if given["mount_height"] is not None else 4.0,
            "camera_type": info["camera_type"],
        }
        for k, (bearing, head_fov) in enumerate(zip(bearings, fovs, strict=True))
    ]


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
