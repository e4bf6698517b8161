"""The actions panel of a case's card (layout factory, no side effects): one button per action
the signed-in user may take now (the lifecycle's next statuses, 督办, and "mark seen" for an
urgent case not yet acknowledged), a comment box and the list of whom to dispatch to (the
grid's workers and the county's departments).

The panel carries the case's ``version``: the action callback sends it to the store, which
refuses the action when someone changed the case in between (a conflict the card then shows).
"""

from __future__ import annotations

from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t
from wangge.casework import DEPARTMENTS, action_choices

__all__ = ["action_panel", "desk_choices"]


def _id(kind: str, where: str, **extra) -> dict:
    return {"type": kind, "where": where, **extra}


def desk_choices(case: dict, *, may_write: bool, workers: list[tuple[str, str]]) -> dict | None:
    """What the user may do to ``case`` now: ``actions`` (statuses it can move to), ``notes``
    (``urge`` while open; ``seen`` for an urgent case not yet seen), ``workers`` (id, name) of
    its grid to dispatch to, and ``names`` (worker id -> name); None when the user may not
    write (a planner, a wall).

    >>> case = {"status": "accepted", "level": "grid", "urgency": "urgent", "seen_at": None}
    >>> desk_choices(case, may_write=True, workers=[("W1", "李四")])["actions"]
    ['dispatched', 'escalated', 'returned']
    """
    if not may_write:
        return None
    notes = []
    if case["status"] != "closed":
        notes.append("urge")
    if case.get("urgency") == "urgent" and not case.get("seen_at"):
        notes.append("seen")
    return {
        "actions": action_choices(case["status"], case["level"]),
        "notes": notes,
        "workers": list(workers),
        "names": dict(workers),
    }


def _assignees(choices: dict, lang: str) -> list[dict]:
    workers = [
        {"label": t("act.worker", lang, name=name), "value": f"worker:{wid}"}
        for wid, name in choices["workers"]
    ]
    depts = [{"label": t(f"dept.{code}", lang), "value": f"dept:{code}"} for code in DEPARTMENTS]
    return workers + depts


def action_panel(case: dict, lang: str, choices: dict, *, where: str) -> html.Div:
    """The panel of the actions in ``choices`` (:func:`desk_choices`) on ``case``, in the card
    shown at ``where``."""
    buttons = [
        html.Button(
            t(f"act.{action}", lang),
            id=_id(ids.CASE_ACT, where, action=action),
            className="act-button" + (" act-note" if action in ("urge", "seen") else ""),
            n_clicks=0,
        )
        for action in [*choices["actions"], *choices["notes"]]
    ]
    dispatch = "dispatched" in choices["actions"]
    return html.Div(
        className="case-actions",
        children=[
            dcc.Store(
                id=_id(ids.CASE_ACT_STATE, where),
                data={
                    "case_id": case["case_id"],
                    "version": case["version"],
                    "lang": choices.get("lang", lang),
                },
            ),
            dcc.Dropdown(
                id=_id(ids.CASE_ACT_ASSIGNEE, where),
                options=_assignees(choices, lang),
                placeholder=t("act.assignee", lang),
                style={} if dispatch else {"display": "none"},
                className="act-assignee",
            ),
            dcc.Textarea(
                id=_id(ids.CASE_ACT_COMMENT, where),
                placeholder=t("act.comment", lang),
                className="act-comment",
                maxLength=2000,
            ),
            html.Div(buttons, className="act-buttons"),
        ],
    )
