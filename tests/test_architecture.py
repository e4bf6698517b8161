"""The architecture rules of issue 10, read from the source (ast; nothing is imported).

Every module of ``geo``, ``wangge`` and ``dashboard`` is parsed and all its imports are
collected, module-level and function-level alike. The rules:

* no import cycle between the project's own modules (a cycle made only of package
  ``__init__`` modules re-exporting their children is allowed);
* no import of another module's private ``_name`` (shared internals get a public name in a
  module of their own);
* ``geo`` is a library: it never imports Dash, dash-leaflet, Flask, ``wangge`` or
  ``dashboard``; ``wangge`` (the application core) never imports Dash or ``dashboard``.

A failure names the offending import with its file and line, and for a cycle the whole chain.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "wangge", "dashboard")

#: Imports a package must never make (by the imported top-level name), anywhere in it.
FORBIDDEN = {
    "geo": ("dash", "dash_leaflet", "flask", "wangge", "dashboard"),
    "wangge": ("dash", "dash_leaflet", "dashboard"),
}

#: Known offenders in other rooms, tolerated for now: ``"importer -> imported"`` (modules),
#: or ``"importer -> imported:_name"`` for a private name. An allowed import is left out of
#: every rule (so a cycle through it is not reported). The lead empties this list (issue 10).
KNOWN_OFFENDERS: frozenset[str] = frozenset(
    {
        # `wangge serve` starts the dashboard: the composition root reaches up, lazily
        "wangge.cli -> dashboard.app",
    }
)


@dataclass(frozen=True)
class Import:
    """One imported module (and name) of one module, where it is written."""

    module: str
    target: str  # the project module imported (a submodule when ``from pkg import sub``)
    name: str | None  # the name imported from ``target`` (None: the module itself)
    where: str  # path:line

    @property
    def key(self) -> str:
        return f"{self.module} -> {self.target}" + (f":{self.name}" if self.name else "")


def modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted name -> file of every module of ``packages`` under ``root``."""
    out = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(root: Path, packages: Iterable[str]) -> tuple[list[Import], list[Import]]:
    """The imports of the project's own modules, and those of anything else (external)."""
    mods = modules(root, packages)

    def owner(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    own: list[Import] = []
    external: list[Import] = []
    for module, path in mods.items():
        rel = path.relative_to(root)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{rel}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = owner(alias.name)
                    rows = own if target else external
                    rows.append(Import(module, target or alias.name, None, where))
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, path, node)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    if sub in mods:  # from pkg import submodule
                        own.append(Import(module, sub, None, where))
                    elif owner(base):
                        own.append(Import(module, owner(base) or base, alias.name, where))
                    else:
                        external.append(Import(module, base, alias.name, where))
    return own, external


def cycles(edges: list[Import], mods: dict[str, Path]) -> list[list[Import]]:
    """One cycle (as its chain of imports) per strongly connected group of modules."""
    graph: dict[str, dict[str, Import]] = {}
    for imp in edges:
        if imp.target != imp.module:
            graph.setdefault(imp.module, {}).setdefault(imp.target, imp)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def strong(v: str) -> None:  # Tarjan, iterative enough for a few hundred modules
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, {}):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 and not all(mods[m].name == "__init__.py" for m in group):
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return [_chain(graph, group) for group in groups]


def _chain(graph: dict[str, dict[str, Import]], group: list[str]) -> list[Import]:
    """The shortest cycle through the first module of ``group``, as imports."""
    start, members = group[0], set(group)
    paths: dict[str, list[Import]] = {start: []}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w, imp in sorted(graph.get(v, {}).items()):
            if w == start:
                return paths[v] + [imp]
            if w in members and w not in paths:
                paths[w] = paths[v] + [imp]
                queue.append(w)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover


def describe(chain: list[Import]) -> str:
    return " -> ".join(f"{imp.module} ({imp.where})" for imp in chain) + f" -> {chain[0].module}"


def private_imports(own: list[Import]) -> list[Import]:
    return [
        imp
        for imp in own
        if imp.name
        and imp.name.startswith("_")
        and not imp.name.startswith("__")
        and imp.target != imp.module
    ]


def forbidden_imports(own: list[Import], external: list[Import]) -> list[Import]:
    return [
        imp
        for imp in own + external
        if imp.target.split(".")[0] in FORBIDDEN.get(imp.module.split(".")[0], ())
    ]


def _allowed(imp: Import) -> bool:
    return imp.key in KNOWN_OFFENDERS or f"{imp.module} -> {imp.target}" in KNOWN_OFFENDERS


@pytest.fixture(scope="module")
def project() -> tuple[list[Import], list[Import], dict[str, Path]]:
    own, external = imports(ROOT, PACKAGES)
    return own, external, modules(ROOT, PACKAGES)


def test_no_import_cycles(project):
    own, _, mods = project
    found = cycles([imp for imp in own if not _allowed(imp)], mods)
    assert not found, "import cycles:\n" + "\n".join(describe(c) for c in found)


def test_no_private_names_imported_across_modules(project):
    own, _, _ = project
    found = [imp for imp in private_imports(own) if not _allowed(imp)]
    assert not found, "private names imported from another module:\n" + "\n".join(
        f"{imp.where}: {imp.name} from {imp.target}" for imp in found
    )


def test_geo_is_a_library_and_wangge_never_imports_the_ui(project):
    own, external, _ = project
    found = [imp for imp in forbidden_imports(own, external) if not _allowed(imp)]
    assert not found, "forbidden imports:\n" + "\n".join(
        f"{imp.where}: {imp.module} imports {imp.target}" for imp in found
    )


def test_known_offenders_still_exist(project):
    """An entry of the allow-list that no longer matches anything must be removed."""
    own, external, _ = project
    keys = {imp.key for imp in own + external} | {
        f"{imp.module} -> {imp.target}" for imp in own + external
    }
    stale = sorted(KNOWN_OFFENDERS - keys)
    assert not stale, f"KNOWN_OFFENDERS lists imports that are gone: {stale}"


def test_the_walker_finds_cycles_private_names_and_forbidden_imports(tmp_path):
    """The rules catch what they are for (function-level imports included)."""
    pkg = tmp_path / "geo"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from geo.b import _helper\n")
    (pkg / "b.py").write_text("def f():\n    from geo import c\n    import dash\n")
    (pkg / "c.py").write_text("from . import a\n")
    own, external = imports(tmp_path, ["geo"])
    mods = modules(tmp_path, ["geo"])
    [chain] = cycles(own, mods)
    assert describe(chain) == (
        "geo.a (geo/a.py:1) -> geo.b (geo/b.py:2) -> geo.c (geo/c.py:1) -> geo.a"
    )
    assert [(i.where, i.name) for i in private_imports(own)] == [("geo/a.py:1", "_helper")]
    assert [(i.where, i.target) for i in forbidden_imports(own, external)] == [
        ("geo/b.py:3", "dash")
    ]
