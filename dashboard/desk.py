"""The desk's work on one case for the request's principal, shared by the pages that show a
case's card (the case list, the map): the card with the actions the principal may take
(:func:`desk_card`), an action done through the store's case rules under the principal's name
and in its scope (:func:`perform_action`), and a case as a row of the case list
(:func:`case_row`).

A page shows a case's card with its actions as
``card_frame(desk_card(case_id, lang, where=...), where=...)``
(:func:`dashboard.components.case_detail.card_frame`); the card's buttons are answered by
:func:`dashboard.pages.cases.act` on any page (its ids are pattern-matching ids keyed by
``where``).

Not a page and not a component: it reads the store of the running app (``current_app``) and the
signed-in principal, as callbacks do; the pages' callbacks call it.
"""

from __future__ import annotations

from dash import html
from flask import current_app

from dashboard.api import public_case
from dashboard.auth import current_principal, current_scope
from dashboard.components.case_actions import desk_choices
from dashboard.components.case_detail import assignee_label, case_card, local_time
from dashboard.i18n import normalise_lang, t
from wangge.access import Action, OutOfScope, may
from wangge.casework import ConflictError, TransitionError, ValidationError, parse_assignee
from wangge.validation import MAX_TEXT

__all__ = ["case_row", "desk_card", "perform_action", "unit_names"]


def unit_names(store, scope) -> dict:
    """Names of the townships and communities inside ``scope``, by code."""
    return {
        **dict(store.admin_units("community", scope=scope)[["code", "name"]].to_numpy()),
        **dict(store.admin_units("township", scope=scope)[["code", "name"]].to_numpy()),
    }


def case_row(case: dict, names: dict, lang: str) -> dict:
    """A case as a row of the grid: masked, with its labels in ``lang``."""
    c = public_case(case)
    c.update(
        reported_local=local_time(c["reported_at"]),
        deadline_local=local_time(c["deadline_at"]),
        category_label=t(f"category.{c['category']}", lang),
        status_label=t(f"status.{c['status']}", lang),
        level_label=t(f"level.{c['level']}", lang),
        urgency_label=t(f"urgency.{c['urgency']}", lang),
        assignee_label=assignee_label(c["assignee"], lang),
        township_name=names.get(c["township_code"], c["township_code"]),
        community_name=names.get(c["community_code"], c["community_code"]),
        overdue_label=t("cases.overdue", lang) if c["overdue"] else "",
    )
    c.pop("events", None)
    return c


def desk_card(case_id: str, lang: str, *, where: str, message=None) -> list | None:
    """The content of the card of ``case_id`` at ``where`` for this request's principal (with
    the actions it may take), or None when no such case lies in its scope."""
    store = current_app.config["WANGGE_STORE"]
    case = store.get_case(str(case_id), scope=current_scope())
    if case is None:
        return None
    workers = store.workers(scope=current_scope())
    mine = workers[workers["grid_code"] == case["grid_code"]]
    choices = desk_choices(
        case,
        may_write=may(current_principal(), Action.WRITE),
        workers=list(zip(mine["worker_id"], mine["name"], strict=True)),
    )
    case = public_case(case)
    if choices is not None:
        choices["lang"] = lang
    return case_card(case, lang, where=where, choices=choices, message=message)


def perform_action(action: str, state: dict, comment: str | None, assignee: str | None):
    """Do ``action`` (a status to move to, ``urge`` or ``seen``) on the case of ``state``
    ({case_id, version, lang}) as this request's principal: through the store's case rules, in
    its scope, under its name. Returns (case, message): the case as stored now (None when it
    is not in the scope) and the outcome to show."""
    lang = normalise_lang(state.get("lang"))
    principal = current_principal()
    store = current_app.config["WANGGE_STORE"]
    comment = (comment or "").strip()[:MAX_TEXT]
    case_id, scope = str(state.get("case_id")), current_scope()
    try:
        if not may(principal, Action.WRITE):
            raise OutOfScope(t("act.readonly", lang))
        version = int(state.get("version") or 0) or None
        if action in ("urge", "seen"):
            if action == "urge" and not comment:
                raise ValidationError({"comment": t("act.need_note", lang)})
            # as POST /api/v1/cases/{id}/urge and /seen do
            store.note_case(
                case_id, action, scope=scope, actor=principal.name, comment=comment, version=version
            )
        else:
            if action == "dispatched" and not assignee:
                raise ValidationError({"assignee": t("act.need_assignee", lang)})
            store.transition_case(
                case_id,
                action,
                scope=scope,
                actor=principal.name,
                comment=comment,
                version=int(state.get("version") or 0),
                assignee=parse_assignee(assignee) if action == "dispatched" else "",
            )
        message = _message(t("act.done", lang, action=t(f"act.{action}", lang)), "act-ok")
    except ConflictError as exc:
        status = t(f"status.{exc.status}", lang)
        text = t("act.conflict", lang, who=exc.actor, time=local_time(exc.at), status=status)
        message = _message(text, "act-conflict")
    except ValidationError as exc:
        message = _message(t("act.refused", lang, reason="; ".join(exc.errors.values())), "act-err")
    except KeyError:  # not in the scope: say nothing of it
        message = _message(t("act.refused", lang, reason=t("cases.gone", lang)), "act-err")
    except (TransitionError, OutOfScope) as exc:
        message = _message(t("act.refused", lang, reason=str(exc)), "act-err")
    return store.get_case(case_id, scope=scope), message


def _message(text: str, cls: str) -> html.Div:
    return html.Div(text, className=f"act-message {cls}", role="status")
