"""The analysts' review queue (*Tinjauan kecocokan*): possible matches side by side, merge
(accept) or keep apart (reject), split an entity, and the resolution actions with undo.

Who may open these pages is exactly who may call ``/v1/admin/possible-matches``: analysts and
system admins of an agency with the admin scope (``Principal.curates``); anyone else gets the
console's 404. The routes call ``app.services.curation`` (as the API does) and
``app.services.match_review`` (what each record shows within need-to-know); every request is
audited as the officer, named like the API's operation (``resolution.decide`` …).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.audit_hook import AuditDep, RequestAudit
from app.api.deps import SessionDep, SettingsDep
from app.errors import Conflict, FieldProblem, InvalidInput, NotFound
from app.services import curation, match_review
from app.services.match_review import ReviewRecord
from app.web.forms import NO_ERRORS, FormErrors, form_errors
from app.web.messages import flash
from app.web.reasons import reasons_in_words
from app.web.report_pages import Words
from app.web.session import ConsoleOfficer, SignedInConsole, audited
from app.web.templating import catalogue_for, render
from app.web.work_pages import answered

router = APIRouter(include_in_schema=False)

QUEUE = "/tinjauan"
ACTIONS = "/tinjauan/tindakan"
PAIR = QUEUE + "/{match_id:uuid}"
SPLIT = QUEUE + "/entitas/{entity_id:uuid}/pisah"
UNDO = ACTIONS + "/{action_id:uuid}/urungkan"
PAGE_SIZE = 25
#: The candidate's records the pair page puts side by side (the split page lists them all).
CANDIDATE_COLUMNS = 6

#: The queue's filters as the page names them (``status``, ``urut``) and what the service takes.
STATUSES = ("open", "accepted", "rejected", "all")
ORDERS = {"terbaru": "newest", "skor": "score"}


async def _reviewer(request: Request, audit: AuditDep, officer: ConsoleOfficer) -> SignedInConsole:
    """A signed-in analyst or system admin who may curate; the console's 404 for anyone else.

    The request is audited as the officer under the route's name (``resolution.<route>``),
    refusals included.
    """
    route = request.scope.get("route")
    audited(request, audit, officer, f"resolution.{getattr(route, 'name', 'review')}")
    if not officer.principal.curates:
        raise NotFound(detail="No such page")
    return officer


Reviewer = Annotated[SignedInConsole, Depends(_reviewer)]


# --- the side-by-side table ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One record's value of one field: its words and how it compares with the first record's."""

    text: str
    #: ``same``, ``differs``, or empty (either side has no value, or this is the first record).
    compared: str = ""


@dataclass(frozen=True)
class FieldRow:
    label: str
    cells: list[Cell]
    #: A number read as one piece (NIK, passport, phone): never broken over two lines.
    identifier: bool = False


#: The rows of the side-by-side table: (label key, the fields it shows).
_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("review.field.full_name", ("full_name",)),
    ("review.field.aliases", ("aliases",)),
    ("review.field.sex", ("sex",)),
    ("review.field.birth", ("date_of_birth", "birth_year")),
    ("review.field.nationality", ("nationality",)),
    ("review.field.nik", ("nik",)),
    ("review.field.passport_number", ("passport_number",)),
    ("review.field.phone", ("phone",)),
    ("review.field.address", ("address",)),
)
#: Fields compared on their letters and digits alone ("C 1234567" and "c1234567" agree).
_IDENTIFIERS = {"nik", "passport_number", "phone"}


def _comparable(record: ReviewRecord, names: tuple[str, ...]) -> object:
    """What two records are compared on for one row (None: no value)."""
    values = record.fields
    if names == ("date_of_birth", "birth_year"):
        born = values.get("date_of_birth")
        if isinstance(born, str):
            return born[:10]
        return values.get("birth_year")
    value = values.get(names[0])
    if value in (None, "", []):
        return None
    if isinstance(value, list):
        return sorted(" ".join(str(v).casefold().split()) for v in value)
    text = str(value).casefold()
    if names[0] in _IDENTIFIERS:
        return "".join(ch for ch in text if ch.isalnum()).removeprefix("62").lstrip("0")
    return " ".join(text.replace(",", " ").replace(".", " ").split())


def _shown(words: Words, record: ReviewRecord, names: tuple[str, ...]) -> str:
    values = record.fields
    if names == ("date_of_birth", "birth_year"):
        if values.get("date_of_birth"):
            return words.value("persons.date_of_birth", values["date_of_birth"])
        return str(values.get("birth_year") or "")
    value = values.get(names[0])
    return "" if value in (None, "", []) else words.value(f"persons.{names[0]}", value)


def side_by_side(words: Words, records: list[ReviewRecord]) -> list[FieldRow]:
    """The identity fields of ``records`` row by row; each later record's value marked as the
    same as, or different from, the first record's (this is display, not matching)."""
    rows: list[FieldRow] = []
    for label, names in _ROWS:
        first = _comparable(records[0], names) if records else None
        cells: list[Cell] = []
        for i, record in enumerate(records):
            mine = _comparable(record, names)
            compared = ""
            if i > 0 and first is not None and mine is not None:
                compared = "same" if mine == first else "differs"
            cells.append(Cell(_shown(words, record, names), compared))
        if any(cell.text for cell in cells):
            rows.append(
                FieldRow(words.catalogue.text(label), cells, identifier=names[0] in _IDENTIFIERS)
            )
    return rows


def _record_words(words: Words, record: ReviewRecord) -> dict[str, Any]:
    """A record's heading parts in words: its role and when its report was made."""
    return {
        "record": record,
        "role": words.value("persons.role", record.role) if record.role else "",
        "reported": words.catalogue.date(record.reported_at) if record.reported_at else "",
    }


# --- the queue ----------------------------------------------------------------------------------


@router.get(QUEUE, response_class=HTMLResponse)
async def list_possible_matches(
    request: Request,
    audit: AuditDep,
    session: SessionDep,
    officer: Reviewer,
    status: Literal["open", "accepted", "rejected", "all"] = "open",
    urut: Literal["terbaru", "skor"] = "terbaru",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The possible matches awaiting review (or decided), newest or highest score first."""
    rows, next_cursor = await match_review.queue(
        session,
        officer.principal,
        None if status == "all" else status,
        order=ORDERS[urut],
        cursor=cursor,
        limit=PAGE_SIZE,
    )
    audit.object("possible_match", *(row.match.id for row in rows))
    audit.object("report", *(r.subject.report_id for r in rows if r.subject.report_id))
    words = catalogue_for(request)
    context = {
        "identity": officer.identity,
        "rows": [{"row": row, "reasons": reasons_in_words(words, row.reasons[:3])} for row in rows],
        "status": status,
        "order": urut,
        "statuses": STATUSES,
        "orders": tuple(ORDERS),
        "next_cursor": next_cursor,
        "paged": cursor is not None,
    }
    return render(request, "pages/review/queue.html", context)


@router.get("/admin/tinjauan")
async def admin_section(officer: Reviewer) -> RedirectResponse:
    """The system admin's section link (``SYSTEM_SECTIONS``) leads to the queue."""
    del officer
    return RedirectResponse(QUEUE, status_code=303)


# --- one pair -----------------------------------------------------------------------------------


async def _pair_page(
    request: Request,
    audit: RequestAudit,
    session: SessionDep,
    officer: SignedInConsole,
    match_id: uuid.UUID,
    *,
    template: str = "pair.html",
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    pair = await match_review.pair(session, officer.principal, match_id)
    audit.object("possible_match", pair.match.id).object(
        "report",
        *(r.report_id for r in [pair.subject, *pair.candidates] if r.report_id is not None),
    ).object("person", *(e for e in (pair.match.person_entity_id, pair.candidate_entity_id) if e))
    words = Words(request)
    candidates = pair.candidates[:CANDIDATE_COLUMNS]
    shown = [r for r in [pair.subject, *candidates] if r.shown]
    context = {
        "identity": officer.identity,
        "pair": pair,
        "reasons": reasons_in_words(words.catalogue, pair.reasons),
        "columns": [_record_words(words, r) for r in shown],
        "rows": side_by_side(words, shown),
        "more_candidates": len(pair.candidates) - len(candidates),
        "refused": None,
        **(extra or {}),
    }
    return render(request, f"pages/review/{template}", context, status_code=status_code)


@router.get(PAIR, response_class=HTMLResponse)
async def read_possible_match(
    request: Request, audit: AuditDep, match_id: uuid.UUID, session: SessionDep, officer: Reviewer
) -> Response:
    """Both records side by side, the reasons in words, and the decisions."""
    return await _pair_page(request, audit, session, officer, match_id)


#: The page paths of the two decisions.
_DECISIONS = {"gabungkan": "accept", "tolak": "reject"}


@router.get(PAIR + "/{choice:str}", response_class=HTMLResponse)
async def confirm_decision(
    request: Request,
    audit: AuditDep,
    match_id: uuid.UUID,
    choice: str,
    session: SessionDep,
    officer: Reviewer,
) -> Response:
    """Say what the decision will change before it is made (accepting is tried and undone)."""
    decision = _DECISIONS.get(choice)
    if decision is None:
        raise NotFound(detail="No such page")
    preview = None
    refused = None
    if decision == "accept":
        try:
            preview = await match_review.preview_accept(session, officer.principal.actor, match_id)
        except Conflict as conflict:
            refused = _conflict_words(request, conflict)
    return await _pair_page(
        request,
        audit,
        session,
        officer,
        match_id,
        template="decide.html",
        extra={"decision": decision, "choice": choice, "preview": preview, "refused": refused},
        status_code=409 if refused else 200,
    )


@router.post(PAIR + "/{choice:str}", response_class=HTMLResponse)
async def decide(
    request: Request,
    audit: AuditDep,
    match_id: uuid.UUID,
    choice: str,
    session: SessionDep,
    officer: Reviewer,
) -> Response:
    """Accept (the person joins the candidate's entity) or reject (the pair stays apart)."""
    decision = _DECISIONS.get(choice)
    if decision is None:
        raise NotFound(detail="No such page")
    try:
        # a savepoint: a decision refused halfway leaves nothing behind
        async with session.begin_nested():
            match, action = await curation.review(
                session, officer.principal.actor, match_id, decision
            )
    except Conflict as conflict:
        page = await _pair_page(
            request,
            audit,
            session,
            officer,
            match_id,
            extra={"refused": _conflict_words(request, conflict)},
            status_code=409,
        )
        return answered(audit, page)
    audit.object("possible_match", match.id)
    if action is None:
        return _back(request, QUEUE, "flash.review.rejected")
    audit.object("resolution_action", action.id)
    return _back(request, ACTIONS, "flash.review.accepted")


def _conflict_words(request: Request, conflict: Conflict) -> str:
    """A service's 409 in plain words (the known ones worded, any other as the service said)."""
    words = catalogue_for(request)
    detail = conflict.detail or ""
    for known, key in (
        ("already undone", "review.conflict.undone"),
        ("was already", "review.conflict.decided"),
        ("no longer exists", "review.conflict.gone"),
    ):
        if known in detail:
            return words.text(key)
    return words.text("review.conflict.other", detail=detail)


def _back(request: Request, path: str, message: str) -> RedirectResponse:
    response = RedirectResponse(path, status_code=303)
    flash(request, response, message)
    return response


# --- splitting an entity ------------------------------------------------------------------------


async def _split_page(
    request: Request,
    audit: RequestAudit,
    session: SessionDep,
    officer: SignedInConsole,
    entity_id: uuid.UUID,
    *,
    chosen: frozenset[uuid.UUID] = frozenset(),
    errors: FormErrors = NO_ERRORS,
    status_code: int = 200,
) -> HTMLResponse:
    entity = await match_review.entity_records(session, officer.principal, entity_id)
    audit.object("person", entity.entity_id).object(
        "report", *(r.report_id for r in entity.records if r.report_id is not None)
    )
    words = Words(request)
    context = {
        "identity": officer.identity,
        "entity": entity,
        "records": [
            {
                **_record_words(words, r),
                "birth": _shown(words, r, ("date_of_birth", "birth_year")),
                "chosen": r.person_id in chosen,
            }
            for r in entity.records
        ],
        "errors": errors,
        "back": _match_id_or_empty(request.query_params.get("kembali", "")),
    }
    return render(request, "pages/review/split.html", context, status_code=status_code)


def _match_id_or_empty(value: str) -> str:
    """The possible match a split page returns to (``?kembali=<id>``), only if it is an id."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return ""


@router.get(SPLIT, response_class=HTMLResponse)
async def split_form(
    request: Request, audit: AuditDep, entity_id: uuid.UUID, session: SessionDep, officer: Reviewer
) -> Response:
    """The entity's records, to choose those that are someone else."""
    return await _split_page(request, audit, session, officer, entity_id)


@router.post(SPLIT, response_class=HTMLResponse)
async def split_entity(
    request: Request,
    audit: AuditDep,
    entity_id: uuid.UUID,
    session: SessionDep,
    officer: Reviewer,
    catatan: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """The chosen records leave the entity and form a new one (undoable)."""
    chosen: set[uuid.UUID] = set()
    for value in catatan or []:
        try:
            chosen.add(uuid.UUID(value))
        except ValueError:
            continue
    try:
        async with session.begin_nested():
            action = await match_review.split(
                session, officer.principal, officer.principal.actor, entity_id, sorted(chosen)
            )
    except InvalidInput as refused:
        words = catalogue_for(request)
        problems = [
            replace(p, detail=words.text(f"review.split.error.{p.code}"))
            if words.has(f"review.split.error.{p.code}")
            else p
            for p in refused.errors
        ]
        page = await _split_page(
            request,
            audit,
            session,
            officer,
            entity_id,
            chosen=frozenset(chosen),
            errors=form_errors(problems),
            status_code=422,
        )
        return answered(audit, page)
    audit.object("resolution_action", action.id)
    return _back(request, ACTIONS, "flash.review.split")


# --- resolution actions and undo ----------------------------------------------------------------


@router.get(ACTIONS, response_class=HTMLResponse)
async def list_resolution_actions(
    request: Request,
    audit: AuditDep,
    session: SessionDep,
    settings: SettingsDep,
    officer: Reviewer,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Merges, splits and accepted matches, newest first, each with its undo."""
    del settings
    items, next_cursor = await curation.list_actions(
        session, actor=None, kind=None, cursor=cursor, limit=PAGE_SIZE
    )
    audit.object("resolution_action", *(item.id for item in items))
    context = {
        "identity": officer.identity,
        "actions": items,
        "next_cursor": next_cursor,
        "paged": cursor is not None,
    }
    return render(request, "pages/review/actions.html", context)


async def _undo_page(
    request: Request,
    session: SessionDep,
    officer: SignedInConsole,
    action_id: uuid.UUID,
    *,
    refused: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    detail = await match_review.action_detail(session, action_id)
    context = {"identity": officer.identity, "detail": detail, "refused": refused}
    return render(request, "pages/review/undo.html", context, status_code=status_code)


@router.get(UNDO, response_class=HTMLResponse)
async def confirm_undo(
    request: Request, action_id: uuid.UUID, session: SessionDep, officer: Reviewer
) -> Response:
    """Say what undoing puts back before doing it."""
    return await _undo_page(request, session, officer, action_id)


@router.post(UNDO, response_class=HTMLResponse)
async def undo(
    request: Request,
    audit: AuditDep,
    action_id: uuid.UUID,
    session: SessionDep,
    officer: Reviewer,
) -> Response:
    """Put back every value the action changed."""
    try:
        async with session.begin_nested():
            await curation.undo(session, action_id)
    except Conflict as conflict:
        page = await _undo_page(
            request,
            session,
            officer,
            action_id,
            refused=_conflict_words(request, conflict),
            status_code=409,
        )
        return answered(audit, page)
    return _back(request, ACTIONS, "flash.review.undone")


# --- merging entities or cases, splitting a case, by their ids ----------------------------------

MORE = QUEUE + "/lainnya"
#: Each form of the page: its catalogue prefix and its fields (name → JSON pointer of the service).
_MORE_FORMS: dict[str, tuple[str, ...]] = {
    "gabung-entitas": ("source_entity_id", "target_entity_id"),
    "gabung-kasus": ("source_case_id", "target_case_id"),
    "pisah-kasus": ("case_id", "report_ids"),
}


def _ids_in(text: str, pointer: str) -> tuple[list[uuid.UUID], list[FieldProblem]]:
    """The ids typed in a field (one or more, separated by spaces, commas or lines)."""
    ids: list[uuid.UUID] = []
    for part in text.replace(",", " ").split():
        try:
            ids.append(uuid.UUID(part))
        except ValueError:
            return [], [FieldProblem(pointer, "not an id", "not_an_id")]
    if not ids:
        return [], [FieldProblem(pointer, "missing", "missing")]
    return ids, []


async def _more_page(
    request: Request,
    officer: SignedInConsole,
    *,
    chosen: str | None = None,
    typed: dict[str, str] | None = None,
    problems: list[FieldProblem] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    words = catalogue_for(request)
    worded = [
        replace(p, detail=words.text(f"review.more.error.{p.code}"))
        if words.has(f"review.more.error.{p.code}")
        else p
        for p in problems or []
    ]
    context = {
        "identity": officer.identity,
        "more_forms": _MORE_FORMS,
        "chosen": chosen,
        "typed": typed or {},
        "errors": form_errors(worded) if worded else NO_ERRORS,
    }
    return render(request, "pages/review/more.html", context, status_code=status_code)


@router.get(MORE, response_class=HTMLResponse)
async def more_actions(request: Request, officer: Reviewer) -> Response:
    """Merge two entities or two cases, or split reports out of a case, named by their ids
    (as ``/v1/admin/entities/merge``, ``/v1/admin/cases/merge`` and ``…/cases/{id}/split``)."""
    return await _more_page(request, officer)


@router.post(MORE + "/{form:str}", response_class=HTMLResponse)
async def more_action(
    request: Request, form: str, audit: AuditDep, session: SessionDep, officer: Reviewer
) -> Response:
    """Do the chosen action (undoable from the actions list), or show the form again with each
    problem beside its field and what was typed kept."""
    fields = _MORE_FORMS.get(form)
    if fields is None:
        raise NotFound(detail="No such page")
    posted = await request.form()
    typed = {name: str(posted.get(name) or "").strip() for name in fields}
    parsed: dict[str, list[uuid.UUID]] = {}
    problems: list[FieldProblem] = []
    for name in fields:
        ids, wrong = _ids_in(typed[name], f"/{name}")
        parsed[name] = ids
        problems += wrong
        if not wrong and name != "report_ids" and len(ids) > 1:
            problems.append(FieldProblem(f"/{name}", "one id", "one_id"))
    actor = officer.principal.actor
    if not problems:
        try:
            async with session.begin_nested():
                if form == "gabung-entitas":
                    action = await curation.merge_entities(
                        session, actor, parsed[fields[0]][0], parsed[fields[1]][0]
                    )
                elif form == "gabung-kasus":
                    action = await curation.merge_cases(
                        session, actor, parsed[fields[0]][0], parsed[fields[1]][0]
                    )
                else:
                    action = await curation.split_case(
                        session, actor, parsed["case_id"][0], parsed["report_ids"]
                    )
        except InvalidInput as refused:
            # "/report_ids/3" (one of the typed ids) is shown beside the one report ids field
            problems = [
                replace(p, pointer="/report_ids") if p.pointer.startswith("/report_ids/") else p
                for p in refused.errors
            ]
        else:
            audit.object("resolution_action", action.id)
            return _back(request, ACTIONS, f"flash.review.more.{form}")
    page = await _more_page(
        request, officer, chosen=form, typed=typed, problems=problems, status_code=422
    )
    return answered(audit, page)
