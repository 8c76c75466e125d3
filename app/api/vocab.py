"""``/v1/vocab``: the code lists, public and cacheable, so agency forms can fill their dropdowns."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query
from starlette.responses import Response

from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.errors import NotFound
from app.schemas.vocab import (
    CodeListIndex,
    CodeListOut,
    CodeListSummary,
    CodeOut,
    code_list_summary,
)
from app.vocab import Code, UnknownCodeList, all_code_lists, code_list

router = APIRouter(
    prefix="/v1/vocab",
    tags=["vocab"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)

#: Code lists change only with a release; an hour is a fair time for a form to keep them.
CACHE_CONTROL = "public, max-age=3600"


def _code_out(code: Code) -> CodeOut:
    return CodeOut(
        code=code.code,
        label_id=code.label_id,
        label_en=code.label_en,
        description=code.description,
        kind=code.attributes.get("kind"),
        parent=code.attributes.get("parent"),
    )


@cache
def _index_body() -> bytes:
    index = CodeListIndex(
        items=[CodeListSummary(**code_list_summary(name)) for name in all_code_lists()]
    )
    return orjson.dumps(index.model_dump(mode="json"))


@cache
def _list_body(name: str, parent: str | None) -> bytes:
    codes = [
        _code_out(c)
        for c in code_list(name).codes
        if parent is None or c.attributes.get("parent") == parent
    ]
    body = CodeListOut(**code_list_summary(name), codes=codes)
    body.count = len(codes)
    return orjson.dumps(body.model_dump(mode="json", exclude_none=True))


def _cacheable(body: bytes, if_none_match: str | None) -> Response:
    """The body with a strong ETag, or 304 when the caller already holds it."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if if_none_match is not None:
        offered = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        if etag in offered or "*" in offered:
            return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)


IfNoneMatch = Annotated[
    str | None,
    Header(description="An ETag from an earlier answer: 304 Not Modified when unchanged."),
]


@router.get(
    "",
    summary="List the code lists",
    response_model=CodeListIndex,
    status_code=200,
    responses={304: {"description": "Not modified (If-None-Match matched the ETag)"}},
)
async def list(if_none_match: IfNoneMatch = None) -> Response:
    """Every controlled vocabulary: its name, labels and size. Public; cacheable with ETag."""
    return _cacheable(_index_body(), if_none_match)


@router.get(
    "/{name}",
    summary="Read one code list",
    response_model=CodeListOut,
    response_model_exclude_none=True,
    status_code=200,
    responses={
        304: {"description": "Not modified (If-None-Match matched the ETag)"},
        **problem_responses(404, 422),
    },
)
async def read(
    name: str,
    parent: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{2}$",
            description="Regions only: the regencies and cities of this province (`14` Riau).",
        ),
    ] = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """One vocabulary with every code and its Indonesian and English labels. Public; cacheable."""
    try:
        body = _list_body(name, parent)
    except UnknownCodeList:
        names = ", ".join(all_code_lists())
        raise NotFound(detail=f"No code list called {name!r}; the lists are: {names}") from None
    return _cacheable(body, if_none_match)
