"""The dashboard's callbacks stay thin adapters: parse, call into wangge.services or the store,
serialise (house style: callbacks under 30 lines, functions under 80)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _functions():
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield path.relative_to(ROOT), node


def _is_callback(node: ast.FunctionDef) -> bool:
    return any(
        isinstance(d, ast.Call) and getattr(d.func, "id", getattr(d.func, "attr", "")) == "callback"
        for d in node.decorator_list
    )


def test_callbacks_are_under_30_lines():
    callbacks = [(path, node) for path, node in _functions() if _is_callback(node)]
    assert len(callbacks) > 10, "the scan found too few callbacks: the pattern is wrong"
    long = [
        f"{path}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path, node in callbacks
        if node.end_lineno - node.lineno + 1 > 30
    ]
    assert long == []


def test_functions_are_under_80_lines():
    long = [
        f"{path}:{node.lineno} {node.name}"
        for path, node in _functions()
        if node.end_lineno - node.lineno + 1 > 80
    ]
    assert long == []
