"""A routing rule in words (app/web/routing_words.py): what the admin console says it does."""

from __future__ import annotations

from app.services.routing import RuleSpec
from app.web.i18n import Language, catalogue
from app.web.routing_words import rule_in_words

ID = catalogue(Language.ID)
EN = catalogue(Language.EN)

MIGRANT_WORKERS = RuleSpec(
    name="pmi-nonprosedural",
    recipients=("BP3MI-RIAU", "DISNAKER-DUMAI"),
    case_types=frozenset({"TPPO"}),
    modus_operandi=frozenset({"NONPROCEDURAL_MIGRANT_WORKER"}),
)


def test_the_issue_example_reads_in_both_languages_with_the_code_lists_labels() -> None:
    assert rule_in_words(MIGRANT_WORKERS, ID) == (
        "Laporan TPPO dengan modus PMI nonprosedural dikirim ke BP3MI-RIAU, DISNAKER-DUMAI."
    )
    assert rule_in_words(MIGRANT_WORKERS, EN) == (
        "TPPO reports with modus non-procedural migrant worker (outside UU 18/2017) "
        "go to BP3MI-RIAU, DISNAKER-DUMAI."
    )


def test_a_rule_without_conditions_or_naming_every_case_type_is_every_report() -> None:
    bare = RuleSpec(name="semua", recipients=("POLRES-DUMAI",))
    assert rule_in_words(bare, ID) == "Semua laporan dikirim ke POLRES-DUMAI."
    every = RuleSpec(
        name="penyidikan",
        recipients=("POLRES-DUMAI",),
        case_types=frozenset({"TPPO", "TPPM", "TPPO_TPPM", "UNDETERMINED"}),
    )
    assert rule_in_words(every, EN) == "All reports go to POLRES-DUMAI."


def test_every_condition_is_said_in_order_and_joined_by_and() -> None:
    rule = RuleSpec(
        name="lengkap",
        recipients=("IMIGRASI-DUMAI",),
        case_types=frozenset({"UNDETERMINED", "TPPM"}),
        modus_operandi=frozenset({"UNOFFICIAL_PORT", "TOURIST_DISGUISE"}),
        exploitation_types=frozenset({"FORCED_LABOUR"}),
        region_prefixes=("14.72", "21"),
        foreign_nationals=True,
        document_types=frozenset({"PASSPORT"}),
        document_statuses=frozenset({"DEFERRED"}),
        destination_countries=frozenset({"MYS"}),
        tlps=frozenset({"AMBER_STRICT", "GREEN"}),
    )
    assert rule_in_words(rule, ID) == (
        "Laporan TPPM atau yang jenisnya belum ditentukan"
        " dengan modus berkedok wisata atau pelabuhan tidak resmi (jalur tikus)"
        ", yang melibatkan kerja paksa, di wilayah Kota Dumai atau Kepulauan Riau,"
        " dengan dokumen paspor, dengan dokumen berstatus ditunda, dengan tujuan Malaysia,"
        " yang menyebut warga negara asing dan berlabel TLP:GREEN atau TLP:AMBER+STRICT"
        " dikirim ke IMIGRASI-DUMAI."
    )
    english = rule_in_words(rule, EN)
    assert english.startswith("TPPM or undetermined reports with modus disguised as tourist")
    assert "in Kota Dumai or Kepulauan Riau" in english
    assert english.endswith(
        "naming a foreign national and labelled TLP:GREEN or TLP:AMBER+STRICT go to IMIGRASI-DUMAI."
    )


def test_labels_keep_their_capitals_when_they_start_with_an_abbreviation_or_a_name() -> None:
    rule = RuleSpec(
        name="x",
        recipients=("A",),
        modus_operandi=frozenset({"NONPROCEDURAL_MIGRANT_WORKER", "HIGH_SALARY_JOB_OFFER"}),
        foreign_nationals=False,
    )
    assert rule_in_words(rule, ID) == (
        "Semua laporan dengan modus tawaran kerja bergaji tinggi atau PMI nonprosedural"
        " dan yang tidak menyebut warga negara asing dikirim ke A."
    )


def test_an_inactive_recipient_is_marked_as_skipped_and_unknown_codes_stay_codes() -> None:
    rule = RuleSpec(
        name="x",
        recipients=("POLRES-DUMAI", "DINSOS-LAMA"),
        region_prefixes=("99.99",),
    )
    assert rule_in_words(rule, ID, inactive_agencies={"DINSOS-LAMA"}) == (
        "Semua laporan di wilayah 99.99 dikirim ke POLRES-DUMAI, DINSOS-LAMA (nonaktif, dilewati)."
    )
