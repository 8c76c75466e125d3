"""Person matching: features, blocking keys, each comparison level, veto, reasons, decision."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from app.matching.persons import birth_and_sex
from app.matching.scoring import (
    DEFAULT_LINK_THRESHOLD,
    DEFAULT_MERGE_THRESHOLD,
    DEFAULT_REVIEW_THRESHOLD,
    DEFAULT_WEIGHTS,
    FIELDS,
    MISSING,
    NAME_FREQUENCY_CAP,
    NAME_FREQUENCY_REFERENCE,
    SHARED_IDENTIFIER_REASON,
    MatchScore,
    Outcome,
    PersonFeatures,
    Weights,
    blocking_keys,
    bridged,
    compare,
    compare_entity,
    comparison_levels,
    decide,
    identifiers_conflict,
    is_valid_nik,
    is_weak_key,
    name_frequency_bits,
    name_frequency_key,
    name_frequency_keys,
    normalize_nationality,
    normalize_sex,
    without_values,
)
from app.matching.term_frequency import TermFrequencies

SITI: dict[str, Any] = {
    "full_name": "Siti Nurhaliza",
    "date_of_birth": "1995-03-07",
    "sex": "P",
    "nationality": "IDN",
    "nik": "3201014703950001",
    "passport_number": "C1234567",
    "phone": "+6281234567890",
    "address": "Jl. Melati No. 5 RT 02 RW 03, Desa Sukamaju, Kec. Cibinong, Bogor",
}


def person(**changes: Any) -> PersonFeatures:
    """Siti as one agency reported her, with some fields changed."""
    return PersonFeatures.from_raw(**{**SITI, **changes})


# ------------------------------------------------------------------------------ features


def test_from_raw_normalizes_each_field() -> None:
    p = PersonFeatures.from_raw(
        full_name="HJ. SITI NURHALIZA BINTI ABDULLAH",
        aliases=["Ita"],
        date_of_birth="1995-03-07",
        sex="perempuan",
        nationality="Indonesia",
        nik="3201014703950001",
        address="Jl. Melati No. 5, Bogor",
    )
    assert p.name == "siti nurhaliza"
    assert p.father_name == "abdulah"
    assert p.name_tokens == ("siti", "nurhaliza")
    assert p.name_variants == ("siti nurhaliza", "siti nurhaliza abdulah", "ita")
    assert p.date_of_birth == date(1995, 3, 7)
    assert p.birth_year == 1995
    assert p.sex == "F"
    assert p.nationality == "IDN"
    assert p.address_tokens == frozenset({"melati", "5", "bogor"})


def test_birth_year_alone_is_kept_and_bad_dates_are_dropped() -> None:
    p = PersonFeatures.from_raw(full_name="Sukinah", birth_year=1990, date_of_birth="1990-02-31")
    assert p.date_of_birth is None
    assert p.birth_year == 1990


@pytest.mark.parametrize(
    ("raw", "code"),
    [("L", "M"), ("laki-laki", "M"), ("MALE", "M"), ("P", "F"), ("Perempuan", "F"),
     ("female", "F"), ("UNKNOWN", None), (None, None)],
)  # fmt: skip
def test_normalize_sex_reads_indonesian_and_english_codes(raw: str | None, code: str) -> None:
    assert normalize_sex(raw) == code


@pytest.mark.parametrize(
    ("raw", "code"),
    [("ID", "IDN"), ("idn", "IDN"), ("WNI", "IDN"), ("MM", "MMR"), ("Malaysia", "MYS"),
     ("Narnia", None)],
)  # fmt: skip
def test_normalize_nationality_gives_alpha3(raw: str, code: str | None) -> None:
    assert normalize_nationality(raw) == code


def test_is_valid_nik_needs_sixteen_digits() -> None:
    assert is_valid_nik("3201014703950001")
    assert not is_valid_nik("320101470395000")
    assert not is_valid_nik("0000000000000000")
    assert not is_valid_nik(None)


# ------------------------------------------------------------------------------ blocking


def shared_keys(a: PersonFeatures, b: PersonFeatures) -> set[str]:
    return set(blocking_keys(a)) & set(blocking_keys(b))


def test_blocking_keys_include_identifiers_and_phonetic_name_with_year() -> None:
    keys = blocking_keys(person())
    assert "nik:3201014703950001" in keys
    assert "pp:C1234567" in keys
    assert "ph:+6281234567890" in keys
    assert any(k.startswith("nb:") and k.endswith(":1995") for k in keys)
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(
    ("changes"),
    [
        {"full_name": "Siti Nur Haliza"},  # split
        {"full_name": "Nurhaliza Siti"},  # order swapped
        {"full_name": "Hj. Sity Noerhaliza binti Ahmad"},  # title, old spelling, father
        {"full_name": "Siti Nurhalisa", "date_of_birth": "1995-07-03"},  # day/month swapped
        {"full_name": "Siti Nurhaliza", "date_of_birth": "1996-03-07"},  # year typo
        {"full_name": "Siti Nurhalizah", "date_of_birth": None, "birth_year": 1995},
        {"full_name": "Nurhalizasiti"},  # joined and swapped
    ],
)
def test_variants_of_one_person_share_a_key_without_identifiers(changes: dict[str, Any]) -> None:
    no_ids = {"nik": None, "passport_number": None, "phone": None}
    assert shared_keys(person(**no_ids), person(**{**no_ids, **changes}))


def test_a_mistyped_nik_still_shares_a_key_through_its_intact_half() -> None:
    a = PersonFeatures.from_raw(full_name="Ani", nik="3201014703950001")
    b = PersonFeatures.from_raw(full_name="Budi", nik="3201014703950002")
    c = PersonFeatures.from_raw(full_name="Citra", nik="3201019703950001")
    assert shared_keys(a, b)
    assert shared_keys(a, c)


def test_name_only_keys_are_weak_and_birth_date_keys_are_not() -> None:
    keys = blocking_keys(person(date_of_birth=None, birth_year=None, nik=None))
    name_keys = [k for k in keys if not k.startswith(("nik", "pp:", "ph:"))]
    assert name_keys
    assert all(is_weak_key(k) for k in name_keys)
    assert not all(is_weak_key(k) for k in blocking_keys(person()))


def test_a_mangled_name_without_birth_date_still_meets_its_household() -> None:
    a = person(full_name="Sulastri", date_of_birth=None, nik=None, passport_number=None, phone=None)
    b = person(
        full_name="Lastry Ningsih", date_of_birth=None, nik=None, passport_number=None, phone=None
    )
    shared = shared_keys(a, b)
    assert shared == {"na:02-03-5"}
    assert all(is_weak_key(k) for k in shared)


def test_different_people_born_apart_share_no_key() -> None:
    a = PersonFeatures.from_raw(full_name="Budi Santoso", date_of_birth="1980-01-02")
    b = PersonFeatures.from_raw(full_name="Rina Wulandari", date_of_birth="1999-10-20")
    assert not shared_keys(a, b)


# ----------------------------------------------------------------------------- comparison


def levels(a: PersonFeatures, b: PersonFeatures) -> dict[str, str]:
    return comparison_levels(a, b)


@pytest.mark.parametrize(
    ("nik", "level"),
    [
        ("3201014703950001", "exact"),
        ("3201014703950007", "typo"),  # one digit
        ("3201014703950010", "typo"),  # two adjacent digits swapped
        ("3201014703951234", "different"),
        (None, MISSING),
    ],
)
def test_nik_levels(nik: str | None, level: str) -> None:
    assert levels(person(), person(nik=nik))["nik"] == level


@pytest.mark.parametrize(
    ("passport", "level"),
    [("C1234567", "exact"), ("C1234568", "typo"), ("X7654321", "different"), (None, MISSING)],
)
def test_passport_levels(passport: str | None, level: str) -> None:
    assert levels(person(), person(passport_number=passport))["passport"] == level


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("SITI NURHALIZA", "exact"),
        ("Siti Nur Haliza", "exact"),
        ("Nurhaliza Siti", "exact"),
        ("NurhalizaSiti", "exact"),  # swapped and joined
        ("Sity Noerhalisa", "phonetic"),
        ("Siti Nurhalizza Putri", "subset"),
        ("Siti Nurhakiza", "similar_high"),
        ("Siti Nurhalimah", "similar_low"),
        ("Budi Santoso", "different"),
    ],
)
def test_name_levels(name: str, level: str) -> None:
    assert levels(person(), person(full_name=name))["name"] == level


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("Eliza Keany", "Eriaz Keacny", "similar_low"),  # two slips in each word
        ("Rina Lubis", "Rins Lybis", "similar_low"),
        ("Rina Lubis", "Dewi Lubis", "different"),  # another given name
    ],
)
def test_a_name_mistyped_in_every_word_is_similar(a: str, b: str, level: str) -> None:
    assert levels(person(full_name=a), person(full_name=b))["name"] == level


def test_an_equal_single_name_is_its_own_weaker_level() -> None:
    a = PersonFeatures.from_raw(full_name="Sukarno", date_of_birth="1970-06-06")
    b = PersonFeatures.from_raw(full_name="SOEKARNO", birth_year=1970)
    assert levels(a, b)["name"] == "exact_single"
    assert compare(a, b).probability < DEFAULT_LINK_THRESHOLD
    weights = DEFAULT_WEIGHTS.fields["name"]
    assert weights.bits("exact_single") < weights.bits("exact")


def test_an_alias_can_carry_the_name_agreement() -> None:
    a = PersonFeatures.from_raw(full_name="Siti Nurhaliza", aliases=["Ita Kurnia"])
    b = PersonFeatures.from_raw(full_name="Ita Kurnia")
    assert levels(a, b)["name"] == "exact"


def test_a_one_word_alias_agreeing_weighs_as_a_single_name() -> None:
    # Two women called "Shania" by those who know them, born the same year: one given name.
    shania = PersonFeatures.from_raw(
        full_name="Shania Salahudin", aliases=["Shania"], birth_year=1986, sex="P"
    )
    other = PersonFeatures.from_raw(
        full_name="Shania Hassanah", aliases=["Shania"], date_of_birth="1986-10-03", sex="P"
    )
    assert levels(shania, other)["name"] == "exact_single"
    assert compare(shania, other).probability < DEFAULT_LINK_THRESHOLD
    # Her own record, her name mistyped and her alias given, born that day on her phone: the
    # alias says the given name is hers, not a twin's, and she links.
    own = {"date_of_birth": "2006-08-01", "phone": "+6281179140361", "aliases": ["Fajar"]}
    fajar = PersonFeatures.from_raw(full_name="Fajar Panjaitan", **own)
    slip = PersonFeatures.from_raw(full_name="Faar Panjaittan", **own)
    score = compare(slip, fajar)
    assert score.levels["name"] == "exact_single"
    assert not score.review_only
    assert score.probability >= DEFAULT_LINK_THRESHOLD


def test_a_one_word_name_part_of_the_other_weighs_less_when_many_are_given_it() -> None:
    # A store where eight men are given Fajar, and fifteen others a name each (Khadijah one).
    families = ("Lestari", "Hidayat", "Saputra", "Sukmana", "Nasution", "Fitra", "Halim", "Lubis")
    given = ("Khadijah", "Sinta", "Wulan", "Ratna", "Yanti", "Tuti", "Lilis", "Erna", "Ani")
    store = [PersonFeatures.from_raw(full_name=f"Fajar {family}") for family in families]
    store += [PersonFeatures.from_raw(full_name=f"{name} Pardede") for name in given]
    store += [
        PersonFeatures.from_raw(full_name=f"{name} Sitompul")
        for name in ("Rina", "Eka", "Dodi", "Agus", "Hendra", "Joko")
    ]
    weights = replace(DEFAULT_WEIGHTS, term_frequencies=TermFrequencies.count(store))
    born = {"date_of_birth": "1999-04-12", "sex": "L", "nationality": "IDN"}
    sukmana = PersonFeatures.from_raw(full_name="Fajar Sukmana", **born)
    fajar = PersonFeatures.from_raw(full_name="Fajar", **born)
    common = compare(fajar, sukmana, weights)
    assert common.levels["name"] == "subset"
    assert "a common name" in common.reasons[0]
    assert common.log_likelihood < compare(fajar, sukmana).log_likelihood
    # A given name borne once weighs as the level does, not more.
    khadijah = PersonFeatures.from_raw(full_name="Khadijah Pardede", **{**born, "sex": "P"})
    alone = PersonFeatures.from_raw(full_name="Khadijah", **{**born, "sex": "P"})
    assert compare(alone, khadijah, weights).log_likelihood == pytest.approx(
        compare(alone, khadijah).log_likelihood
    )


@pytest.mark.parametrize(
    ("changes", "level"),
    [
        ({"date_of_birth": "1995-03-07"}, "exact"),
        ({"date_of_birth": "1995-07-03"}, "day_month_swapped"),
        ({"date_of_birth": "1995-03-08"}, "typo"),
        ({"date_of_birth": "1959-03-07"}, "typo"),  # adjacent digits of the year swapped
        ({"date_of_birth": "1995-11-21"}, "same_year"),
        ({"date_of_birth": None, "birth_year": 1995}, "year_only"),
        ({"date_of_birth": None, "birth_year": 1991}, "different"),
        ({"date_of_birth": "1971-12-25"}, "different"),
        ({"date_of_birth": None, "birth_year": None}, MISSING),
    ],
)
def test_birth_date_levels(changes: dict[str, Any], level: str) -> None:
    assert levels(person(), person(**changes))["birth_date"] == level


@pytest.mark.parametrize(
    ("field", "changes", "level"),
    [
        ("sex", {"sex": "F"}, "same"),
        ("sex", {"sex": "L"}, "different"),
        ("sex", {"sex": None}, MISSING),
        ("nationality", {"nationality": "ID"}, "same"),
        ("nationality", {"nationality": "MYS"}, "different"),
        ("phone", {"phone": "+6281234567890"}, "exact"),
        ("phone", {"phone": "+6285700000000"}, "different"),
        ("phone", {"phone": None}, MISSING),
        (
            "address",
            {"address": "Jalan Melati No 5 RT 02 RW 03 Sukamaju Cibinong Bogor"},
            "similar",
        ),
        ("address", {"address": "Desa Sukamaju, Kecamatan Cibinong"}, "partial"),
        ("address", {"address": "Jl. Kenanga 12, Tangerang"}, "different"),
        ("address", {"address": ""}, MISSING),
    ],
)
def test_other_field_levels(field: str, changes: dict[str, Any], level: str) -> None:
    assert levels(person(), person(**changes))[field] == level


def test_a_bare_town_name_is_never_a_similar_address() -> None:
    a = PersonFeatures.from_raw(full_name="Nur Kalam", address="Tanjung Pinang")
    b = PersonFeatures.from_raw(full_name="Nur Kalam", address="tanjung pinang")
    assert levels(a, b)["address"] == "partial"


def test_each_stronger_level_scores_higher() -> None:
    for name in FIELDS:
        bits = [DEFAULT_WEIGHTS.fields[name].bits(level) for level in DEFAULT_WEIGHTS.levels(name)]
        assert bits[0] == max(bits)
        assert bits[-1] == min(bits) < 0 < bits[0]


def test_missing_fields_add_no_evidence() -> None:
    bare = PersonFeatures.from_raw(full_name="Siti Nurhaliza")
    assert compare(person(), bare).log_likelihood == pytest.approx(
        DEFAULT_WEIGHTS.fields["name"].bits("exact")
    )


def test_the_same_person_from_two_agencies_scores_as_a_match_with_reasons() -> None:
    passport_office = person()
    police = PersonFeatures.from_raw(
        full_name="SITI NUR HALIZA",
        date_of_birth="1995-07-03",
        sex="P",
        nik="3201014703950001",
        phone="+6281234567890",
    )
    score = compare(passport_office, police)
    assert score.probability > DEFAULT_LINK_THRESHOLD
    assert not score.vetoed
    assert "NIK equal" in score.reasons
    assert "name equal ignoring spaces (Siti Nurhaliza ~ SITI NUR HALIZA)" in score.reasons
    assert "birth date day/month swapped" in score.reasons
    assert "phone equal" in score.reasons


def test_similarity_shows_in_the_reason() -> None:
    score = compare(person(), person(full_name="Siti Nurhakiza"))
    assert "name similar 0.92 (Siti Nurhaliza ~ Siti Nurhakiza)" in score.reasons


def test_name_and_birth_date_link_without_identifiers() -> None:
    a = PersonFeatures.from_raw(full_name="Djoko Soesilo", date_of_birth="1980-05-17", sex="L")
    b = PersonFeatures.from_raw(full_name="Joko Susilo", date_of_birth="1980-05-17", sex="M")
    assert compare(a, b).probability >= DEFAULT_LINK_THRESHOLD


def test_an_equal_name_alone_is_not_enough_to_link() -> None:
    a = PersonFeatures.from_raw(full_name="Muhammad Rizky", sex="L")
    b = PersonFeatures.from_raw(full_name="Muhammad Rizky", sex="L")
    score = compare(a, b)
    assert DEFAULT_REVIEW_THRESHOLD <= score.probability < DEFAULT_LINK_THRESHOLD


def test_namesakes_born_on_different_days_do_not_link() -> None:
    a = PersonFeatures.from_raw(full_name="Ahmad Fauzi", date_of_birth="1990-01-15")
    b = PersonFeatures.from_raw(full_name="Ahmad Fauzi", date_of_birth="1990-08-29")
    assert compare(a, b).probability < DEFAULT_REVIEW_THRESHOLD


def test_two_different_niks_veto_the_link_whatever_else_agrees() -> None:
    score = compare(person(), person(nik="3201014703959999"))
    assert score.vetoed
    assert score.probability == 0.0
    assert score.reasons[0] == "veto: two different NIKs"
    assert score.log_likelihood > 0  # the rest still agrees: shown to analysts


def test_a_renewed_passport_weighs_against_the_link_but_does_not_veto_it() -> None:
    # An Indonesian passport is renewed under a new number: Siti with her old and her new one,
    # reported without a NIK, everything else agreeing, is still Siti.
    old = person(nik=None)
    renewed = person(nik=None, passport_number="X7654321")
    score = compare(old, renewed)
    assert not score.vetoed
    assert "passport different" in score.reasons
    assert decide([("siti", score)]).outcome is Outcome.LINK
    # The other passport counts against her: less evidence than with no passport on one side.
    unknown = person(nik=None, passport_number=None)
    assert score.log_likelihood < compare(old, unknown).log_likelihood
    with_nik = compare(person(), person(passport_number="X7654321"))
    assert not with_nik.vetoed
    assert with_nik.probability >= DEFAULT_LINK_THRESHOLD


def test_a_new_passport_beside_a_new_family_name_does_not_weigh_against_her() -> None:
    # Sarah Green married and renewed her passport as Sarah Clarke: one given name, the birth
    # date and the address, two family names and two passports. A passport is issued anew
    # under a new name, so the other number is no evidence against her.
    born = {"date_of_birth": "1914-09-08", "address": "37 Allandale Avenue, Marleston QLD 6014"}
    green = PersonFeatures.from_raw(full_name="Sarah Green", passport_number="6213427", **born)
    clarke = PersonFeatures.from_raw(full_name="Sarah Clarke", passport_number="9081739", **born)
    score = compare(clarke, green)
    assert "passport different" in score.reasons
    unknown = PersonFeatures.from_raw(full_name="Sarah Clarke", **born)
    assert score.log_likelihood == pytest.approx(compare(unknown, green).log_likelihood)
    assert decide([("sarah", score)]).outcome is Outcome.LINK
    assert decide([("sarah", compare_entity(clarke, [green]))]).outcome is Outcome.LINK
    # Another given name and another passport: the passport still weighs against the link.
    jaden = PersonFeatures.from_raw(full_name="Jaden Green", passport_number="9081739", **born)
    unknown = PersonFeatures.from_raw(full_name="Jaden Green", **born)
    assert compare(jaden, green).log_likelihood < compare(unknown, green).log_likelihood
    assert decide([("sarah", compare(jaden, green))]).outcome is not Outcome.LINK


def test_twins_with_two_passports_stay_apart() -> None:
    # Born the same day, one household (address, phone), two given names a letter apart, and
    # each her own passport: two sisters. No passport agrees, so nothing vouches for a link.
    rina = person(full_name="Rina Lestari", nik=None, passport_number="C1234567")
    rini = person(full_name="Rini Lestari", nik=None, passport_number="C1239876")
    score = compare(rina, rini)
    assert score.review_only
    assert decide([("rina", score)]).outcome is not Outcome.LINK
    assert decide([("rina", compare_entity(rini, [rina]))]).outcome is not Outcome.LINK


def test_twins_with_passports_issued_in_sequence_stay_apart() -> None:
    # Sisters applying together at one immigration office get numbers issued one after the
    # other: one character apart, like a typo, but two passports. They vouch for nothing.
    rina = person(full_name="Rina Lestari", nik=None, passport_number="C1234567")
    for number in ("C1234568", "C1234576", "C1234599"):
        rini = person(full_name="Rini Lestari", nik=None, passport_number=number)
        score = compare(rina, rini)
        assert score.review_only, number
        assert decide([("rina", score)]).outcome is not Outcome.LINK
        assert decide([("rina", compare_entity(rini, [rina]))]).outcome is not Outcome.LINK
    brother = person(full_name="Hasan Lestari", nik=None, passport_number="C1234568")
    assert compare(rina, brother).review_only
    # A passport mistyped by one keystroke elsewhere (two digits swapped, one digit wrong) is
    # still her own passport: Siti, reported under another name, links as before.
    siti = person(nik=None)
    for mistyped in ("C1243567", "C1235567"):
        renamed = person(full_name="Ani Wulandari", nik=None, passport_number=mistyped)
        score = compare(siti, renamed)
        assert score.levels["passport"] == "typo"
        assert not score.review_only
        assert decide([("siti", score)]).outcome is Outcome.LINK


def test_one_given_name_beside_numbers_one_apart_is_one_number_mistyped() -> None:
    # Benjamin's passport with its last digit slipped, his name mistyped too (FEBRL3): one
    # given name, so not twins applying together, however close the numbers.
    benjamin = PersonFeatures.from_raw(
        full_name="Benjamin Cames",
        date_of_birth="1975-06-06",
        passport_number="3523835",
        address="16 Harrison Cottages, Lindfield QLD 4505",
    )
    mistyped = PersonFeatures.from_raw(
        full_name="Benjamni Camens",
        date_of_birth="1975-07-06",
        passport_number="3523836",
        address="16 Harrison Cottages, Lindfield QLD 4505",
    )
    score = compare(mistyped, benjamin)
    assert not score.review_only
    assert decide([("benjamin", score)]).outcome is Outcome.LINK
    # Her NIK's serial slipped by one, her name spelt another way: still Siti.
    siti = person(passport_number=None)
    spelt = person(full_name="Siti Nurhalizah", nik="3201014703950002", passport_number=None)
    assert not compare(spelt, siti).review_only
    assert decide([("siti", compare(spelt, siti))]).outcome is Outcome.LINK
    # Twins given two names keep the next serial's guard: review only.
    for first, second in (("Hasan Basri", "Husain Basri"), ("Rina Lestari", "Rini Lestari")):
        one = person(full_name=first, passport_number=None)
        two = person(full_name=second, nik="3201014703950002", passport_number=None)
        assert compare(two, one).review_only, second
        assert decide([("twin", compare(two, one))]).outcome is not Outcome.LINK


def test_one_passport_under_another_identity_is_proposed_for_review() -> None:
    # A girl of fifteen travels on her aunt's passport: the number is equal, the name and the
    # birth date are not. Far below the review threshold, but never answered "new" in silence.
    aunt = person(nik=None)
    girl = PersonFeatures.from_raw(
        full_name="Dewi Anggraini", date_of_birth="2009-08-01", sex="P", passport_number="C1234567"
    )
    score = compare(girl, aunt)
    assert score.probability < DEFAULT_REVIEW_THRESHOLD
    decision = decide([("aunt", score)])
    assert decision.outcome is Outcome.REVIEW
    assert decision.candidate == "aunt"
    assert decision.score is not None
    assert decision.score.reasons[0] == SHARED_IDENTIFIER_REASON
    assert bridged(decision) == []
    # Another passport, the same girl: nothing joins her to the aunt.
    own = PersonFeatures.from_raw(
        full_name="Dewi Anggraini", date_of_birth="2009-08-01", sex="P", passport_number="B7654321"
    )
    assert decide([("aunt", compare(own, aunt))]).outcome is Outcome.NEW


def test_one_passport_beside_another_nik_is_proposed_for_review_never_linked() -> None:
    # The same passport number, but a NIK that contradicts the stored one: a clerk's error in
    # one of the two numbers, or a forged identity. Never linked, never answered "new" in silence.
    other_nik = person(nik="3201014703959999")
    score = compare(other_nik, person())
    assert score.vetoed
    decision = decide([("siti", score)])
    assert decision.outcome is Outcome.REVIEW
    assert decision.candidate == "siti"
    assert decision.score is not None
    assert decision.score.reasons[:2] == (SHARED_IDENTIFIER_REASON, "veto: two different NIKs")
    assert bridged(decision) == []
    # Her own passport beside the other NIK: nothing joins them, the veto stands.
    own = person(nik="3201014703959999", passport_number="B7654321")
    assert decide([("siti", compare(own, person()))]).outcome is Outcome.NEW
    # A candidate that links on its own still wins over the one only sharing the passport.
    linked = decide([("siti", score), ("other", compare(person(nik="3201014703959999"), own))])
    assert (linked.outcome, linked.candidate) == (Outcome.LINK, "other")


def test_namesakes_with_two_passports_are_not_linked() -> None:
    # The same common name and birth year, two passports, nothing else shared: two women.
    one = PersonFeatures.from_raw(
        full_name="Siti Aminah", birth_year=1995, sex="P", passport_number="C1234567"
    )
    other = PersonFeatures.from_raw(
        full_name="Siti Aminah", birth_year=1995, sex="P", passport_number="B7654321"
    )
    assert decide([("one", compare(one, other))]).outcome is not Outcome.LINK
    without = PersonFeatures.from_raw(full_name="Siti Aminah", birth_year=1995, sex="P")
    assert compare(one, without).probability > compare(one, other).probability


def test_a_short_or_malformed_national_id_does_not_veto() -> None:
    assert not compare(person(nik="12345"), person(nik="67890")).vetoed


def test_twins_with_different_names_are_review_only() -> None:
    a = person(full_name="Hasan Basri", nik=None, passport_number=None)
    b = person(full_name="Fitri Basri", nik=None, passport_number=None)
    score = compare(a, b)
    assert score.review_only
    assert score.reasons[0] == "names different and no identifier agrees: review only"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Muhammad Hasan", "Muhammad Fajar"),  # a first word brothers share
        ("Siti Aisyah", "Siti Fatimah"),
        ("Made Suarta", "Made Sudarsana"),
        ("Sutrisno", "Sulastri"),  # nothing shared
    ],
)
def test_twins_sharing_a_common_first_word_stay_review_only(first: str, second: str) -> None:
    a = person(full_name=first, nik=None, passport_number=None)
    b = person(full_name=second, nik=None, passport_number=None)
    assert compare(a, b).review_only


def test_one_given_name_with_two_family_names_is_scored_not_held_for_review() -> None:
    # A married name, or a clerk who wrote the wrong family name: twins never share a given name.
    a = person(full_name="Christian Ferris", nik=None, passport_number=None)
    b = person(full_name="Christian Walch", nik=None, passport_number=None)
    score = compare(a, b)
    assert score.levels["name"] == "different"
    assert not score.review_only
    assert score.probability >= DEFAULT_LINK_THRESHOLD  # birth date, phone, address agree


def test_a_record_bearing_only_the_family_name_misspelt_is_part_of_the_name() -> None:
    # "Paterdon" is "Paterson" with a slip: the record lacks her given name, it does not bear
    # another one (a twin's). Scored like "Paterson" alone: part of the name, linked.
    full = person(full_name="Mackenzie Paterson", nik=None, passport_number=None)
    for written in ("Paterdon", "Paterson"):
        score = compare(person(full_name=written, nik=None, passport_number=None), full)
        assert score.levels["name"] == "subset", written
        assert not score.review_only
        assert decide([("her", score)]).outcome is Outcome.LINK
    # A single word that is no word of the other name is still another name: review only.
    other = compare(person(full_name="Hoffman", nik=None, passport_number=None), full)
    assert other.levels["name"] == "different"
    assert other.review_only


def test_compare_entity_combines_what_each_record_knows() -> None:
    incoming = PersonFeatures.from_raw(
        full_name="Siti Nurhaliza", phone="+6281234567890", nik="3201014703950001"
    )
    from_police = PersonFeatures.from_raw(full_name="Siti Nurhaliza", phone="+6281234567890")
    from_imigrasi = PersonFeatures.from_raw(full_name="Siti N.", nik="3201014703950001")
    single = compare(incoming, from_police)
    combined = compare_entity(incoming, [from_police, from_imigrasi])
    assert combined.levels["nik"] == "exact"
    assert combined.levels["phone"] == "exact"
    assert combined.levels["name"] == "exact"
    assert combined.log_likelihood > single.log_likelihood


def test_a_namesake_born_that_year_on_another_day_is_not_joined_by_a_year_only_record() -> None:
    def siti(**born: Any) -> PersonFeatures:
        """Siti with her name, sex and nationality, no identifier, phone or address."""
        return person(nik=None, passport_number=None, phone=None, address=None, **born)

    # Her entity: a record with her birth date and one giving only the year.
    entity = [siti(date_of_birth="1995-03-07"), siti(date_of_birth=None, birth_year=1995)]
    # A namesake born that year in November: the dated record says another day, and the
    # year-only record cannot say it is the same day.
    namesake = compare_entity(siti(date_of_birth="1995-11-21"), entity)
    assert namesake.levels["birth_date"] == "same_year"
    assert decide([("siti", namesake)]).outcome is not Outcome.LINK
    # Her own record with one digit of the day mistyped still links.
    mistyped = compare_entity(siti(date_of_birth="1995-03-08"), entity)
    assert mistyped.levels["birth_date"] == "typo"
    assert decide([("siti", mistyped)]).outcome is Outcome.LINK
    # Reported with the year only, she still meets the year-only record.
    year_only = compare_entity(siti(date_of_birth=None, birth_year=1995), entity)
    assert year_only.levels["birth_date"] == "year_only"


def test_compare_entity_vetoes_only_when_no_record_shares_the_nik() -> None:
    incoming = person()
    typo_record = person(nik="3201014703959999")
    good_record = person()
    assert not compare_entity(incoming, [typo_record, good_record]).vetoed
    assert compare_entity(incoming, [typo_record]).vetoed
    with pytest.raises(ValueError, match="at least one record"):
        compare_entity(incoming, [])


# ------------------------------------------------------------------------------- decision


def score(probability: float, *, vetoed: bool = False, review_only: bool = False) -> MatchScore:
    bits = 10.0 * probability
    return MatchScore(bits, probability, {}, (), vetoed=vetoed, review_only=review_only)


def test_decide_links_the_best_candidate_above_the_link_threshold() -> None:
    decision = decide([("e1", score(0.6)), ("e2", score(0.99)), ("e3", score(0.7))], 0.95, 0.5)
    assert decision.outcome is Outcome.LINK
    assert decision.candidate == "e2"
    assert decision.score is not None
    assert decision.score.probability == 0.99
    assert [c for c, _ in decision.alternatives] == ["e3", "e1"]


def test_decide_asks_for_review_in_the_band() -> None:
    decision = decide([("e1", score(0.7))], 0.95, 0.5)
    assert decision.outcome is Outcome.REVIEW
    assert decision.candidate == "e1"


def test_decide_creates_a_new_entity_below_the_band_or_without_candidates() -> None:
    assert decide([("e1", score(0.2))], 0.95, 0.5).outcome is Outcome.NEW
    assert decide([], 0.95, 0.5).outcome is Outcome.NEW


def test_decide_takes_each_candidates_best_record() -> None:
    decision = decide([("e1", score(0.3)), ("e1", score(0.97))], 0.95, 0.5)
    assert decision.outcome is Outcome.LINK
    assert decision.candidate == "e1"


def test_a_twin_held_for_review_does_not_hold_back_the_persons_own_record() -> None:
    # Rina arrives; her twin Rini (same birth date, address, phone) outscores Rina's own
    # earlier record, which has less on it. The twin is review only; Rina's record links.
    rina = person(full_name="Rina Lestari", nik=None, passport_number=None)
    twin = compare(rina, person(full_name="Rini Lestari", nik=None, passport_number=None))
    own = compare(
        rina, person(full_name="Rina Lestari", nik=None, passport_number=None, phone=None)
    )
    assert twin.review_only
    assert not own.review_only
    assert twin.log_likelihood > own.log_likelihood
    decision = decide([("rini", twin), ("rina", own)])
    assert decision.outcome is Outcome.LINK
    assert decision.candidate == "rina"
    assert [c for c, _ in decision.alternatives] == ["rini"]
    assert bridged(decision) == []  # never merged with the twin
    # Alone, the twin is still only proposed for review.
    assert decide([("rini", twin)]).outcome is Outcome.REVIEW
    # A candidate below the link threshold does not take the twin's place either.
    weak = score(0.6)
    assert decide([("rini", twin), ("x", weak)]).candidate == "rini"


def test_decide_never_links_a_vetoed_candidate() -> None:
    decision = decide([("e1", score(0.99)), ("e1", score(0.0, vetoed=True))], 0.95, 0.5)
    assert decision.outcome is Outcome.NEW
    decision = decide([("e1", score(0.0, vetoed=True)), ("e2", score(0.96))], 0.95, 0.5)
    assert decision.candidate == "e2"


def test_decide_sends_review_only_pairs_to_review() -> None:
    decision = decide([("e1", score(0.999, review_only=True))], 0.95, 0.5)
    assert decision.outcome is Outcome.REVIEW


def test_a_name_written_together_meets_without_birth_date() -> None:
    a = PersonFeatures.from_raw(full_name="Puti Ulva Budiman", date_of_birth="1978-09-01")
    b = PersonFeatures.from_raw(full_name="Puti Ulvabudiman")
    assert shared_keys(a, b)
    assert all(is_weak_key(k) for k in shared_keys(a, b))


def test_a_name_written_together_meets_with_a_mistyped_year() -> None:
    a = PersonFeatures.from_raw(full_name="Samuel Panjaitan", date_of_birth="1990-08-13")
    b = PersonFeatures.from_raw(full_name="Samuelpanjaitan", date_of_birth="1997-08-13")
    assert any(k.startswith("nm:") for k in shared_keys(a, b))


# -------------------------------------------------------------------------------- weights


def test_weights_survive_a_json_round_trip() -> None:
    text = DEFAULT_WEIGHTS.to_json()
    loaded = Weights.from_json(text)
    assert loaded == DEFAULT_WEIGHTS
    assert loaded.to_json() == text


def test_compare_uses_the_weights_it_is_given() -> None:
    doubtful_names = Weights.from_json(DEFAULT_WEIGHTS.to_json())
    fields = dict(doubtful_names.fields)
    name = fields["name"]
    fields["name"] = type(name)(m=name.m, u={**name.u, "exact": name.m["exact"]})
    weights = Weights(fields=fields, prior=doubtful_names.prior)
    a = PersonFeatures.from_raw(full_name="Siti Nurhaliza")
    assert compare(a, a, weights).log_likelihood == pytest.approx(0.0)


# ----------------------------------------------------------------- name frequency and merges


def _name_only(name: str) -> tuple[PersonFeatures, PersonFeatures]:
    a = PersonFeatures.from_raw(full_name=name, date_of_birth="2002-06-21", sex="P")
    b = PersonFeatures.from_raw(full_name=name, date_of_birth="2002-06-20", sex="P")
    return a, b


def test_a_common_name_weighs_less_and_says_so() -> None:
    a, b = _name_only("Ngatini")
    key = name_frequency_key(a.name)
    alone = compare(a, b, DEFAULT_WEIGHTS, {key: 1})
    crowded = compare(a, b, DEFAULT_WEIGHTS, {key: 400})
    assert alone.log_likelihood == compare(a, b).log_likelihood  # rarity in the store is no boost
    assert alone.probability >= DEFAULT_LINK_THRESHOLD
    assert crowded.log_likelihood < alone.log_likelihood - 5
    assert crowded.probability < DEFAULT_LINK_THRESHOLD
    assert any(r.startswith("name equal, a common name (") for r in crowded.reasons)
    assert "name equal, a common name" in without_values(crowded.reasons)


def test_a_name_borne_by_a_few_stored_persons_keeps_its_weight() -> None:
    a, b = _name_only("Siti Aminah")
    key = name_frequency_key(a.name)
    assert compare(a, b, DEFAULT_WEIGHTS, {key: NAME_FREQUENCY_REFERENCE}).log_likelihood == (
        compare(a, b).log_likelihood
    )
    assert name_frequency_bits(NAME_FREQUENCY_REFERENCE * 2) == pytest.approx(-1.0)


def test_even_the_commonest_name_agreeing_is_some_evidence() -> None:
    a, b = _name_only("Siti Aminah")
    key = name_frequency_key(a.name)
    vector_name = compare(a, b, DEFAULT_WEIGHTS, {key: NAME_FREQUENCY_CAP})
    without_name = compare(a, b.__class__(**{**_fields(b), "name_variants": ("x",)}))
    assert vector_name.log_likelihood > without_name.log_likelihood


def _fields(p: PersonFeatures) -> dict[str, Any]:
    return {name: getattr(p, name) for name in p.__slots__}


def test_spelling_variants_are_counted_as_one_name() -> None:
    assert name_frequency_key("siti nurhaliza") == name_frequency_key("nurhaliza siti")
    assert name_frequency_keys(person()) == [name_frequency_key(person().name)]


def test_a_vetoed_record_does_not_hide_an_entity_that_holds_the_same_nik() -> None:
    incoming = person()
    namesake = person(nik="3201014703950999", passport_number=None)  # wrongly merged earlier
    same = person(full_name="Siti Nur Haliza")
    assert compare(incoming, namesake).vetoed
    decision = decide([("e1", compare(incoming, namesake)), ("e1", compare(incoming, same))])
    assert decision.outcome is Outcome.LINK
    assert decision.candidate == "e1"
    only_vetoed = decide([("e1", compare(incoming, namesake))])
    assert only_vetoed.outcome is Outcome.NEW


def test_bridged_lists_other_entities_matched_as_surely() -> None:
    incoming = person()
    sure = compare(incoming, person(full_name="Siti Nur Haliza"))
    weak = compare(
        incoming,
        person(
            nik=None,
            passport_number=None,
            phone=None,
            address=None,
            date_of_birth=None,
            birth_year=1995,
        ),
    )
    assert sure.probability >= DEFAULT_MERGE_THRESHOLD > weak.probability
    decision = decide([("a", sure), ("b", sure), ("c", weak)])
    assert decision.outcome is Outcome.LINK
    assert bridged(decision) == ["b"]
    assert bridged(decide([("c", weak)])) == []


def test_identifiers_conflict_like_the_veto() -> None:
    nik, other_nik = "3201014703950001", "3201014703950999"
    assert identifiers_conflict([nik], [other_nik])
    assert identifiers_conflict([nik], [nik, other_nik])
    assert not identifiers_conflict([nik], [nik])
    assert not identifiers_conflict([nik], ["3201014703950002"])  # a typo
    assert not identifiers_conflict(["12345"], ["67890"])  # no valid NIK
    assert not identifiers_conflict([], [nik])


def test_twins_nik_one_serial_digit_apart_do_not_vouch_for_different_names() -> None:
    # Twins registered together: same region and birth date, serial numbers 0001 and 0002.
    sister = person(full_name="Dewi Lestari", nik="3201014703950002", passport_number=None)
    siti = person(passport_number=None)
    score = compare(siti, sister)
    assert score.levels["nik"] == "typo"
    assert score.review_only
    assert decide([("twin", score)]).outcome is not Outcome.LINK
    # A typo elsewhere in the NIK still vouches, as before: the same woman, renamed.
    renamed = person(full_name="Ani Wulandari", nik="3201014703960001", passport_number=None)
    assert compare(siti, renamed).levels["nik"] == "typo"
    assert compare(siti, renamed).levels["name"] == "different"
    assert not compare(siti, renamed).review_only


def test_a_nik_serial_mistyped_in_its_first_digits_still_vouches() -> None:
    # Her serial 2900 written 9200 (two digits swapped): one region and birth date, but no
    # district registers thousands born one day, so it is her NIK mistyped, renamed or not.
    siti = person(nik="3201014703952900", passport_number=None)
    renamed = person(full_name="Ani Wulandari", nik="3201014703959200", passport_number=None)
    score = compare(renamed, siti)
    assert score.levels["nik"] == "typo"
    assert score.confirmed
    assert not score.review_only
    assert decide([("siti", score)]).outcome is Outcome.LINK
    # Serials near each other, twins' or a slip in the last two digits alike, vouch for nothing.
    for serial in ("2901", "2990"):
        twin = person(full_name="Dewi Lestari", nik=f"320101470395{serial}", passport_number=None)
        assert compare(twin, siti).levels["nik"] == "typo", serial
        assert compare(twin, siti).review_only, serial
        assert decide([("twin", compare(twin, siti))]).outcome is not Outcome.LINK


def test_two_typos_of_one_nik_in_an_entity_do_not_veto_the_person() -> None:
    # The entity holds her NIK mistyped in the region code, and again in three other digits
    # (two would be one NIK two clerks each mistyped once: no veto, see below).
    incoming = person(passport_number=None)
    once = person(nik="3211014703950001", passport_number=None)
    other_typo = person(nik="3201024703960002", passport_number=None)
    assert compare(incoming, once).confirmed
    assert compare(incoming, other_typo).vetoed
    decision = decide([("e", compare(incoming, once)), ("e", compare(incoming, other_typo))])
    assert decision.outcome is Outcome.LINK
    # Twins' NIKs (region and birth date equal, serial one digit apart) confirm nothing.
    twin = person(full_name="Dewi Lestari", nik="3201014703950002", passport_number=None)
    assert not compare(incoming, twin).confirmed
    assert decide(
        [("e", compare(incoming, twin)), ("e", compare(incoming, other_typo))]
    ).outcome is (Outcome.NEW)


def test_a_nik_two_clerks_each_mistyped_once_is_one_nik_not_two_persons() -> None:
    # Her NIK 3201014703950001 written with a slip in the region code, and by another clerk
    # with a slip in the year: two edits apart, each one slip from her own.
    siti = person(nik="3211014703950001", passport_number=None)
    again = person(nik="3201014703960001", passport_number=None)
    score = compare(again, siti)
    assert not score.vetoed
    assert score.levels["nik"] == "different"
    assert f"NIK different ({again.nik} ~ {siti.nik})" in score.reasons  # shown to analysts
    # Neither for nor against: scored as if one of them gave no NIK.
    unknown = compare(again, person(nik=None, passport_number=None))
    assert score.log_likelihood == pytest.approx(unknown.log_likelihood)
    assert decide([("siti", score)]).outcome is Outcome.LINK
    assert not compare_entity(again, [siti]).vetoed
    assert not identifiers_conflict([again.nik or ""], [siti.nik or ""])
    # Twins' NIKs (one region and birth date, serials two edits apart), a brother's beside a
    # sister's (the day's first digit and the serial), and NIKs three edits apart still veto.
    for other in ("3211014703950012", "3211010703950002", "3201014703960002"):
        twin = person(full_name="Dewi Nurhaliza", nik=other, passport_number=None)
        assert compare(twin, siti).vetoed, other
        assert compare_entity(twin, [siti]).vetoed, other
        assert identifiers_conflict([other], [siti.nik or ""]), other


HOUSEHOLD: dict[str, Any] = {
    "date_of_birth": "2001-05-14",
    "sex": "L",
    "nik": None,
    "passport_number": None,
    "phone": "+6281234567890",
    "address": "Jl. Melati No. 5 RT 02 RW 03, Desa Sukamaju, Bogor",
}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Hasan Basri", "Husain Basri"),
        ("Rina Wulandari", "Rini Wulandari"),
        ("Muhammad Rizky bin Ahmad Yani", "Muhammad Fajar bin Ahmad Yani"),
        ("Agus Salim", "Agung Salim"),
        ("Budi Santoso", "Bayu Santoso"),
        ("Siti Aminah binti Hasan", "Siti Amini binti Hasan"),
    ],
)
def test_twins_born_the_same_day_in_one_household_are_review_only(first: str, second: str) -> None:
    # Birth date, phone and address agree; only the given names tell them apart.
    score = compare(person(full_name=first, **HOUSEHOLD), person(full_name=second, **HOUSEHOLD))
    assert score.review_only
    assert score.reasons[0].startswith("born the same day, given names differ")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Rizky Ramadhan", "Rizki Ramadan"),  # spellings of one name
        ("Jamil Widiastuti", "Jaiml Widiastuti"),  # two letters swapped
        ("Yeyen Suryana", "Jeyen Suryana"),  # the old spelling
        ("Jati Luwar Oktaviani", "Jnti Luwar Oktaviani"),  # one letter mistyped
        ("Togar Hutapea", "Hutapea Togr"),  # order swapped, a letter dropped
        ("Dimas Saputra", "Dimas Saputro"),  # the family name varies, the given name agrees
        ("Darno Wibowo", "Darna Wibowo"),  # the Javanese and the Indonesian a/o
    ],
)
def test_one_person_written_two_ways_still_links(first: str, second: str) -> None:
    score = compare(person(full_name=first, **HOUSEHOLD), person(full_name=second, **HOUSEHOLD))
    assert not score.review_only
    assert score.probability >= DEFAULT_LINK_THRESHOLD


def test_an_identifier_joins_what_the_twins_rule_holds_apart() -> None:
    same_nik = {**HOUSEHOLD, "nik": "3201011405010001"}
    score = compare(
        person(full_name="Rina Wulandari", **same_nik),
        person(full_name="Rini Wulandari", **same_nik),
    )
    assert not score.review_only
    # The same passport joins them too (one woman, one given name written for another).
    same_passport = {**HOUSEHOLD, "passport_number": "C1234567"}
    score = compare(
        person(full_name="Rina Wulandari", **same_passport),
        person(full_name="Rini Wulandari", **same_passport),
    )
    assert not score.review_only
    assert decide([("rina", score)]).outcome is Outcome.LINK


def test_a_nik_gives_the_birth_date_and_sex_a_report_leaves_out() -> None:
    nik_born, nik_sex = date(1999, 3, 14), "FEMALE"
    # Nothing reported: the NIK's date and sex.
    assert birth_and_sex(None, None, None, nik_born, nik_sex) == (nik_born, "FEMALE")
    # The birth year agrees: the NIK completes it.
    assert birth_and_sex(None, 1999, "F", nik_born, nik_sex) == (nik_born, "F")
    # Reported fields stand, and a contradicting year keeps the NIK's date out.
    assert birth_and_sex(date(1999, 3, 15), None, "M", nik_born, nik_sex) == (
        date(1999, 3, 15),
        "M",
    )
    assert birth_and_sex(None, 1998, None, nik_born, nik_sex) == (None, "FEMALE")
    assert birth_and_sex(None, None, None, None, None) == (None, None)


def test_a_nik_only_record_meets_a_date_only_record_of_the_same_woman() -> None:
    # Scored as ingest makes the features: name, sex and the NIK's birth date agree.
    born, sex = birth_and_sex(None, None, None, date(1999, 3, 14), "FEMALE")
    with_nik = PersonFeatures.from_raw(
        full_name="Rahmawati Siregar", date_of_birth=born, sex=sex, nik="1472035403990002"
    )
    with_date = PersonFeatures.from_raw(
        full_name="Rahmawati Siregar", date_of_birth="1999-03-14", sex="FEMALE"
    )
    score = compare(with_date, with_nik)
    assert score.levels["birth_date"] == "exact"
    assert decide([("her", score)]).outcome is Outcome.LINK


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Dewi Nasution", "Dewa Nasution"),  # a first word sisters share, here two names
        ("Eka Putri Lestari", "Dwi Putri Lestari"),  # the first-born and the second-born
        ("Putri", "Putra"),  # one word, a word siblings share
        ("Ni Komang Putri", "Ni Komang Putra"),
        ("Sihombing Rina", "Rini Sihombing"),  # one written family name first
        ("Andi Suherman", "Andri Suherman"),  # Andi, a Bugis title siblings share, and a name
    ],
)
def test_twins_named_in_pairs_are_review_only(first: str, second: str) -> None:
    score = compare(person(full_name=first, **HOUSEHOLD), person(full_name=second, **HOUSEHOLD))
    assert score.review_only
    assert score.reasons[0].startswith("born the same day, given names differ")


def test_twins_with_a_birth_date_mistyped_or_only_a_year_are_review_only() -> None:
    # One digit of the day mistyped on one record: still two given names born the same day.
    mistyped = {**HOUSEHOLD, "date_of_birth": "2001-05-15"}
    score = compare(
        person(full_name="Rina Wulandari", **HOUSEHOLD),
        person(full_name="Rini Wulandari", **mistyped),
    )
    assert score.levels["birth_date"] == "typo"
    assert score.review_only
    # One record gives only the year: the day may be the other's, the given names still differ.
    year_only = {**HOUSEHOLD, "date_of_birth": None, "birth_year": 2001}
    score = compare(
        person(full_name="Rina Wulandari", **HOUSEHOLD),
        person(full_name="Rini Wulandari", **year_only),
    )
    assert score.levels["birth_date"] == "year_only"
    assert score.review_only


def _store_with(*names: str) -> Weights:
    """The shipped weights with a store in which each of these names is borne by four persons."""
    store = [
        person(full_name=f"{name} {family}")
        for name in names
        for family in ("Hakim", "Lubis", "Pardede", "Siregar")
    ]
    return replace(DEFAULT_WEIGHTS, term_frequencies=TermFrequencies.count(store))


@pytest.mark.parametrize(
    ("first", "second"),
    [("Lisa", "Lia"), ("Rahma", "Rahmat"), ("Santi", "Sinta"), ("Wahyu", "Wahyudi")],
)
def test_two_given_names_people_bear_are_two_names_once_the_store_is_counted(
    first: str, second: str
) -> None:
    # A letter more, or letters moved: a slip of the pen, or twins' paired names. When the store
    # holds persons bearing each name, they are names parents give.
    weights = _store_with(first, second)
    score = compare(
        person(full_name=f"{first} Permana", **HOUSEHOLD),
        person(full_name=f"{second} Permana", **HOUSEHOLD),
        weights,
    )
    assert score.review_only
    # A slip that makes a word nobody bears (the last two letters swapped) is one name misspelt.
    slip = compare(
        person(full_name=f"{first} Permana", **HOUSEHOLD),
        person(full_name=f"{first[:-2]}{first[-1]}{first[-2]} Permana", **HOUSEHOLD),
        weights,
    )
    assert not slip.review_only
    assert slip.probability >= DEFAULT_LINK_THRESHOLD


def test_an_entity_mostly_of_the_other_twin_is_review_only_though_one_record_agrees() -> None:
    # Rina's entity: two records of hers and one giving the family name only, which does not
    # contradict Rini's. Rini is still held apart (before, one agreeing record let her in).
    rina = [
        person(full_name="Rina Wulandari", **HOUSEHOLD),
        person(full_name="Rina Wulandari", **HOUSEHOLD),
        person(full_name="Wulandari", **HOUSEHOLD),
    ]
    score = compare_entity(person(full_name="Rini Wulandari", **HOUSEHOLD), rina)
    assert score.review_only
    assert score.reasons[0].startswith("born the same day, given names differ")


def test_an_entity_split_evenly_holds_a_twin_apart_when_both_names_are_borne() -> None:
    # Santi's entity: her record and one that lost its given name. Sinta, her twin: one record
    # holds her apart, one does not. Both names borne in the store: two names, held.
    santi = [
        person(full_name="Santi Wulandari", **HOUSEHOLD),
        person(full_name="Wulandari", **HOUSEHOLD),
    ]
    sinta = person(full_name="Sinta Wulandari", **HOUSEHOLD)
    score = compare_entity(sinta, santi, _store_with("Santi", "Sinta"))
    assert score.review_only
    assert score.reasons[0].startswith("born the same day, given names differ")
    # Names the store does not count: a tie does not hold.
    assert not compare_entity(sinta, santi).review_only
    # An entity of Santi and of a record saying Sinta: Santi's own name there still joins her.
    mixed = [person(full_name="Santi Wulandari", **HOUSEHOLD), sinta]
    score = compare_entity(santi[0], mixed, _store_with("Santi", "Sinta"))
    assert not score.review_only


def test_a_persons_own_mistyped_record_does_not_hold_back_the_person() -> None:
    # Rini's entity holds one record of hers mistyped as "Rina": most of it says Rini.
    rini = [
        person(full_name="Rini Wulandari", **HOUSEHOLD),
        person(full_name="Rini Wulandari", **HOUSEHOLD),
        person(full_name="Rina Wulandari", **HOUSEHOLD),
    ]
    score = compare_entity(person(full_name="Rini Wulandari", **HOUSEHOLD), rini)
    assert not score.review_only
    assert score.probability >= DEFAULT_LINK_THRESHOLD


def test_a_brother_and_sister_born_the_same_day_are_review_only() -> None:
    # Rahma and Rahmat: a letter apart, the sexes differ.
    score = compare(
        person(full_name="Rahma Siregar", **{**HOUSEHOLD, "sex": "P"}),
        person(full_name="Rahmat Siregar", **HOUSEHOLD),
    )
    assert score.review_only
    # One man whose sex one agency mistyped still links: the given name is one.
    score = compare(
        person(full_name="Rahmat Siregar", **{**HOUSEHOLD, "sex": "P"}),
        person(full_name="Rahmat Sireger", **HOUSEHOLD),
    )
    assert not score.review_only


def test_twins_niks_of_the_next_serial_hold_apart_names_that_look_alike() -> None:
    # Irwan Karim written together beside Iwan Karim: the names might be one, the NIKs are
    # twins' (same region and birth, the next serial).
    score = compare(
        person(full_name="Irwankarim", **{**HOUSEHOLD, "nik": "3201011405010002"}),
        person(full_name="Iwan Karim", **{**HOUSEHOLD, "nik": "3201011405010001"}),
    )
    assert score.review_only
    # A typo elsewhere in the NIK of one person is no next serial.
    score = compare(
        person(full_name="Iwan Karim", **{**HOUSEHOLD, "nik": "3201011405010001"}),
        person(full_name="Iwan Karim", **{**HOUSEHOLD, "nik": "3201011405010071"}),
    )
    assert not score.review_only


@pytest.mark.parametrize(
    ("first", "second", "names"),
    [
        ("Agungherath", "Agus Herath", ("Agung", "Agus")),  # written together
        ("Sintamendoza", "Santi Mendoza", ("Sinta", "Santi")),
        ("Hasanrustandi", "Husain Rustandi", ("Hasan", "Husain")),
        ("Lisa Rahman", "liarahman", ("Lisa", "Lia")),
        ("Fitriahakim", "Fitri Hakiem", ("Fitria", "Fitri")),  # the family name spelt another way
    ],
)
def test_a_twins_given_name_written_together_with_the_family_name_is_review_only(
    first: str, second: str, names: tuple[str, str]
) -> None:
    # The glued word took in the other twin's family name and passed for her name.
    _assert_twins_held(first, second, names)


def _assert_twins_held(first: str, second: str, names: tuple[str, str]) -> Weights:
    """Two records of one household born the same day are held apart as twins, in a store
    counting these given names; the store's weights, for more comparisons."""
    weights = _store_with(*names)
    score = compare(
        person(full_name=first, **HOUSEHOLD), person(full_name=second, **HOUSEHOLD), weights
    )
    assert score.review_only
    assert score.reasons[0].startswith("born the same day, given names differ")
    return weights


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Agungherath", "Agung Herath"),
        ("Lilissaepudin", "Lilis Saepudin"),  # the two s written once
        ("Nainggolan Lamtiar", "Nang Golan Lamtiar"),  # "Nain" is nobody's given name
    ],
)
def test_ones_own_name_written_together_still_links(first: str, second: str) -> None:
    weights = _store_with("Agung", "Agus", "Lilis", "Lili")
    score = compare(
        person(full_name=first, **HOUSEHOLD), person(full_name=second, **HOUSEHOLD), weights
    )
    assert not score.review_only
    assert score.probability >= DEFAULT_LINK_THRESHOLD


def test_twins_given_names_after_the_family_name_are_review_only() -> None:
    # Chinese-Indonesian names: the family name first, two given names people bear last.
    weights = _store_with("Wahyu", "Wahyudi")
    score = compare(
        person(full_name="Ong Lay Wahyu", **HOUSEHOLD),
        person(full_name="Ong Lay Wahyudi", **HOUSEHOLD),
        weights,
    )
    assert score.review_only
    # One of them written twice, a slip in the last name: one person.
    slip = compare(
        person(full_name="Ong Lay Wahyudi", **HOUSEHOLD),
        person(full_name="Ong Lay Wahydui", **HOUSEHOLD),
        weights,
    )
    assert not slip.review_only


@pytest.mark.parametrize(
    ("sister", "brother"),
    [("Dewi Kusuma", "Kusuma Dewa"), ("Putri Siregar", "siregar putrra")],
)
def test_a_brother_and_sister_told_apart_by_a_word_siblings_share_are_review_only(
    sister: str, brother: str
) -> None:
    score = compare(
        person(full_name=sister, **{**HOUSEHOLD, "sex": "P"}),
        person(full_name=brother, **HOUSEHOLD),
    )
    assert score.review_only
    # The same words in another order, one sex mistyped: one person.
    same = compare(
        person(full_name="Dewi Kusuma", **{**HOUSEHOLD, "sex": "L"}),
        person(full_name="Kusuma Dewi", **{**HOUSEHOLD, "sex": "P"}),
    )
    assert not same.review_only


def test_a_held_twin_gives_way_only_to_a_name_that_agrees_at_least_as_well() -> None:
    # "Amlia Nur" meets the entity of "Nur Amalia" (held: "Amlia" reads as another name) and an
    # entity of "Nur" alone born the same day, which links on its own on a weaker name.
    held = MatchScore(30.0, 0.999, {"name": "phonetic"}, (), review_only=True)
    weaker = MatchScore(20.0, 0.99, {"name": "subset"}, ())
    decision = decide([("nur amalia", held), ("nur", weaker)])
    assert (decision.outcome, decision.candidate) == (Outcome.REVIEW, "nur amalia")
    # Her own record, its name as close or closer, still takes the twin's place.
    own = MatchScore(20.0, 0.99, {"name": "exact_single"}, ())
    decision = decide([("nur amalia", held), ("own", own)])
    assert (decision.outcome, decision.candidate) == (Outcome.LINK, "own")


def test_siblings_named_in_pairs_and_born_years_apart_are_review_only() -> None:
    # Agung and Agus Saragih: one house, one phone, born six years apart.
    older = person(full_name="Agung Saragih", **{**HOUSEHOLD, "date_of_birth": "2003-12-31"})
    younger = person(full_name="Agus Saragih", **{**HOUSEHOLD, "date_of_birth": "2009-08-30"})
    score = compare(older, younger, _store_with("Agung", "Agus"))
    assert score.review_only
    assert score.reasons[0] == (
        "born in different years, given names differ, no identifier agrees: review only"
    )
    # One person whose birth year a clerk mistyped still links: the given name is one.
    mistyped = person(full_name="Agung Saragih", **{**HOUSEHOLD, "date_of_birth": "2009-08-30"})
    assert not compare(older, mistyped, _store_with("Agung", "Agus")).review_only
    # A brother and sister years apart, a word siblings share telling them apart.
    sister = person(
        full_name="Dewi Kusuma", **{**HOUSEHOLD, "sex": "P", "date_of_birth": "1995-01-02"}
    )
    assert compare(sister, person(full_name="Kusuma Dewa", **HOUSEHOLD)).review_only
    # The same NIK joins what the rule holds apart.
    nik = "3201011405010001"
    same = compare(replace(older, nik=nik), replace(younger, nik=nik), _store_with("Agung", "Agus"))
    assert not same.review_only


def test_two_given_names_people_bear_without_a_birth_date_are_review_only() -> None:
    # "Rini Maulana" with no birth date, beside Rina of the same house: twins or sisters.
    weights = _store_with("Rina", "Rini")
    undated = {**HOUSEHOLD, "date_of_birth": None}
    score = compare(
        person(full_name="Rina Maulana", **HOUSEHOLD),
        person(full_name="Rini Maulana", **undated),
        weights,
    )
    assert score.review_only
    assert score.reasons[0] == (
        "birth date unknown, given names differ, no identifier agrees: review only"
    )
    # Her own name without a birth date still links.
    own = compare(
        person(full_name="Rina Maulana", **HOUSEHOLD),
        person(full_name="Rina Maulana", **undated),
        weights,
    )
    assert not own.review_only
    assert own.probability >= DEFAULT_LINK_THRESHOLD


def test_the_same_fathers_name_is_evidence_and_another_one_tells_namesakes_apart() -> None:
    maya = PersonFeatures.from_raw(full_name="Maya Hidayat binti Sulaiman", sex="P")
    # Name and sex alone: for an analyst, not linked.
    without_father = compare(maya, PersonFeatures.from_raw(full_name="Maya Hidayat", sex="P"))
    assert DEFAULT_REVIEW_THRESHOLD <= without_father.probability < DEFAULT_LINK_THRESHOLD
    # Both records name her father, the same man (a typo aside): she is linked.
    same = compare(maya, PersonFeatures.from_raw(full_name="MAYA HIDAYAT BINTI SULAIMAN", sex="F"))
    typo = compare(maya, PersonFeatures.from_raw(full_name="Maya Hidayat binti Sulaeman", sex="F"))
    for score in (same, typo):
        assert score.probability >= DEFAULT_LINK_THRESHOLD
        assert "name equal, father's name the same" in without_values(score.reasons)
    # A namesake born the same year, another father's daughter: not linked.
    year = PersonFeatures.from_raw(full_name="Maya Hidayat binti Sulaiman", birth_year=1996)
    namesake = PersonFeatures.from_raw(full_name="Maya Hidayat binti Umar", birth_year=1996)
    assert compare(year, replace(namesake, father_name="")).probability >= DEFAULT_LINK_THRESHOLD
    other = compare(year, namesake)
    assert other.probability < DEFAULT_LINK_THRESHOLD
    assert "name equal, father's name different" in without_values(other.reasons)


def test_the_same_fathers_name_adds_nothing_to_two_different_names() -> None:
    # Brothers share their father: his name must not carry one into the other's entity.
    rizky = PersonFeatures.from_raw(full_name="Muhammad Rizky bin Ahmad", sex="L", birth_year=2001)
    fajar = PersonFeatures.from_raw(full_name="Muhammad Fajar bin Ahmad", sex="L", birth_year=2001)
    alone = replace(fajar, father_name="")
    assert compare(rizky, fajar).log_likelihood == compare(rizky, alone).log_likelihood


@pytest.mark.parametrize(
    ("slip", "twin", "names"),
    [
        ("Irwao Hartono", "Iwan Hartono", ("Irwan", "Iwan")),  # one letter from Irwan
        ("Aguxs Iswahyudi", "Agung Iswahyudi", ("Agus", "Agung")),
        ("Wahyi Setiawan", "Wahyudi Setiawan", ("Wahyu", "Wahyudi")),
        ("Kurniasih Irwav", "Iwan Kurniasih", ("Irwan", "Iwan")),  # the family name first
    ],
)
def test_a_twins_name_mistyped_toward_the_others_is_review_only(
    slip: str, twin: str, names: tuple[str, str]
) -> None:
    # A word nobody bears, one letter from a given name people bear and two from the other
    # twin's: the slip is of the nearer name, the twin's own.
    weights = _assert_twins_held(slip, twin, names)
    # The same slip beside the name it is one letter from: one person, linked.
    own = person(full_name=twin.replace(names[1], names[0]), **HOUSEHOLD)
    score = compare(person(full_name=slip, **HOUSEHOLD), own, weights)
    assert not score.review_only
    assert score.probability >= DEFAULT_LINK_THRESHOLD
    # A slip two letters from the other name and one from no name people bear is hers.
    wahyudo = person(full_name="Wahyudo Setiawan", **HOUSEHOLD)
    weights = _store_with("Wahyu", "Wahyudi")
    score = compare(wahyudo, person(full_name="Wahyudi Setiawan", **HOUSEHOLD), weights)
    assert not score.review_only


@pytest.mark.parametrize(
    ("slip", "name", "twin"),
    [
        ("Sti Aini", "Siti Aini", "Siti Aisyah"),  # a letter of a word siblings share left out
        ("Siri Aini", "Sri Aini", "Sri Aisyah"),  # one put in
        ("Ntur Aini", "Nur Aini", "Nur Aisyah"),
    ],
)
def test_a_word_mistyped_by_one_letter_is_that_word_not_a_twins_name(
    slip: str, name: str, twin: str
) -> None:
    # One edit after the first letter, a word nobody bears, one letter from a word people bear
    # and from no other given name: the clerk's slip, not another name. Linked.
    weights = _store_with("Aini", "Aisyah")
    score = compare(
        person(full_name=slip, **HOUSEHOLD), person(full_name=name, **HOUSEHOLD), weights
    )
    assert not score.review_only
    assert score.probability >= DEFAULT_LINK_THRESHOLD
    # Her twin, another given name in the same house, is still held apart.
    held = compare(
        person(full_name=slip, **HOUSEHOLD), person(full_name=twin, **HOUSEHOLD), weights
    )
    assert held.review_only


def test_a_slip_two_persons_bear_beside_a_word_siblings_share_is_still_a_slip() -> None:
    # "Sti" typed for Siti in two other reports (one clerk's habit): two persons bear it, far
    # fewer than bear Siti, a word siblings share. Still her name mistyped: linked.
    store = [
        person(full_name=f"{name} {family}")
        for name in ("Aini", "Aisyah")
        for family in ("Hakim", "Lubis", "Pardede", "Siregar")
    ] + [person(full_name=f"Sti {family}") for family in ("Hakim", "Lubis")]
    weights = replace(DEFAULT_WEIGHTS, term_frequencies=TermFrequencies.count(store))
    sti, siti = (person(full_name=n, **HOUSEHOLD) for n in ("Sti Aini", "Siti Aini"))
    score = compare(sti, siti, weights)
    assert not score.review_only
    assert score.probability >= DEFAULT_LINK_THRESHOLD
    # A word three persons bear is a name people bear: two names, the twins rule holds them.
    store.append(person(full_name="Sti Pardede"))
    weights = replace(DEFAULT_WEIGHTS, term_frequencies=TermFrequencies.count(store))
    assert compare(sti, siti, weights).review_only


def test_a_name_written_together_meets_an_entity_split_evenly_by_a_twin() -> None:
    # Aini Rezai's entity holds her record and a mistyped one, "Aina Rezai". Her twin Aisyah
    # comes written together, "AISYAHREZAI": held apart by Aini's record, not by the slip
    # (Aina is one consonant from Aisyah spelt "Aisah"). A tie, judged on the given name Aisyah
    # once written apart from the family name, as the twins rule reads it: held.
    weights = _store_with("Aini", "Aisyah")
    aini = [person(full_name=n, **HOUSEHOLD) for n in ("Aini Rezai", "Aina Rezai")]
    score = compare_entity(person(full_name="AISYAHREZAI", **HOUSEHOLD), aini, weights)
    assert score.review_only
    # Aini's own name written together still joins her entity.
    own = compare_entity(person(full_name="AINIREZAI", **HOUSEHOLD), aini, weights)
    assert not own.review_only
    assert own.probability >= DEFAULT_LINK_THRESHOLD


def test_a_held_twin_gives_way_to_the_persons_own_record_spelt_less_closely() -> None:
    # Irwan Hartono meets his twin Iwan (held: two names people bear, 0.96 alike) and his own
    # earlier record typed "Irwao" (0.92), which links on its own: his own record wins.
    weights = _store_with("Irwan", "Iwan")
    irwan = person(full_name="Irwan Hartono", **HOUSEHOLD)
    iwan = compare_entity(irwan, [person(full_name="Iwan Hartono", **HOUSEHOLD)], weights)
    own = compare_entity(irwan, [person(full_name="Irwao Hartono", **HOUSEHOLD)], weights)
    assert iwan.review_only
    assert own.probability >= DEFAULT_LINK_THRESHOLD
    decision = decide([("iwan", iwan), ("irwao", own)])
    assert (decision.outcome, decision.candidate) == (Outcome.LINK, "irwao")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Reksa Padmasari Dewi", "Dewa Reksa Padmasari"),
        ("Setiawan Andri", "Andi Setiawan"),
    ],
)
def test_twins_told_apart_by_a_word_siblings_share_written_anywhere_are_review_only(
    first: str, second: str
) -> None:
    # The words say which twin, whatever sex the records give (both here say male).
    weights = _assert_twins_held(first, second, ("Dewa", "Andri"))
    # Abdu and Abdul, Ahmad and Ahmadi: one name written short or long.
    abdu, abdul = (person(full_name=n, **HOUSEHOLD) for n in ("Begum Abdu", "Abdul Begum"))
    assert not compare(abdu, abdul, weights).review_only


def test_an_entity_split_by_a_differently_named_record_holds_a_twin_apart() -> None:
    # Rudi's entity: one record held apart from Rida by the twins rule, one with his name
    # written too differently to vouch for anything. Before, one of two held: a tie, linked.
    rudi = [
        person(full_name="Oei Bun Rudi", **HOUSEHOLD),
        person(full_name="Oei Mun Rudy", **HOUSEHOLD),
    ]
    rida = person(full_name="Oei Bun Rida", **{**HOUSEHOLD, "sex": None})
    score = compare_entity(rida, rudi, _store_with("Rudi", "Rida"))
    assert score.review_only
    # Rudi's own record still joins his entity.
    own = compare_entity(person(full_name="Oei Bun Rudi", **HOUSEHOLD), rudi)
    assert not own.review_only


def test_sisters_born_years_apart_are_not_joined_by_their_households_phone_and_address() -> None:
    # Dini and Dinia Fauzi, born eight years apart (three digits of the date differ), share the
    # household's phone and address: one contact said twice, not two agreements. Not linked.
    home = {**HOUSEHOLD, "sex": "P"}
    dini = person(full_name="Dini Fauzi", **{**home, "date_of_birth": "1991-07-22"})
    dinia = person(full_name="Dinia Fauzi binti Yusuf", **{**home, "date_of_birth": "1999-08-27"})
    assert compare(dini, dinia).probability < DEFAULT_LINK_THRESHOLD
    assert compare_entity(dini, [dinia]).probability < DEFAULT_LINK_THRESHOLD
    # Her own records, each date mistyped in one digit (two apart), still join on them.
    neng = person(full_name="Neng Permana", **{**home, "date_of_birth": "2003-08-28"})
    own = person(full_name="Neng Permanna", **{**home, "date_of_birth": "2007-05-28"})
    assert compare(neng, own).probability >= DEFAULT_LINK_THRESHOLD
    # As does her date with day and month swapped in one record and mistyped in the other.
    swapped = person(full_name="Neng Permanna", **{**home, "date_of_birth": "2003-12-08"})
    typed = person(full_name="Neng Permana", **{**home, "date_of_birth": "2003-08-17"})
    assert compare(typed, swapped).probability >= DEFAULT_LINK_THRESHOLD
    # Brothers the twins rule holds keep their whole score: an analyst is still asked.
    older = person(full_name="Agung Saragih", **{**HOUSEHOLD, "date_of_birth": "2003-12-31"})
    younger = person(full_name="Agus Saragih", **{**HOUSEHOLD, "date_of_birth": "2009-08-30"})
    held = compare(older, younger, _store_with("Agung", "Agus"))
    assert held.review_only
    assert held.probability >= DEFAULT_REVIEW_THRESHOLD


def test_a_slip_three_persons_bear_beside_a_word_siblings_share_is_still_a_slip() -> None:
    # "Wyan" typed for Wayan, a Balinese birth-order word siblings share, in three persons'
    # reports: the store counts no Wayan to compare it with. Still her name mistyped: linked.
    store = [
        person(full_name=f"{name} {family}")
        for name in ("Aini", "Aisyah")
        for family in ("Hakim", "Lubis", "Pardede", "Siregar")
    ] + [person(full_name=f"Ni Wyan {family}") for family in ("Hakim", "Lubis", "Pardede")]
    weights = replace(DEFAULT_WEIGHTS, term_frequencies=TermFrequencies.count(store))
    home = {**HOUSEHOLD, "sex": "P"}
    wyan, wayan = (person(full_name=n, **home) for n in ("Ni Wyan Ariani", "Ni Wayan Ariani"))
    score = compare(wyan, wayan, weights)
    assert not score.review_only
    assert score.probability >= DEFAULT_LINK_THRESHOLD
    # Four bearers make it a name people bear: two names, the twins rule holds them.
    store.append(person(full_name="Ni Wyan Siregar"))
    weights = replace(DEFAULT_WEIGHTS, term_frequencies=TermFrequencies.count(store))
    assert compare(wyan, wayan, weights).review_only


@pytest.mark.parametrize(
    ("slip", "name"),
    [
        ("Hayd En Geraghty", "Hayden Geraghti"),  # a word a space broke in two
        ("Hananh Isola", "Hannah Isola"),  # two neighbouring letters swapped, as written
        ("Niwayan Sukerti", "Ni Wayan Sukerti"),  # a short word written together before it
        ("Halimahfirmansyah", "Halimah Firmansyah"),  # a name written together with the next
    ],
)
def test_one_persons_name_slips_on_a_young_store_still_link(slip: str, name: str) -> None:
    # Nothing counted: the form alone tells a slip of one name from twins' two names.
    score = compare(person(full_name=slip, **HOUSEHOLD), person(full_name=name, **HOUSEHOLD))
    assert not score.review_only, score.reasons
    assert score.probability >= DEFAULT_LINK_THRESHOLD


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Santi Handayani", "Sinta Handayani"),  # letters moved apart, no slip moves them so
        ("Wahyu Rajata", "Wahyudi Rajata"),  # a syllable more, not a word written on
        ("Rizky Permana", "Rizka Permana"),  # a vowel apart once "y" is read as "i"
    ],
)
def test_twins_names_on_a_young_store_are_review_only(first: str, second: str) -> None:
    score = compare(person(full_name=first, **HOUSEHOLD), person(full_name=second, **HOUSEHOLD))
    assert score.review_only
    assert score.reasons[0].startswith("born the same day, given names differ")


def test_her_name_written_together_with_her_phone_clears_against_her_entity_not_a_sister() -> None:
    """The recluster pass's bar for an entity's records together (``clears_together``): her
    entity of two records gives the whole name, the birth date and the phone; a third record,
    her name written as one word with her phone and no birth date, falls short of the pairwise
    bar against either record (one field agreeing, not two) and clears against both together.
    Her sister on the household phone, another given name, does not."""
    from app.services.recluster import clears, clears_together

    threshold = DEFAULT_MERGE_THRESHOLD
    known = [
        person(nik=None, passport_number=None, address=None),
        person(nik=None, passport_number=None, date_of_birth=None, address="Bogor"),
    ]
    glued = person(
        full_name="SITINURHALIZA", nik=None, passport_number=None, date_of_birth=None, address=None
    )
    assert not any(clears(compare(glued, record), threshold) for record in known)
    assert clears_together(compare_entity(glued, known), threshold)

    sister = person(
        full_name="SITINURJANAH", nik=None, passport_number=None, date_of_birth=None, address=None
    )
    assert not clears_together(compare_entity(sister, known), threshold)
