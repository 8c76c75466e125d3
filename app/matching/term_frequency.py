"""Term frequencies of given names, family names and address words, counted on the stored persons.

Agreeing on "Siti" says less than agreeing on "Zulaika"; sharing the word "Jakarta" in an address
says less than sharing "Sukamaju". Splink's term-frequency adjustment, written here for our
fields: given that one person bears a term x, the chance that a stranger bears it too is x's
share of the store, tf(x), so an agreement on x weighs ``log2(u / tf(x))`` bits more than an
average agreement of its level, where u is what an agreement costs on average (the mean share of
an agreeing term). Common terms lose bits, rare ones gain; scoring caps both
(``app.matching.scoring``).

The table is counted by ``sinergi dedup calibrate`` and stored beside the weights; scoring takes
it as an input and stays pure.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.matching.names import shared_first_word

GIVEN = "given"
FAMILY = "family"
ADDRESS_WORD = "address"
KINDS = (GIVEN, FAMILY, ADDRESS_WORD)

#: Terms kept per kind, the most frequent first: rarer terms count as borne once. A million
#: persons bear far more names than this, but only the frequent ones move a score much.
KEEP_TERMS = 20_000

_NONE: Mapping[str, int] = {}


class _Person(Protocol):
    @property
    def name_tokens(self) -> tuple[str, ...]: ...

    @property
    def address_tokens(self) -> frozenset[str]: ...


def given_and_family(tokens: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The word naming the person (the first after Muhammad, Siti, Made…) and the last word,
    when it is another word: the family name, a father's name or a second given name."""
    given = next((t for t in tokens if not shared_first_word(t)), None)
    family = tokens[-1] if len(tokens) >= 2 and tokens[-1] != given else None
    return given, family


def _terms(person: _Person) -> dict[str, set[str]]:
    given, family = given_and_family(person.name_tokens)
    return {
        GIVEN: {given} if given else set(),
        FAMILY: {family} if family else set(),
        ADDRESS_WORD: {t for t in person.address_tokens if not t.isdigit()},
    }


@dataclass(frozen=True, slots=True)
class TermFrequencies:
    """How many persons bear each frequent term, per kind, and what an agreement costs on
    average (``mean_share``): the share of the store an agreeing term holds, on average."""

    totals: Mapping[str, int]
    """Persons counted who bear any term of the kind (the denominators)."""
    counts: Mapping[str, Mapping[str, int]]
    mean_share: Mapping[str, float]
    persons: int = 0
    """Stored persons read to count the table (0: a table stored before they were recorded);
    the worker recounts when the store has grown by ``term_recount_growth`` since."""
    memo: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Answers of scoring's pure helpers on this table (``scoring.memoized_on_terms``): the
    table never changes once counted, so neither do they."""

    @classmethod
    def count(cls, persons: Iterable[_Person], keep: int = KEEP_TERMS) -> TermFrequencies:
        """Count the terms of these persons (each person once per term)."""
        counter = TermCounter()
        counter.add(persons)
        return counter.frequencies(keep)

    def share(self, kind: str, term: str) -> float:
        """The share of the persons bearing the kind who bear this term (a rare one: one)."""
        total = self.totals.get(kind, 0)
        if not total:
            return 0.0
        return max(self.counts.get(kind, _NONE).get(term, 1), 1) / total

    def bearers(self, kind: str, term: str) -> int:
        """How many counted persons bear the term (1 for a term too rare to be kept)."""
        return self.counts.get(kind, _NONE).get(term, 1)

    def bits(self, kind: str, term: str) -> float:
        """Bits an agreement on this term weighs more (rare) or less (common) than an average
        agreement of its kind: ``log2(mean share / share)``; 0 when the kind was never counted."""
        share = self.share(kind, term)
        mean = self.mean_share.get(kind, 0.0)
        if share <= 0.0 or mean <= 0.0:
            return 0.0
        return math.log2(mean / share)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, stored beside the weights (``Weights.to_json``)."""
        return {
            "totals": dict(self.totals),
            "mean_share": dict(self.mean_share),
            "counts": {kind: dict(terms) for kind, terms in self.counts.items()},
            "persons": self.persons,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TermFrequencies:
        """Read back what ``to_dict`` wrote."""
        return cls(
            totals={k: int(v) for k, v in data["totals"].items()},
            counts={
                kind: {t: int(c) for t, c in terms.items()}
                for kind, terms in data["counts"].items()
            },
            mean_share={k: float(v) for k, v in data["mean_share"].items()},
            persons=int(data.get("persons", 0)),
        )


class TermCounter:
    """Counts terms batch by batch (a store is read in pages), then gives the table."""

    def __init__(self) -> None:
        self._counters: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
        self._totals = dict.fromkeys(KINDS, 0)

    def add(self, persons: Iterable[_Person]) -> None:
        """Count these persons' terms (each person once per term)."""
        for person in persons:
            for kind, terms in _terms(person).items():
                if terms:
                    self._totals[kind] += 1
                    self._counters[kind].update(terms)

    @property
    def persons(self) -> int:
        """Persons counted who bear a given name."""
        return self._totals[GIVEN]

    def frequencies(self, keep: int = KEEP_TERMS) -> TermFrequencies:
        """The table: the ``keep`` most frequent terms of each kind borne more than once."""
        mean_share = {}
        for kind in KINDS:
            total = self._totals[kind]
            shares = [c / total for c in self._counters[kind].values()] if total else []
            # The share of one's own term, averaged over every (person, term) borne: Σ s² / Σ s.
            # For a kind of one term per person (Σ s = 1) it is Σ s², the chance that two random
            # persons agree on it: the u of an exact agreement, which tf(x) replaces.
            mass = sum(shares)
            mean_share[kind] = sum(s * s for s in shares) / mass if mass else 0.0
        counts = {
            kind: {term: c for term, c in self._counters[kind].most_common(keep) if c >= 2}
            for kind in KINDS
        }
        return TermFrequencies(totals=dict(self._totals), counts=counts, mean_share=mean_share)
