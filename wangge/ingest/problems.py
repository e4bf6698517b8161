"""The report of a county or grid import: every problem found, each naming the file, the feature
and the field, and the notes on what was converted or estimated on the way in.

Imports of reference data validate everything before anything is stored and refuse the whole
import when any problem is found (:class:`ImportRefused`, carrying the report), so that the
county's GIS officer fixes every problem in one round.

Examples
--------
>>> report = ImportReport("county import")
>>> report.add("townships.gpkg:townships", "code 341122100000", "name", "the name is missing")
>>> report.note("households estimated for 12 buildings")
>>> print(report.summary())
county import: 1 problem
  townships.gpkg:townships: code 341122100000: name: the name is missing
notes:
  households estimated for 12 buildings
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ImportRefused", "ImportReport", "Problem"]


@dataclass(frozen=True)
class Problem:
    """One problem: where (``file``, ``feature``, ``field``) and what (``message``)."""

    file: str
    feature: str
    field: str
    message: str

    def __str__(self) -> str:
        return ": ".join(
            part for part in (self.file, self.feature, self.field, self.message) if part
        )


@dataclass
class ImportReport:
    """Problems, notes and counts of one import.

    Parameters
    ----------
    title
        What was imported, e.g. ``county import``.
    """

    title: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    #: Problems shown by :meth:`summary` (all of them are in :meth:`to_dict`).
    SHOWN = 500

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def add(self, file: str, feature: str, field: str, message: str) -> None:
        """Record a problem of ``feature`` (e.g. ``code 341122100101``, ``row 7``) in ``field``
        of ``file``."""
        self.problems.append(Problem(str(file), str(feature), str(field), message))

    def note(self, text: str) -> None:
        """Record something done on the way in (a conversion, an estimate, a default)."""
        if text not in self.notes:
            self.notes.append(text)

    def summary(self) -> str:
        """The report as text: the problems (up to :data:`SHOWN`), the counts and the notes."""
        n = len(self.problems)
        head = f"{self.title}: {n} problem{'s' if n != 1 else ''}" if n else f"{self.title}: ok"
        lines = [head]
        lines += [f"  {p}" for p in self.problems[: self.SHOWN]]
        if n > self.SHOWN:
            lines.append(f"  ... and {n - self.SHOWN} more")
        if self.counts:
            lines.append("stored: " + ", ".join(f"{k} {v:,}" for k, v in self.counts.items()))
        if self.notes:
            lines.append("notes:")
            lines += [f"  {text}" for text in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The whole report as plain data (for ``--json``)."""
        return {
            "title": self.title,
            "ok": self.ok,
            "problems": [vars(p) | {"text": str(p)} for p in self.problems],
            "notes": list(self.notes),
            "counts": dict(self.counts),
        }


class ImportRefused(ValueError):
    """An import refused because of the problems in ``report``; nothing was stored."""

    def __init__(self, report: ImportReport):
        super().__init__(report.summary())
        self.report = report
