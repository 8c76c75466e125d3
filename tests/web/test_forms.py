"""Form macros and error mapping: a label per field, the error beside it and in the summary."""

from __future__ import annotations

import re

from app.errors import FieldProblem
from app.web.forms import NO_ERRORS, field_id, form_errors
from app.web.i18n import Language, catalogue
from app.web.templating import environment

_PAGE = """
{% import "macros/forms.html" as forms with context %}
{{ forms.error_summary(errors) }}
{{ forms.field("persons-0-full_name", "persons[0][full_name]", "Nama lengkap",
               value=typed, hint="Seperti di KTP", error=errors.get("persons-0-full_name")) }}
{{ forms.field("persons-0-nik", "persons[0][nik]", "NIK", error=errors.get("persons-0-nik"),
               inputmode="numeric") }}
{{ forms.select("case_type", "case_type", "Jenis kasus", [("TPPO", "TPPO"), ("TPPM", "TPPM")],
                value="TPPM", error=errors.get("case_type")) }}
{{ forms.textarea("narrative", "narrative", "Kronologi", value=typed) }}
"""


def _render(errors: object, typed: str) -> str:
    template = environment().from_string(_PAGE)
    return template.render(t=catalogue(Language.ID).text, errors=errors, typed=typed)


def test_json_pointers_become_field_ids() -> None:
    assert field_id("/persons/0/full_name") == "persons-0-full_name"
    assert field_id("/location/region_code") == "location-region_code"
    assert field_id("/a~1b/c~0d") == "a-b-c-d"
    assert field_id("") == "form"


def test_each_field_shows_its_first_error_and_the_summary_links_to_it() -> None:
    errors = form_errors(
        [
            FieldProblem(pointer="/persons/0/nik", detail="NIK harus 16 angka"),
            FieldProblem(pointer="/persons/0/nik", detail="second problem"),
            FieldProblem(pointer="/case_type", detail="Pilih jenis kasus"),
        ]
    )
    html = _render(errors, typed="Siti <Aminah>")

    assert "Ada yang perlu diperbaiki" in html
    summary = html[html.index("error-summary") : html.index("</ul>")]
    assert re.findall(r'href="#([^"]+)"', summary) == ["persons-0-nik", "case_type"]
    assert "second problem" not in html
    nik = html[html.index('id="persons-0-nik-error"') :]
    assert nik.index("NIK harus 16 angka") < nik.index('<input class="input" id="persons-0-nik"')
    assert 'aria-describedby="persons-0-nik-error"' in html
    assert 'aria-invalid="true"' in html
    assert 'inputmode="numeric"' in html
    # nothing typed is lost, and it is escaped
    assert 'value="Siti &lt;Aminah&gt;"' in html
    assert ">Siti &lt;Aminah&gt;</textarea>" in html
    assert '<option value="TPPM" selected>' in html
    assert '<label class="field__label" for="persons-0-full_name">Nama lengkap</label>' in html
    assert 'aria-describedby="persons-0-full_name-hint"' in html


def test_a_form_without_errors_has_no_summary() -> None:
    html = _render(NO_ERRORS, typed="")
    assert "error-summary" not in html
    assert "aria-invalid" not in html
