"""Term frequencies: counted on stored persons, rare agreements weigh more, misspellings are
told from twins' names."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from app.matching.scoring import (
    DEFAULT_LINK_THRESHOLD,
    DEFAULT_WEIGHTS,
    TF_ADDRESS_MAX_BITS,
    TF_NAME_MAX_BITS,
    PersonFeatures,
    Weights,
    compare,
    misspelt_given_name,
)
from app.matching.term_frequency import (
    ADDRESS_WORD,
    FAMILY,
    GIVEN,
    TermCounter,
    TermFrequencies,
    given_and_family,
)


def pf(name: str, address: str = "", **fields: Any) -> PersonFeatures:
    return PersonFeatures.from_raw(full_name=name, address=address, **fields)


# A store: many Sitis and Santosos, one Zulaika, and a village everybody in it shares.
STORE = (
    [pf(f"Siti {family}", "Desa Sukamaju Bogor") for family in ("Aminah", "Rahma", "Lestari") * 10]
    + [pf(f"Budi Santoso {i}", f"Jl Mawar {i} Bogor") for i in range(20)]
    + [pf("Sarah White", "Kampung Cirendeu Bogor") for _ in range(5)]
    + [pf("Rina Wulandari"), pf("Rina Hidayat"), pf("Rini Wulandari"), pf("Rini Susanti")]
    + [pf("Rina Putri"), pf("Rini Putri")]
    + [pf("Zulaika Harahap", "Dusun Lubukraya Padangsidimpuan")]
)


@pytest.fixture(scope="module")
def tf() -> TermFrequencies:
    return TermFrequencies.count(STORE)


def test_given_and_family_skip_words_siblings_share() -> None:
    assert given_and_family(("siti", "aminah")) == ("aminah", None)
    assert given_and_family(("budi", "santoso")) == ("budi", "santoso")
    assert given_and_family(("muhamad", "rizky", "pratama")) == ("rizky", "pratama")
    assert given_and_family(("sukarno",)) == ("sukarno", None)


def test_counts_each_person_once_per_term_and_keeps_only_terms_borne_twice(
    tf: TermFrequencies,
) -> None:
    assert tf.totals[GIVEN] == len(STORE)
    assert tf.bearers(GIVEN, "budi") == 20
    assert tf.bearers(FAMILY, "santoso") == 20
    assert tf.bearers(ADDRESS_WORD, "bogor") == 20 + 30 + 5
    assert "zulaika" not in tf.counts[GIVEN]  # borne once: not kept, counts as one
    assert tf.bearers(GIVEN, "zulaika") == 1
    assert tf.share(GIVEN, "budi") == pytest.approx(20 / len(STORE))


def test_an_agreement_on_a_common_term_weighs_less_and_on_a_rare_one_more(
    tf: TermFrequencies,
) -> None:
    assert tf.bits(GIVEN, "budi") < 0 < tf.bits(GIVEN, "zulaika")
    assert tf.bits(ADDRESS_WORD, "bogor") < 0 < tf.bits(ADDRESS_WORD, "lubukraya")


def test_terms_equally_frequent_weigh_as_an_average_agreement() -> None:
    uniform = TermFrequencies.count([pf(f"{g} Harahap") for g in ("Ani", "Budi", "Cici") * 4])
    for given in ("ani", "budi", "cici"):
        assert uniform.bits(GIVEN, given) == pytest.approx(0.0)
    # the mean share is the chance that two random persons agree on the term: Σ share²
    assert uniform.mean_share[GIVEN] == pytest.approx(3 * (1 / 3) ** 2)


def test_counting_page_by_page_gives_the_same_table(tf: TermFrequencies) -> None:
    counter = TermCounter()
    for start in range(0, len(STORE), 7):
        counter.add(STORE[start : start + 7])
    assert counter.persons == len(STORE)
    assert counter.frequencies() == tf


def test_the_table_travels_with_the_weights(tf: TermFrequencies) -> None:
    weights = replace(DEFAULT_WEIGHTS, term_frequencies=tf)
    again = Weights.from_json(weights.to_json())
    assert again.term_frequencies == tf
    assert Weights.from_json(DEFAULT_WEIGHTS.to_json()).term_frequencies is None


def test_an_empty_store_changes_nothing() -> None:
    empty = TermFrequencies.count([])
    assert empty.bits(GIVEN, "budi") == 0.0
    a = pf("Zulaika Harahap", date_of_birth="1990-01-01")
    plain = compare(a, a)
    counted = compare(a, a, replace(DEFAULT_WEIGHTS, term_frequencies=empty))
    assert counted.log_likelihood == pytest.approx(plain.log_likelihood)


# ------------------------------------------------------------------------------ scoring


def test_a_rare_name_and_a_rare_place_agreeing_now_link(tf: TermFrequencies) -> None:
    """The same woman, her birth date missing from the later report: a name and a hamlet nobody
    else in the store bears are evidence enough; without the table the pair stays below the
    link, as "Budi Santoso" in Bogor must."""
    weights = replace(DEFAULT_WEIGHTS, term_frequencies=tf)
    first = pf("Zulaika Harahap", "Dusun Lubukraya Padangsidimpuan", date_of_birth="1990-04-12")
    later = pf("Zulaika Harahap", "Dusun Lubukraya")
    without = compare(first, later)
    with_tf = compare(first, later, weights)
    assert without.probability < DEFAULT_LINK_THRESHOLD <= with_tf.probability
    gain = with_tf.log_likelihood - without.log_likelihood
    assert 0 < gain <= TF_NAME_MAX_BITS + TF_ADDRESS_MAX_BITS
    assert any("a rare name" in reason for reason in with_tf.reasons)
    assert any("a rare place" in reason for reason in with_tf.reasons)


def test_a_common_name_in_a_common_place_weighs_less(tf: TermFrequencies) -> None:
    weights = replace(DEFAULT_WEIGHTS, term_frequencies=tf)
    a = pf("Budi Santoso", "Jl Mawar 3 Bogor", date_of_birth="1990-04-12")
    b = pf("Budi Santoso", "Jl Melati 9 Bogor", date_of_birth="1990-04-12")
    assert compare(a, b, weights).log_likelihood < compare(a, b).log_likelihood
    assert any("a common name" in reason for reason in compare(a, b, weights).reasons)


def test_a_rare_name_alone_never_gains_more_than_the_cap(tf: TermFrequencies) -> None:
    weights = replace(DEFAULT_WEIGHTS, term_frequencies=tf)
    a, b = pf("Zulaika Harahap"), pf("Zulaika Harahap")
    gain = compare(a, b, weights).log_likelihood - compare(a, b).log_likelihood
    assert gain == pytest.approx(TF_NAME_MAX_BITS)
    assert compare(a, b, weights).probability < DEFAULT_LINK_THRESHOLD  # a name alone: review


# ------------------------------------------------------------------ misspelling or twins


HOUSEHOLD: dict[str, Any] = {
    "address": "Kampung Cirendeu No 4 RT 01 RW 02 Bogor",
    "date_of_birth": "1999-10-20",
    "phone": "+6281234567890",
}


def test_a_given_name_nobody_bears_beside_an_established_one_is_a_misspelling(
    tf: TermFrequencies,
) -> None:
    """ "Sarsh" is nobody's name: the clerk's slip no longer holds the pair for review."""
    assert misspelt_given_name("sarsh", "sarah", tf)
    a = pf("Sarah White", **HOUSEHOLD)
    b = pf("Sarsh White", **HOUSEHOLD)
    assert compare(a, b).review_only  # without the store's counts: held like twins
    score = compare(a, b, replace(DEFAULT_WEIGHTS, term_frequencies=tf))
    assert not score.review_only
    assert score.probability >= DEFAULT_LINK_THRESHOLD


@pytest.mark.parametrize(("first", "second"), [("Rina Wulandari", "Rini Wulandari")])
def test_twins_given_two_established_names_stay_apart(
    tf: TermFrequencies, first: str, second: str
) -> None:
    assert not misspelt_given_name("rina", "rini", tf)
    score = compare(
        pf(first, **HOUSEHOLD),
        pf(second, **HOUSEHOLD),
        replace(DEFAULT_WEIGHTS, term_frequencies=tf),
    )
    assert score.review_only
    assert any("given names differ" in reason for reason in score.reasons)


def test_nothing_is_judged_misspelt_without_counts_or_far_apart(tf: TermFrequencies) -> None:
    assert not misspelt_given_name("sarsh", "sarah", None)
    assert not misspelt_given_name("zulaika", "sarah", tf)  # far apart: two names
    assert not misspelt_given_name("sar", "sarh", tf)  # too short to tell


def test_the_mean_share_is_the_chance_two_random_persons_agree(tf: TermFrequencies) -> None:
    total = tf.totals[GIVEN]
    # every given name is kept here but Zulaika, Sarah and the Rina/Rini (borne 3 times each)
    kept = sum((count / total) ** 2 for count in tf.counts[GIVEN].values())
    assert kept <= tf.mean_share[GIVEN] <= kept + 1 / total
    assert math.isfinite(tf.bits(GIVEN, "nobody"))
