"""The codes of a report's multi-valued fields, as rows statistics can group and count in SQL.

A report's modus operandi, exploitation types, destination countries, actions taken and
documents live in its JSON body; :func:`facets_of` turns them into ``(facet, code)`` pairs that
``app.services.reports`` stores in ``report_facets`` whenever a version is submitted.
"""

from __future__ import annotations

from enum import StrEnum

from app.schemas.report import ReportIn


class Facet(StrEnum):
    """The kinds of code a report carries several of."""

    MODUS = "modus"
    EXPLOITATION_TYPE = "exploitation_type"
    DESTINATION_COUNTRY = "destination_country"
    ACTION = "action"
    #: A document's type (``PASSPORT_APPLICATION``), whatever its status.
    DOCUMENT_TYPE = "document_type"
    #: A document's type and status together (``PASSPORT_APPLICATION:DEFERRED``).
    DOCUMENT_STATUS = "document_status"


def document_status_code(document_type: str, status: str) -> str:
    """The ``document_status`` facet code of a document type in a status."""
    return f"{document_type}:{status}"


def facets_of(body: ReportIn) -> list[tuple[str, str]]:
    """Every (facet, code) pair of a report, each once, in a stable order."""
    pairs: list[tuple[str, str]] = []
    pairs.extend((Facet.MODUS.value, str(code)) for code in body.modus_operandi)
    pairs.extend((Facet.EXPLOITATION_TYPE.value, str(code)) for code in body.exploitation_types)
    pairs.extend((Facet.DESTINATION_COUNTRY.value, code) for code in body.destination_countries)
    pairs.extend((Facet.ACTION.value, str(code)) for code in body.actions_taken)
    for document in body.documents:
        pairs.append((Facet.DOCUMENT_TYPE.value, str(document.type)))
        if document.status is not None:
            pairs.append(
                (
                    Facet.DOCUMENT_STATUS.value,
                    document_status_code(str(document.type), str(document.status)),
                )
            )
    return list(dict.fromkeys(pairs))
