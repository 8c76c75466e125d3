"""Person matching: blocking keys, Fellegi-Sunter scoring with reasons in words, and the decision.

The online path for one incoming person is: ``PersonFeatures.from_raw`` → ``blocking_keys`` →
fetch stored persons sharing any key → ``compare`` each → ``decide``. Everything here is pure so
that the same code runs in the API, in calibration and in the accuracy benchmark.

Scoring follows Fellegi and Sunter: each field comparison falls into a level, and the level adds
``log2(m / u)`` bits, where ``m`` is how often true matches show that level and ``u`` how often
non-matches do. A field missing on either side adds nothing. The total is turned into a match
probability with the prior ``lambda`` (the share of candidate pairs that are matches).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from functools import lru_cache, wraps
from itertools import combinations, permutations
from typing import Generic, ParamSpec, TypeVar

import pycountry
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from app.matching.names import (
    normalize_name,
    parse_name,
    phonetic_keys,
    phonetic_token,
    shared_first_word,
)
from app.matching.term_frequency import (
    ADDRESS_WORD,
    FAMILY,
    GIVEN,
    TermFrequencies,
    given_and_family,
)

MISSING = "missing"

# Field names, used as keys in comparison vectors and in ``Weights``.
NIK = "nik"
PASSPORT = "passport"
NAME = "name"
BIRTH_DATE = "birth_date"
SEX = "sex"
NATIONALITY = "nationality"
PHONE = "phone"
ADDRESS = "address"
FIELDS = (NIK, PASSPORT, NAME, BIRTH_DATE, SEX, NATIONALITY, PHONE, ADDRESS)

# Words that appear in almost every Indonesian address and so say nothing about who lives there.
_ADDRESS_STOPWORDS = frozenset(
    {
        "jl", "jln", "jalan", "no", "nomor", "rt", "rw", "kel", "kelurahan", "kec", "kecamatan",
        "kab", "kabupaten", "kota", "desa", "ds", "dusun", "dsn", "gang", "gg", "blok", "prov",
        "provinsi", "komplek", "kompleks", "perum", "perumahan", "kp", "kampung", "lingkungan",
        "lk", "rumah", "dan", "di", "street", "st", "road", "rd",
    }
)  # fmt: skip

_SEX_CODES = {
    "m": "M", "male": "M", "l": "M", "laki": "M", "lakilaki": "M", "pria": "M",
    "f": "F", "female": "F", "p": "F", "perempuan": "F", "wanita": "F",
}  # fmt: skip


class Outcome(StrEnum):
    """What resolution does with an incoming person."""

    LINK = "link"
    REVIEW = "review"
    NEW = "new"


@dataclass(frozen=True, slots=True)
class PersonFeatures:
    """One person's fields normalized for matching, computed once per person."""

    display_name: str
    name: str
    father_name: str
    name_tokens: tuple[str, ...]
    phonetic_keys: tuple[str, ...]
    name_variants: tuple[str, ...]
    """Normalized own name, own + father's name, and each alias: the forms compared."""
    raw_variants: tuple[str, ...]
    """The names as written, parallel to ``name_variants``, for reasons in words."""
    date_of_birth: date | None
    birth_year: int | None
    sex: str | None
    nationality: str | None
    nik: str | None
    passport: str | None
    phone: str | None
    address_tokens: frozenset[str]

    @classmethod
    def from_raw(
        cls,
        *,
        full_name: str,
        aliases: Sequence[str] = (),
        date_of_birth: date | str | None = None,
        birth_year: int | None = None,
        sex: str | None = None,
        nationality: str | None = None,
        nik: str | None = None,
        passport_number: str | None = None,
        phone: str | None = None,
        address: str | None = None,
    ) -> PersonFeatures:
        """Build features from a report's person; nik, passport and phone arrive normalized."""
        parts = parse_name(full_name)
        variants: list[str] = []
        raws: list[str] = []

        def add(normalized: str, raw: str) -> None:
            if normalized and normalized not in variants:
                variants.append(normalized)
                raws.append(raw)

        add(parts.own, full_name)
        add(parts.full, full_name)
        for alias in aliases:
            alias_parts = parse_name(alias)
            add(alias_parts.own, alias)
            add(alias_parts.full, alias)
        dob = _parse_date(date_of_birth)
        year = dob.year if dob is not None else birth_year
        tokens = tuple(parts.own.split())
        return cls(
            display_name=full_name,
            name=parts.own,
            father_name=parts.father,
            name_tokens=tokens,
            phonetic_keys=phonetic_keys(parts.own),
            name_variants=tuple(variants),
            raw_variants=tuple(raws),
            date_of_birth=dob,
            birth_year=year,
            sex=normalize_sex(sex),
            nationality=normalize_nationality(nationality),
            nik=nik or None,
            passport=passport_number or None,
            phone=phone or None,
            address_tokens=address_tokens(address or ""),
        )


def _parse_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def normalize_sex(raw: str | None) -> str | None:
    """``M``/``F`` from English or Indonesian codes (L = laki-laki, P = perempuan); else None."""
    if not raw:
        return None
    return _SEX_CODES.get("".join(ch for ch in raw.lower() if ch.isalpha()))


@lru_cache(maxsize=1024)
def normalize_nationality(raw: str | None) -> str | None:
    """ISO 3166-1 alpha-3 from an alpha-2/alpha-3 code or an English country name; WNI is IDN."""
    if not raw:
        return None
    value = raw.strip()
    if value.upper() in {"WNI", "INDONESIA", "ID", "IDN"}:
        return "IDN"
    country = None
    if len(value) == 2:
        country = pycountry.countries.get(alpha_2=value.upper())
    elif len(value) == 3:
        country = pycountry.countries.get(alpha_3=value.upper())
    if country is None:
        try:
            country = pycountry.countries.lookup(value)
        except LookupError:
            return None
    return str(country.alpha_3)


def address_tokens(raw: str) -> frozenset[str]:
    """Distinctive words and numbers of an address (street, village, house number)."""
    cleaned = "".join(ch if ch.isalnum() else " " for ch in raw.lower())
    return frozenset(t for t in cleaned.split() if t not in _ADDRESS_STOPWORDS)


def is_valid_nik(nik: str | None) -> bool:
    """A NIK (Nomor Induk Kependudukan) is 16 digits and never all zeros."""
    return nik is not None and len(nik) == 16 and nik.isdigit() and nik.strip("0") != ""


# --------------------------------------------------------------------------------- blocking


def _sorted_day_month(dob: date) -> str:
    """Day and month in sorted order, so that a day/month swap shares the key."""
    low, high = sorted((dob.day, dob.month))
    return f"{low:02d}{high:02d}"


# Prefixes of keys that are selective only for uncommon names: a whole name without birth
# information, one name word with the birth year. The store skips such a key when it already holds
# more than WEAK_KEY_LIMIT persons, so that a lookup stays bounded for "Muhammad Rizky" or "Siti"
# while "Khairul Kurniawan" and "Zulaika" still meet.
WEAK_KEY_PREFIXES = ("nn:", "nt:", "nq:", "na:")
WEAK_KEY_LIMIT = 50


def is_weak_key(key: str) -> bool:
    """Whether a lookup under this key must be skipped once it holds more than WEAK_KEY_LIMIT."""
    return key.startswith(WEAK_KEY_PREFIXES)


K = TypeVar("K")

#: Keys of identifiers (NIK and its halves, passport, phone): their holders are compared first.
IDENTIFIER_KEY_PREFIXES = ("nik:", "nika:", "nikb:", "pp:", "ph:")

#: Keys the recluster pass pairs persons on: identifiers, and the whole name (also written as one
#: word) with day and month of birth. A pair that clears the pass's bar shares one of them: an
#: identifier vouches, or a close name and two of birth date, phone and address agree, and those
#: two include the birth date (then the name shares ``nm:``) or the phone (``ph:``). The keys of
#: the name with the year only (``nb:``, ``nc:``) add only pairs that cannot clear, and they are
#: the ones that grow as the square of the store (issue 22: 71,259 pairs → 8,569 at 100,000
#: stored persons, the same 10 clearing).
RECLUSTER_KEY_PREFIXES = (*IDENTIFIER_KEY_PREFIXES, "nm:")

#: A pass key held by more stored persons than this pairs none of them (k holders make k²/2
#: pairs): a hotline phone, a placeholder NIK, a very common name born on one day. A pair that
#: shares such a key and another, smaller one is still scored through the smaller one.
RECLUSTER_KEY_LIMIT = 100


def recluster_keys(
    keys: Iterable[str], holders: Callable[[str], int], limit: int = RECLUSTER_KEY_LIMIT
) -> list[str]:
    """The keys of a person the recluster pass pairs on (``holders``: stored persons per key).

    The store does the same in its pairs statement (``repositories.resolution``
    ``pairs_sharing_keys``); this is the in-memory form, for the accuracy benchmark.
    """
    return [k for k in keys if k.startswith(RECLUSTER_KEY_PREFIXES) and holders(k) <= limit]


#: How many stored persons one incoming person is compared with at most. Name keys gather more
#: holders as the store grows (a million persons hold dozens of "Siti Aminah 1995"); the holders
#: sharing the most keys with the person are kept, so the cost of one lookup stays flat.
MAX_CANDIDATES = 20


def rank_candidates(holders: Mapping[str, Iterable[K]], limit: int = MAX_CANDIDATES) -> list[K]:
    """The stored persons worth comparing: those sharing an identifier key first, then those
    sharing the most keys, at most ``limit`` (``holders``: usable key → its holders).

    The store does the same in one query (``repositories.resolution.candidates``); this is the
    in-memory form, for the accuracy benchmark.
    """
    shared: dict[K, list[int]] = {}
    for key, held in holders.items():
        identifier = key.startswith(IDENTIFIER_KEY_PREFIXES)
        for holder in held:
            rank = shared.setdefault(holder, [0, 0])
            rank[0] |= identifier
            rank[1] += 1
    ordered = sorted(shared.items(), key=lambda item: (-item[1][0], -item[1][1]))
    return [holder for holder, _ in ordered[:limit]]


def _joined_phonetics(normalized: str) -> list[str]:
    """Phonetic keys of the name written as one word, in each order of up to three words."""
    tokens = normalized.split()
    if len(tokens) > 3:
        return [phonetic_token("".join(tokens))]
    return list(dict.fromkeys(phonetic_token("".join(o)) for o in permutations(tokens)))


def blocking_keys(p: PersonFeatures) -> list[str]:
    """Keys under which a person is indexed and looked up; each one stays selective.

    - ``nik:``, ``pp:``, ``ph:``: normalized identifiers, exact; ``nika:``/``nikb:`` the NIK's
      region and birth date, or region and serial number, so a typo in the other half still meets.
    - ``nb:<phonetic name>:<birth year>``: the whole name's sorted phonetic keys (swapped order,
      spelling variants) with the birth year, for each name variant (with/without father, aliases).
    - ``nc:<phonetic compact>:<birth year>``: the name written together ("Nurhaliza" vs
      "Nur Haliza", "Sitompulester"), in each word order.
    - ``np:<two tokens>:<birth year>``: each pair of tokens of a longer name, so that a dropped or
      added middle or family name still meets.
    - ``nm:<phonetic name>:<day and month>``: the whole name (also written as one word) with day
      and month but not the year, so that a mistyped year (1985 for 1986) still meets.
    - ``nd:<one token>:<birth date>``: each single token with the full birth date (day and month
      sorted, so a swap still meets): a common token is still rare on one exact date, and this
      catches names too mangled for the other keys.
    - ``ni:<initial>:<birth date>``: each word's first letter with the full birth date, for typos
      in every word ("Tigobr Panjaitan" / "Tigor Panjasitan"), single names ("Samet" / "Slamet")
      and words joined with a typo ("Parlindungannainggolan" / "Parlinduygan Nainggolan").
    - ``nn:<phonetic name>``: the whole name alone, a weak key (see ``is_weak_key``) for persons
      reported without birth date or year; also the name written as one word, in each order.
    - ``nt:<one token>:<birth year>``: one name word with the birth year, a weak key for a typo
      in the other words when only the year is known ("Victoria Zulaika" / "Victorbia Zulaika").
    - ``nq:<one token>:<day and month>``: one name word with day and month, a weak key for a typo
      in both the name and the year ("Ayu Saputra" 1988 / "Ayu Saputca" 1987).
    - ``na:<the address's numbers>``: house number, RT/RW, postcode together, a weak key for a
      name mangled in every word with the birth date missing or mistyped: the household meets.
    """
    keys: list[str] = []
    if p.nik:
        keys.append(f"nik:{p.nik}")
        if is_valid_nik(p.nik):
            # A typo leaves one half intact: region + birth date, or region + serial number.
            keys.append(f"nika:{p.nik[:12]}")
            keys.append(f"nikb:{p.nik[:6]}{p.nik[12:]}")
    if p.passport:
        keys.append(f"pp:{p.passport}")
    if p.phone:
        keys.append(f"ph:{p.phone}")
    year = p.birth_year
    dob = p.date_of_birth
    day_month = _sorted_day_month(dob) if dob is not None else ""
    for variant in p.name_variants:
        phon = phonetic_keys(variant)
        if not phon:
            continue
        whole = "-".join(phon)
        joined = _joined_phonetics(variant)
        keys.append(f"nn:{whole}")
        # Written together ("Puti Ulvabudiman" / "Puti Ulva Budiman"): a weak key as well.
        keys.extend(f"nn:{j}" for j in joined)
        if year is None:
            continue
        keys.append(f"nb:{whole}:{year}")
        keys.extend(f"nc:{j}:{year}" for j in joined)
        if len(phon) >= 3:
            keys.extend(f"np:{a}-{b}:{year}" for a, b in combinations(phon, 2))
        if dob is not None:
            keys.append(f"nm:{whole}:{day_month}")
            keys.extend(f"nm:{j}:{day_month}" for j in joined if j != whole)
            keys.extend(
                f"ni:{initial}:{dob.year}{day_month}"
                for initial in sorted({token[0] for token in variant.split()})
            )
    tokens = {phonetic_token(t) for v in p.name_variants for t in v.split()}
    words = sorted(tokens - {""})
    if year is not None:
        keys.extend(f"nt:{t}:{year}" for t in words)
    if dob is not None:
        joined_all = {j for v in p.name_variants for j in _joined_phonetics(v)}
        keys.extend(f"nd:{t}:{dob.year}{day_month}" for t in sorted(tokens | joined_all) if t)
        keys.extend(f"nq:{t}:{day_month}" for t in words)
    numbers = sorted(t for t in p.address_tokens if t.isdigit())
    if len(numbers) >= 2:
        keys.append(f"na:{'-'.join(numbers)}")
    return list(dict.fromkeys(keys))


# ---------------------------------------------------------------------------------- weights


@dataclass(frozen=True, slots=True)
class FieldWeights:
    """m and u probability per comparison level of one field."""

    m: Mapping[str, float]
    u: Mapping[str, float]
    _bits: dict[str, float] = field(default_factory=dict, init=False, repr=False, compare=False)
    """``bits`` per level, computed once: scoring asks for them for every field of every pair."""

    def bits(self, level: str) -> float:
        """log2(m/u) for a level: the evidence it adds, in bits."""
        try:
            return self._bits[level]
        except KeyError:
            value = self._bits[level] = math.log2(self.m[level] / self.u[level])
            return value


@dataclass(frozen=True, slots=True)
class Weights:
    """Fellegi-Sunter parameters: per field and level m/u, and the prior share of matches."""

    fields: Mapping[str, FieldWeights]
    prior: float
    term_frequencies: TermFrequencies | None = None
    """Counted on the store by calibration: agreeing on a rare name or address word weighs
    more, on a common one less. None (the shipped defaults): every agreement of a level alike."""
    calibrated_by_worker_on: int | None = None
    """Resolved persons in the store when the worker calibrated these m and u by itself; None:
    the shipped weights or an operator's `sinergi dedup calibrate`. Kept by a term recount."""

    def to_json(self) -> str:
        """Serialize so calibrated weights can be stored and reloaded."""
        data: dict[str, object] = {
            "prior": self.prior,
            "fields": {
                name: {"m": dict(fw.m), "u": dict(fw.u)} for name, fw in self.fields.items()
            },
        }
        if self.term_frequencies is not None:
            data["term_frequencies"] = self.term_frequencies.to_dict()
        if self.calibrated_by_worker_on is not None:
            data["calibrated_by_worker_on"] = self.calibrated_by_worker_on
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Weights:
        """Load weights written by ``to_json``."""
        data = json.loads(text)
        return cls(
            fields={
                name: FieldWeights(
                    m={k: float(v) for k, v in fw["m"].items()},
                    u={k: float(v) for k, v in fw["u"].items()},
                )
                for name, fw in data["fields"].items()
            },
            prior=float(data["prior"]),
            term_frequencies=(
                TermFrequencies.from_dict(data["term_frequencies"])
                if data.get("term_frequencies")
                else None
            ),
            calibrated_by_worker_on=data.get("calibrated_by_worker_on"),
        )

    def levels(self, field_name: str) -> tuple[str, ...]:
        """The comparison levels of a field, in order of strength."""
        return tuple(self.fields[field_name].m)


def _fw(levels: Mapping[str, tuple[float, float]]) -> FieldWeights:
    return FieldWeights(
        m={k: v[0] for k, v in levels.items()}, u={k: v[1] for k, v in levels.items()}
    )


# Shipped defaults (m, u) per level. m: share of true pairs showing the level; u: share of random
# pairs of different persons showing it. Measured on labelled synthetic data (seed 1, not the seed
# the accuracy benchmark reports on), then rounded and capped where synthetic data is cleaner than
# life (addresses, phones shared by families). `sinergi dedup calibrate` re-estimates them by EM.
DEFAULT_WEIGHTS = Weights(
    fields={
        NIK: _fw({"exact": (0.93, 1e-5), "typo": (0.06, 1e-4), "different": (0.01, 0.99989)}),
        # Two passports more than a typo apart are no veto (a renewed passport has a new number):
        # one true pair in twenty is taken to show two, so they weigh -4.3 bits (issue 22).
        PASSPORT: _fw({"exact": (0.90, 1e-5), "typo": (0.05, 1e-4), "different": (0.05, 0.99989)}),
        NAME: _fw(
            {
                "exact": (0.66, 5e-4),
                "phonetic": (0.09, 2e-4),
                "similar_high": (0.08, 2e-4),
                "exact_single": (0.10, 1e-3),
                "subset": (0.03, 2e-3),
                "similar_low": (0.03, 2e-3),
                "different": (0.01, 0.9951),
            }
        ),
        BIRTH_DATE: _fw(
            {
                "exact": (0.74, 1e-4),
                "day_month_swapped": (0.03, 5e-5),
                "typo": (0.12, 2e-3),
                "same_year": (0.005, 0.025),
                "year_only": (0.10, 8e-3),
                "different": (0.005, 0.96485),
            }
        ),
        SEX: _fw({"same": (0.99, 0.5), "different": (0.01, 0.5)}),
        NATIONALITY: _fw({"same": (0.995, 0.9), "different": (0.005, 0.1)}),
        PHONE: _fw({"exact": (0.75, 1e-3), "different": (0.25, 0.999)}),
        ADDRESS: _fw({"similar": (0.6, 2e-3), "partial": (0.2, 0.05), "different": (0.2, 0.948)}),
    },
    # Prior odds that two persons are one, before any field is compared: with it, probability
    # 0.9 (the default link threshold) needs about 13 bits of evidence (an equal name of two words
    # with the same birth year and sex) and 0.5 about 10 bits (an equal name alone: review).
    prior=0.001,
)

DEFAULT_LINK_THRESHOLD = 0.90
DEFAULT_REVIEW_THRESHOLD = 0.50


# ------------------------------------------------------------------------------- comparison


@dataclass(frozen=True, slots=True)
class FieldComparison:
    """One field's comparison level and its explanation in words (empty when missing)."""

    level: str
    reason: str = ""
    adjust: float = 0.0
    """Bits added to the level's weight for this very value (taken off a common name), often 0."""


# ------------------------------------------------------------------- name frequency
#
# "Siti Aminah" agreeing says less than "Khairul Kurniawan" agreeing: many people bear the first.
# Seen from one incoming person, the odds that a given stored record with the same name is the
# same person fall as 1/c, where c is how many stored records bear the name (Splink's "term
# frequency adjustment", counted online). A name agreement keeps its level's weight up to
# NAME_FREQUENCY_REFERENCE bearers and loses log2(c / reference) bits beyond. Counting stops at
# NAME_FREQUENCY_CAP, so a lookup stays bounded.
#
# Only common names move: the store is a sample of the country, so a name held once in the store
# may still be borne by thousands; rarity in the store is no evidence, commonness is.

NAME_FREQUENCY_REFERENCE = 4
#: Counting stops here: a name borne by 256 stored records already loses 6 bits, and the count
#: reads at most this many index entries.
NAME_FREQUENCY_CAP = 256
#: However common the name, agreeing on it never weighs less than this.
NAME_FREQUENCY_FLOOR_BITS = 1.0
#: Name levels whose weight follows the name's frequency: agreement on the very name (spelling
#: variants share the phonetic key that is counted); a near miss says little about frequency.
_FREQUENCY_LEVELS = frozenset({"exact", "exact_single", "phonetic"})


#: With calibrated term frequencies (``Weights.term_frequencies``), a whole-name agreement gains
#: at most this many bits for rare given and family names. Rarity in the store is weak evidence
#: (the store is a sample of the country), so the gain is capped; commonness is not capped.
TF_NAME_MAX_BITS = 2.0
#: An address agreement gains at most this many bits for a rare shared word (a small village's
#: or street's name) and loses at most TF_ADDRESS_MAX_LOSS for words everybody shares.
TF_ADDRESS_MAX_BITS = 2.0
TF_ADDRESS_MAX_LOSS = 3.0


_P = ParamSpec("_P")
_R = TypeVar("_R")

#: Answers ``memoized_on_terms`` keeps per term-frequency table (then it forgets them at once),
#: and without a table.
TERMS_MEMO_SIZE = 65536


def memoized_on_terms(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """``fn(*words, tf)``, pure on its words and the table: each answer computed once per table
    and kept on it (``TermFrequencies.memo``: a recounted table starts afresh), or kept in a
    bounded cache when there is no table. Scoring asks the same few names again for every pair.
    """
    arity = fn.__code__.co_argcount
    untold = lru_cache(maxsize=TERMS_MEMO_SIZE)(fn)

    @wraps(fn)
    def memoized(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        tf = args[-1] if len(args) == arity and not kwargs else False
        if tf is None:
            return untold(*args)
        if not isinstance(tf, TermFrequencies):
            return fn(*args, **kwargs)
        key = (fn, *args[:-1])
        memo = tf.memo
        try:
            return memo[key]  # type: ignore[no-any-return]
        except KeyError:
            if len(memo) >= TERMS_MEMO_SIZE:
                memo.clear()
            value = memo[key] = fn(*args, **kwargs)
            return value

    return memoized


@memoized_on_terms
def name_tf_bits(normalized_name: str, tf: TermFrequencies) -> float:
    """Bits a whole-name agreement on this name weighs more or less than an average one, from
    its given and family names' shares of the store (each ``log2(mean share / share)``)."""
    given, family = given_and_family(tuple(normalized_name.split()))
    bits = (tf.bits(GIVEN, given) if given else 0.0) + (tf.bits(FAMILY, family) if family else 0.0)
    return min(bits, TF_NAME_MAX_BITS)


def _whole_name_tf_bits(name: str, other: str, kind: str, tf: TermFrequencies) -> float:
    """``name_tf_bits`` of a whole name agreeing with ``other`` (``kind``: ``_name_level``'s);
    of two names in another word order ("Siregar Tiurma" / "Tiurma Siregar"), the commoner of
    the two readings. Read from the one written family name first, the given name is a family
    name few are given and the family name a given name few bear: that reading would count a
    common name rare, and the namesakes that share it alike."""
    bits = name_tf_bits(name, tf)
    if kind == "equal, order swapped":
        return min(bits, name_tf_bits(other, tf))
    return bits


@memoized_on_terms
def _one_word_tf_bits(a: str, b: str, tf: TermFrequencies) -> float:
    """Bits a name agreeing as "part of the other" loses when one side is a single word that
    many people are given (``TermFrequencies.bits`` of that given name, never a gain)."""
    word = a if " " not in a else b if " " not in b else None
    return 0.0 if word is None else min(0.0, tf.bits(GIVEN, word))


@lru_cache(maxsize=65536)
def name_frequency_key(normalized_name: str) -> str:
    """The blocking key whose holders are counted as bearers of a name (the weak ``nn:`` key)."""
    return f"nn:{'-'.join(phonetic_keys(normalized_name))}"


def name_frequency_keys(p: PersonFeatures) -> list[str]:
    """The keys to count for a person's name frequencies: one per name variant."""
    return list(dict.fromkeys(name_frequency_key(v) for v in p.name_variants if v.strip()))


def name_frequency_bits(count: int | None) -> float:
    """Bits to add (never positive) to a name agreement when ``count`` stored records bear it."""
    if count is None or count <= NAME_FREQUENCY_REFERENCE:
        return 0.0
    return -math.log2(count / NAME_FREQUENCY_REFERENCE)


def _frequency_word(count: int) -> str:
    return "a common name" if count >= NAME_FREQUENCY_REFERENCE * 8 else "a frequent name"


#: A field missing on either side: one answer shared by every pair (answers are immutable).
_MISSING_FIELD = FieldComparison(MISSING)


@lru_cache(maxsize=64)
def _agreement(level: str, label: str, words: str) -> FieldComparison:
    """An answer whose reason names no value ("NIK equal", "sex different"), built once."""
    return FieldComparison(level, f"{label} {words}")


def _identifier_level(a: str | None, b: str | None) -> str:
    """``compare_identifier``'s level alone (no reason in words)."""
    if not a or not b:
        return MISSING
    if a == b:
        return "exact"
    if OSA.distance(a, b, score_cutoff=1) <= 1:
        return "typo"
    return "different"


def compare_identifier(a: str | None, b: str | None, label: str) -> FieldComparison:
    """Exact, one-edit typo (substitution, insertion, deletion or adjacent swap) or different."""
    level = _identifier_level(a, b)
    if level == MISSING:
        return _MISSING_FIELD
    if level == "exact":
        return _agreement("exact", label, "equal")
    if level == "typo":
        return FieldComparison("typo", f"{label} differs by one character ({a} ~ {b})")
    return _agreement("different", label, "different")


def compare_niks(a: str | None, b: str | None, weights: Weights | None = None) -> FieldComparison:
    """NIKs as ``compare_identifier`` compares them, except two NIKs a slip from each other's
    (``niks_two_slips_apart``): "different", shown with both numbers for the analyst, but
    weighing nothing either way, and no veto."""
    compared = compare_identifier(a, b, "NIK")
    if compared.level != "different" or not niks_two_slips_apart(a, b):
        return compared
    bits = (weights or DEFAULT_WEIGHTS).fields[NIK].bits("different")
    return FieldComparison("different", f"NIK different ({a} ~ {b})", -bits)


def niks_two_slips_apart(a: str | None, b: str | None) -> bool:
    """Two valid NIKs two edits apart, of one sex, differing in the region or the birth date:
    one NIK that two clerks each mistyped once, not two persons' NIKs (a NIK is given once, for
    life). Twins' NIKs differ only in the serial; a brother's and a sister's in the serial and
    the day's first digit (a woman's day of birth is written plus 40)."""
    return (
        a is not None
        and b is not None
        and is_valid_nik(a)
        and is_valid_nik(b)
        and a[:12] != b[:12]
        and (a[6] >= "4") == (b[6] >= "4")
        and OSA.distance(a, b, score_cutoff=2) <= 2
    )


@lru_cache(maxsize=65536)
def _orderings_of(name: str) -> tuple[str, ...]:
    """The name written together in every word order (up to four words, else as written)."""
    tokens = name.split()
    if len(tokens) > 4:
        return ("".join(tokens),)
    return tuple(dict.fromkeys("".join(p) for p in permutations(tokens)))


@lru_cache(maxsize=65536)
def _phonetic_orderings(name: str) -> frozenset[str]:
    return frozenset(phonetic_token(j) for j in _orderings_of(name))


def _name_similarity(a: str, b: str) -> float:
    """Similarity in [0,1] tolerant of word order and of words written together or apart.

    Names are compared written together in every word order, because clerks both swap given and
    family names ("Hutapea Togar") and split or join words ("Seti Awan", "Nurhaliza").
    """
    joined_a, joined_b = a.replace(" ", ""), b.replace(" ", "")
    return (
        max(
            max(fuzz.ratio(joined, joined_b) for joined in _orderings_of(a)),
            max(fuzz.ratio(joined_a, joined) for joined in _orderings_of(b)),
        )
        / 100.0
    )


@lru_cache(maxsize=65536)
def _name_level(a: str, b: str) -> tuple[int, float, str]:
    """Rank (lower is stronger), similarity and kind of agreement between two normalized names."""
    if a == b:
        return 0, 1.0, "equal"
    joined_a, joined_b = a.replace(" ", ""), b.replace(" ", "")
    if joined_a == joined_b:
        return 0, 1.0, "equal ignoring spaces"
    if joined_b in _orderings_of(a) or joined_a in _orderings_of(b):
        return 0, 1.0, "equal, order swapped"
    sim = _name_similarity(a, b)
    phon_a, phon_b = phonetic_keys(a), phonetic_keys(b)
    if phon_a == phon_b or not _phonetic_orderings(a).isdisjoint(_phonetic_orderings(b)):
        return 1, sim, "sounds alike"
    if sim >= 0.92:
        return 2, sim, "similar"
    shorter, longer = (phon_a, phon_b) if len(phon_a) <= len(phon_b) else (phon_b, phon_a)
    if set(shorter) <= set(longer) or _one_word_of_the_other(a, b):
        return 3, sim, "part of the other"
    if sim >= 0.80 or (sim >= SLIPS_SIMILARITY and _slips_in_every_word(a, b)):
        return 4, sim, "similar"
    return 5, sim, "different"


#: Below "similar"'s 0.80, a name whose every word is its counterpart mistyped is still similar
#: ("eriaz keacny" / "eliza keany", 0.76): two slips in each of two short words.
SLIPS_SIMILARITY = 0.75


def _slips_in_every_word(a: str, b: str) -> bool:
    """Each word, in written order, one or two edits from the other name's word and beginning
    with the same letter: typed with slips, not another given name put in."""
    words_a, words_b = a.split(), b.split()
    return len(words_a) == len(words_b) > 1 and all(
        x[0] == y[0] and OSA.distance(x, y, score_cutoff=2) <= 2
        for x, y in zip(words_a, words_b, strict=True)
    )


def _one_word_of_the_other(a: str, b: str) -> bool:
    """One name is a single word, the other's word misspelt: "Paterdon" / "Mackenzie Paterson".

    The record then lacks the given name rather than bearing another one (a twin's): it is
    scored as part of the other name, as the same word spelt right already is.
    """
    one, other = (a, b) if " " not in a else (b, a)
    if " " in one or " " not in other or len(one) < 4:
        return False
    return any(
        len(word) >= 4 and fuzz.ratio(one, word) >= SAME_GIVEN_NAME_SIMILARITY
        for word in other.split()
    )


# Name levels by the rank ``_name_level`` returns; "exact_single" is set apart afterwards.
_NAME_LEVELS = ("exact", "phonetic", "similar_high", "subset", "similar_low", "different")
#: The names agree as written, whole or on the one word both are called by (an alias "Fajar"
#: beside "Fajar"): the same given name, which the twins rules never hold apart.
_EXACT_NAME_LEVELS = frozenset({"exact", "exact_single"})


def compare_names(
    a: PersonFeatures,
    b: PersonFeatures,
    name_counts: Mapping[str, int] | None = None,
    weights: Weights | None = None,
) -> FieldComparison:
    """Best agreement over both persons' name variants (own name, with father's name, aliases).

    ``name_counts``: stored records bearing each of ``a``'s names, by ``name_frequency_key``;
    an agreement on the name itself then weighs less for a common name.
    """
    if not a.name_variants or not b.name_variants:
        return _MISSING_FIELD
    best: tuple[int, float, str, int, int] | None = None
    for i, va in enumerate(a.name_variants):
        for j, vb in enumerate(b.name_variants):
            rank, sim, kind = _name_level(va, vb)
            if best is None or (rank, -sim) < (best[0], -best[1]):
                best = (rank, sim, kind, i, j)
    assert best is not None
    rank, sim, kind, i, j = best
    level = _NAME_LEVELS[rank]
    if level == "exact" and (
        (len(a.name_tokens) == 1 and len(b.name_tokens) == 1)
        or (" " not in a.name_variants[i] and " " not in b.name_variants[j])
    ):
        # "Sukarno" or "Sulastri" is shared by many people: a single name agreeing says less,
        # the person's own or an alias beside a longer name ("Shania" / "Shania Salahudin").
        level = "exact_single"
    adjust = 0.0
    note = ""
    count = None
    if name_counts is not None and level in _FREQUENCY_LEVELS:
        count = name_counts.get(name_frequency_key(a.name_variants[i]))
    tf = weights.term_frequencies if weights is not None else None
    if tf is not None and level in _FREQUENCY_LEVELS:
        adjust = _whole_name_tf_bits(a.name_variants[i], b.name_variants[j], kind, tf)
        if adjust >= 1.0:
            note = ", a rare name"
        elif adjust <= -1.0:
            note = ", a common name"
    elif tf is not None and level == "subset":
        # One word, part of the other's name ("Nur" / "Nur Lestari"): it weighs less as more
        # people are given it, never more for a rare one (the other words are not compared).
        adjust = _one_word_tf_bits(a.name_variants[i], b.name_variants[j], tf)
        if adjust <= -1.0:
            note = ", a common name"
    if count is not None and count > NAME_FREQUENCY_REFERENCE:
        # The stored bearers of this very name, counted now: the surest sign of a common name.
        counted = name_frequency_bits(count)
        if counted < adjust:
            adjust = counted
            note = f", {_frequency_word(count)}"
    if adjust < 0.0 and weights is not None:
        # Never below the floor: even a very common name agreeing is some evidence.
        base = weights.fields[NAME].bits(level)
        adjust = max(adjust, min(0.0, NAME_FREQUENCY_FLOOR_BITS - base))
    father = compare_fathers(a, b, level)
    if father is not None:
        adjust += father.adjust
        note += f", {father.reason}"
    # The notes come before the compared values, which ``without_values`` strips.
    shown = f"({a.raw_variants[i]} ~ {b.raw_variants[j]})"
    similarity = "" if rank == 0 else f" {sim:.2f}"
    return FieldComparison(level, f"name {kind}{similarity}{note} {shown}", adjust)


#: The father's name after bin/binti, when both records give it: (m, u) of its agreeing and of
#: its differing. Namesakes are told apart by it ("Maya Hidayat binti Sulaiman" / "… binti Umar");
#: a true pair shows another father's name only by a slip, while many strangers share a common
#: father's name (Abdullah, Muhammad), and siblings share it. Counted on the synthetic set
#: without ids, seed 1, among candidate pairs whose names are equal and which both give it: of
#: 376 pairs of different persons, 350 differ; of 322 true pairs, none does (the generator never
#: misspells a father's name, so m is set well above that).
FATHER_SAME = (0.90, 0.15)
FATHER_DIFFERENT = (0.05, 0.85)
#: Name levels on which a father's name agreeing adds evidence: the name itself equal. Siblings
#: share their father and are often named alike (Rina/Rini, Dewi/Dewa): counted on names that
#: only sound alike or are similar too, it joined sisters on the households set without ids
#: (precision 0.9521 → 0.9476).
_FATHER_NAME_LEVELS = frozenset({"exact", "exact_single"})


def compare_fathers(
    a: PersonFeatures, b: PersonFeatures, name_level: str
) -> FieldComparison | None:
    """The fathers' names (after bin/binti) as evidence on the name: bits and a note, or None
    when either record gives none, or they are neither alike nor different (one part of the
    other, or only somewhat similar). Alike as names are (spelling, typos, words joined)."""
    if not a.father_name or not b.father_name:
        return None
    rank = _name_level(a.father_name, b.father_name)[0]
    if rank <= 2 and name_level in _FATHER_NAME_LEVELS:
        m, u = FATHER_SAME
        return FieldComparison("same", "father's name the same", math.log2(m / u))
    if _NAME_LEVELS[rank] == "different":
        m, u = FATHER_DIFFERENT
        return FieldComparison("different", "father's name different", math.log2(m / u))
    return None


@lru_cache(maxsize=65536)
def _one_digit_apart(a: date, b: date) -> bool:
    """True when the YYYYMMDD forms differ in one digit or by swapping two adjacent digits."""
    return OSA.distance(_digits_of(a), _digits_of(b), score_cutoff=1) <= 1


@lru_cache(maxsize=65536)
def _digits_of(day: date) -> str:
    """The YYYYMMDD form of a date."""
    return day.strftime("%Y%m%d")


_BIRTH_DATE_EQUAL = FieldComparison("exact", "birth date equal")


def _birth_level(a: PersonFeatures, b: PersonFeatures) -> str:
    """``compare_birth``'s level alone (no reason in words)."""
    da, db = a.date_of_birth, b.date_of_birth
    if da is not None and db is not None:
        if da == db:
            return "exact"
        if da.year == db.year and da.day == db.month and da.month == db.day:
            return "day_month_swapped"
        if _one_digit_apart(da, db):
            return "typo"
        if da.year == db.year:
            return "same_year"
        return "different"
    if a.birth_year is None or b.birth_year is None:
        return MISSING
    if a.birth_year == b.birth_year:
        return "year_only"
    return "different"


def compare_birth(a: PersonFeatures, b: PersonFeatures) -> FieldComparison:
    """Birth date: exact, day/month swapped, one-digit typo, same year, year only, different."""
    level = _birth_level(a, b)
    da, db = a.date_of_birth, b.date_of_birth
    if level == "exact":
        return _BIRTH_DATE_EQUAL
    if level == "day_month_swapped":
        return FieldComparison("day_month_swapped", "birth date day/month swapped")
    if level == "typo":
        return FieldComparison("typo", f"birth date one digit apart ({da} ~ {db})")
    if level == "same_year":
        return FieldComparison("same_year", "birth year equal, day differs")
    if level == MISSING:
        return _MISSING_FIELD
    if level == "year_only":
        return FieldComparison("year_only", "birth year equal")
    if da is not None and db is not None:
        return FieldComparison("different", f"birth date different ({da} ≠ {db})")
    return FieldComparison("different", f"birth year different ({a.birth_year} ≠ {b.birth_year})")


def _compare_equal(a: str | None, b: str | None, label: str, same: str) -> FieldComparison:
    if not a or not b:
        return _MISSING_FIELD
    if a == b:
        return _agreement(same, label, "equal")
    return _agreement("different", label, "different")


def _address_level(a: PersonFeatures, b: PersonFeatures) -> tuple[str, float, frozenset[str]]:
    """``compare_address``'s level alone, with the Jaccard share and the words in common."""
    if not a.address_tokens or not b.address_tokens:
        return MISSING, 0.0, frozenset()
    common = a.address_tokens & b.address_tokens
    jaccard = len(common) / len(a.address_tokens | b.address_tokens)
    if jaccard >= 0.6 and min(len(a.address_tokens), len(b.address_tokens)) >= 3:
        return "similar", jaccard, common
    if jaccard >= 0.25:
        return "partial", jaccard, common
    return "different", jaccard, common


def compare_address(
    a: PersonFeatures, b: PersonFeatures, tf: TermFrequencies | None = None
) -> FieldComparison:
    """Share of distinctive address words in common (Jaccard): similar, partial or different.

    "Similar" needs three words on each side: a bare town name is shared by too many people.
    With term frequencies, an agreement weighs as much more or less as its rarest shared word
    is rarer or commoner than an average address word (capped both ways).
    """
    level, jaccard, common = _address_level(a, b)
    if level == MISSING:
        return _MISSING_FIELD
    if level == "similar":
        reason = f"address similar {jaccard:.2f}"
    elif level == "partial":
        reason = f"address partly shared {jaccard:.2f}"
    else:
        return _agreement("different", "address", "different")
    words = [w for w in common if not w.isdigit()]
    if tf is None or not words:
        return FieldComparison(level, reason)
    rarest = max(tf.bits(ADDRESS_WORD, w) for w in words)
    adjust = min(max(rarest, -TF_ADDRESS_MAX_LOSS), TF_ADDRESS_MAX_BITS)
    if adjust >= 1.0:
        reason += ", a rare place"
    elif adjust <= -1.0:
        reason += ", a common place"
    return FieldComparison(level, reason, adjust)


def comparison_vector(
    a: PersonFeatures,
    b: PersonFeatures,
    name_counts: Mapping[str, int] | None = None,
    weights: Weights | None = None,
) -> dict[str, FieldComparison]:
    """Every field's comparison level for a pair: the gamma vector of Fellegi-Sunter."""
    vector = {
        NIK: compare_niks(a.nik, b.nik, weights),
        PASSPORT: compare_identifier(a.passport, b.passport, "passport"),
        NAME: compare_names(a, b, name_counts, weights),
        BIRTH_DATE: compare_birth(a, b),
        SEX: _compare_equal(a.sex, b.sex, "sex", "same"),
        NATIONALITY: _compare_equal(a.nationality, b.nationality, "nationality", "same"),
        PHONE: _compare_equal(a.phone, b.phone, "phone", "exact"),
        ADDRESS: compare_address(a, b, weights.term_frequencies if weights else None),
    }
    if (
        vector[PASSPORT].level == "different"
        and vector[NAME].level == "different"
        and given_names_agree(a, b, weights.term_frequencies if weights else None)
    ):
        vector[PASSPORT] = _passport_with_the_new_name(weights)
    vector[BIRTH_DATE] = _year_beside_the_name(vector)
    return vector


#: Bits a birth year agreeing where one record gives the year only ("year_only") weighs more
#: beside the whole name agreeing and no phone or address that differs (``_year_beside_the_name``).
YEAR_BESIDE_NAME_BITS = 1.0
#: The name levels that are the whole name agreeing: as written (in any order) or sounding alike.
_WHOLE_NAME_LEVELS = frozenset({"exact", "phonetic"})


def _year_beside_the_name(vector: Mapping[str, FieldComparison]) -> FieldComparison:
    """The birth date's comparison, a year agreeing where one record gives only the year weighed
    ``YEAR_BESIDE_NAME_BITS`` more when the whole name agrees and neither the phone nor the
    address differs.

    The level's weight is its share of all pairs, most of which lack it because both records
    give a whole date; once one record gives only the year, a stranger is born that year one
    time in forty or so and the person's own record nearly always, so the year says more than
    the level weighs. A phone or an address that differs is a namesake's (the same name, born
    that year, living elsewhere): the year then keeps the level's weight.
    """
    birth = vector[BIRTH_DATE]
    if (
        birth.level != "year_only"
        or vector[NAME].level not in _WHOLE_NAME_LEVELS
        or vector[PHONE].level == "different"
        or vector[ADDRESS].level == "different"
    ):
        return birth
    return replace(birth, adjust=birth.adjust + YEAR_BESIDE_NAME_BITS)


def _passport_with_the_new_name(weights: Weights | None) -> FieldComparison:
    """Two passports beside one given name and two family names: a passport is issued anew
    under a new name (a married name), so the other number weighs nothing against the link."""
    bits = (weights or DEFAULT_WEIGHTS).fields[PASSPORT].bits("different")
    return FieldComparison("different", "passport different", -bits)


def comparison_levels(a: PersonFeatures, b: PersonFeatures) -> dict[str, str]:
    """The gamma vector as field → level name (``missing`` where either side lacks the field)."""
    return {name: fc.level for name, fc in comparison_vector(a, b).items()}


@dataclass(frozen=True, slots=True)
class MatchScore:
    """A scored pair: total evidence in bits, match probability, levels, veto and reasons."""

    log_likelihood: float
    probability: float
    levels: Mapping[str, str]
    reasons: tuple[str, ...]
    vetoed: bool = False
    review_only: bool = False
    """Names disagree and no NIK or passport agrees: an analyst decides, never the score alone."""
    confirmed: bool = False
    """An identifier vouches for the pair: the NIK equal or one typo apart (not twins' serials),
    or the passport equal."""


def veto_reason(a: PersonFeatures, b: PersonFeatures, levels: Mapping[str, str]) -> str | None:
    """Why a pair must never be linked automatically, or None.

    Two valid NIKs that differ beyond a one-digit typo are two people: a NIK is given once, for
    life; but not two NIKs a slip from each other's (``niks_two_slips_apart``). Two passports
    that differ are not proof (they weigh against the link, see ``DEFAULT_WEIGHTS``): a passport
    is renewed under a new number every five or ten years, a victim may carry an old and a new
    one or a forged one, and counter officers mistype them.
    """
    return _identifier_veto(levels[NIK], a.nik, b.nik)


def _identifier_veto(nik_level: str, nik_a: str | None, nik_b: str | None) -> str | None:
    if (
        nik_level == "different"
        and is_valid_nik(nik_a)
        and is_valid_nik(nik_b)
        and not niks_two_slips_apart(nik_a, nik_b)
    ):
        return "veto: two different NIKs"
    return None


def _probability(bits: float, prior: float) -> float:
    logit = bits * math.log(2) + math.log(prior / (1 - prior))
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    e = math.exp(logit)
    return e / (1.0 + e)


def _same_born_other_serial(a: str | None, b: str | None) -> bool:
    """Two valid NIKs equal in region and birth date (digits 1-12), differing in the serial.

    Twins registered together get NIKs like that, one digit apart: a "typo" level that must not
    vouch for a link the names contradict.
    """
    if a is None or b is None or not (is_valid_nik(a) and is_valid_nik(b)):
        return False
    return a != b and a[:12] == b[:12]


#: Serials of persons born the same day in one district, of one sex, are numbered from 0001 in
#: the order they are registered: two that far apart are not two such persons' serials.
NIK_SERIALS_APART = 100


def _serials_near(a: str, b: str) -> bool:
    """Two NIKs' serials (digits 13-16) fewer than ``NIK_SERIALS_APART`` apart: twins' or
    others' born that day in that district as likely as one serial mistyped in its last two
    digits. A slip in its first two digits puts them further apart (…2900 / …9200)."""
    return abs(int(a[12:]) - int(b[12:])) < NIK_SERIALS_APART


def _nik_vouches(a: PersonFeatures, b: PersonFeatures, levels: Mapping[str, str]) -> bool:
    """The NIKs are equal, or one typo apart outside the serial or far out of its sequence
    (see above)."""
    if levels[NIK] == "exact":
        return True
    return levels[NIK] == "typo" and not (
        _same_born_other_serial(a.nik, b.nik) and _serials_near(a.nik or "", b.nik or "")
    )


#: An immigration office numbers passports in sequence: numbers issued together share all but
#: their last this many characters.
PASSPORT_SEQUENCE_TAIL = 2


def _issued_in_sequence(a: str | None, b: str | None) -> bool:
    """Two passport numbers of one length, equal but for their last two characters, digits.

    Siblings and twins applying together (a household, or a group a recruiter brings to one
    office) get numbers like C1234567 and C1234568: one character apart, like a typo, but two
    passports, so that level must not vouch for a link the names contradict (as twins' NIKs).
    """
    if a is None or b is None or a == b or len(a) != len(b) or len(a) <= PASSPORT_SEQUENCE_TAIL:
        return False
    head = len(a) - PASSPORT_SEQUENCE_TAIL
    return a[:head] == b[:head] and a[head:].isdigit() and b[head:].isdigit()


def _passport_vouches(a: PersonFeatures, b: PersonFeatures, levels: Mapping[str, str]) -> bool:
    """The passports are equal, or one typo apart outside the issuing sequence (see above)."""
    if levels[PASSPORT] == "exact":
        return True
    return levels[PASSPORT] == "typo" and not _issued_in_sequence(a.passport, b.passport)


def _identifier_agrees(a: PersonFeatures, b: PersonFeatures, levels: Mapping[str, str]) -> bool:
    """A NIK or passport equal, or one character apart (except twins' NIKs and passports issued
    in sequence, see above)."""
    return _nik_vouches(a, b, levels) or _passport_vouches(a, b, levels)


def _given_name(p: PersonFeatures) -> str | None:
    """The word that names the person rather than the family: the first, after Muhammad, Siti…"""
    for token in p.name_tokens:
        if not shared_first_word(token):
            return token
    return None


_SPELLING_DIGRAPHS = (("dh", "d"), ("kh", "h"), ("th", "t"), ("ph", "f"), ("sy", "s"))
_SPELLING_LETTERS = str.maketrans({"y": "i", "j": "i", "v": "f", "p": "f", "q": "k"})
_VOWELS = frozenset("aeiou")


@lru_cache(maxsize=65536)
def _spelling_fold(token: str) -> str:
    """A given name with the spellings one name is written in folded together (Rizky/Rizki,
    Ramadhan/Ramadan, Fikri/Vikri, Yeyen/Jeyen in the old spelling, Shafiq/Shapiq, Fatimah/
    Fatima), doubled letters single; vowels kept, so that Rina/Rini and Hasan/Husain, twins'
    names, stay two names."""
    for written, said in _SPELLING_DIGRAPHS:
        token = token.replace(written, said)
    folded = token.translate(_SPELLING_LETTERS)
    if len(folded) > 3 and folded.endswith("h") and folded[-2] in _VOWELS:
        folded = folded[:-1]
    return "".join(ch for i, ch in enumerate(folded) if i == 0 or ch != folded[i - 1])


def _one_slip(a: str, b: str) -> bool:
    """One letter mistyped after the first, not one vowel for another: Jati/Jnti, Hotman/Hotmcn,
    but not Rina/Rini or Putra/Putri, which are two names (often twins'). The Javanese a/o
    (Suparna/Suparno, Sutrisna/Sutrisno) is one name."""
    if len(a) != len(b) or a[0] != b[0]:
        return False
    differ = [i for i in range(len(a)) if a[i] != b[i]]
    if len(differ) != 1:
        return False
    x, y = a[differ[0]], b[differ[0]]
    return {x, y} == {"a", "o"} or not (x in _VOWELS and y in _VOWELS)


@memoized_on_terms
def _same_given_name(first_a: str, first_b: str, tf: TermFrequencies | None = None) -> bool:
    """One given name, spelling aside: another spelling, two neighbouring letters swapped
    (Jaiml), a slip of one letter in a long name, or written together with the next word
    (Halimahfirmansyah).

    Once the store is counted, two given names that each at least three persons bear are two
    names unless they are one spelt two ways: parents give twins and siblings names a letter or
    two apart (Santi/Sinta, Lia/Lisa, Andi/Andri, Wahyu/Wahyudi), and a clerk's slip makes a word
    nobody bears. A store too young to have counted them still tells some by their form: a slip
    swaps neighbouring letters, not letters apart (Santi/Sinta, Nani/Nina), and a word written
    together with the next adds a whole word, not a syllable (Wahyu/Wahyudi, Arif/Arifin).
    """
    folded_a, folded_b = _spelling_fold(first_a), _spelling_fold(first_b)
    if folded_a == folded_b:
        return True
    if _two_names_people_bear(first_a, first_b, tf):
        return False
    shorter, longer = sorted((folded_a, folded_b), key=len)
    return (
        # As written or spelling folded: the fold may part a slip from its word ("hananh" /
        # "hannah" fold to "hananh" / "hana"). A slip of one letter is judged folded only:
        # "rizky" / "rizka" fold to Rizki and Rizka, two names a vowel apart.
        _one_slip(folded_a, folded_b)
        or any(
            (sorted(x) == sorted(y) and OSA.distance(x, y) == 1)
            or fuzz.ratio(x, y) >= SAME_GIVEN_NAME_SIMILARITY
            for x, y in ((folded_a, folded_b), (first_a, first_b))
        )
        or (
            len(shorter) >= 4
            and shorter in longer
            and (len(longer) - len(shorter) >= GLUED_REST or not longer.startswith(shorter))
        )
    )


#: The fewest letters a given name written together with the next word gains: a name's word has
#: three at least ("Nur", "Tan"); two more at its end are a longer name (Wahyu/Wahyudi,
#: Arif/Arifin). A word before it may be shorter ("Niwayan": Ni Wayan).
GLUED_REST = 3


def _two_names_people_bear(first_a: str, first_b: str, tf: TermFrequencies | None) -> bool:
    """Both words are given names established in the store (see ``misspelt_given_name``)."""
    if tf is None or shared_first_word(first_a) or shared_first_word(first_b):
        return False
    return min(tf.bearers(GIVEN, first_a), tf.bearers(GIVEN, first_b)) >= TF_ESTABLISHED_NAME


def _given_names_people_bear(
    a: PersonFeatures, b: PersonFeatures, tf: TermFrequencies | None
) -> bool:
    """Both persons' given names (see ``_given_name``) are names people bear, and not one name."""
    given_a, given_b = _given_name(a), _given_name(b)
    return (
        given_a is not None
        and given_b is not None
        and given_a != given_b
        and _two_names_people_bear(given_a, given_b, tf)
    )


#: A given name borne by at least this many counted persons is a name people are given...
TF_ESTABLISHED_NAME = 3
#: ...and one borne by at most this many, a step or two from it, is that name misspelt.
TF_MISSPELT_NAME = 1


@memoized_on_terms
def misspelt_given_name(first_a: str, first_b: str, tf: TermFrequencies | None) -> bool:
    """One of two close given names is a misspelling of the other, by the store's counts.

    Twins are given two names people bear ("Rina"/"Rini", both common); a clerk's slip makes a
    word nobody bears ("Sarsh" for "Sarah", "Jecob" for "Jacob"). So two given names one or two
    letters apart, one established in the store and the other borne by nobody else, are one
    name. Without counted frequencies nothing is judged misspelt.
    """
    if tf is None or min(len(first_a), len(first_b)) < 4:
        return False
    edits = OSA.distance(first_a, first_b, score_cutoff=2)
    if edits > 2:
        return False
    (rare, rare_count), (_, common_count) = sorted(
        ((word, tf.bearers(GIVEN, word)) for word in (first_a, first_b)), key=lambda wc: wc[1]
    )
    if rare_count > TF_MISSPELT_NAME or common_count < TF_ESTABLISHED_NAME:
        return False
    # Two slips from the name, one from a word siblings share ("Putrie": Putri, not Putra),
    # which the store does not count as a given name: that word's slip.
    return edits < 2 or not any(shared_first_word(word) for word in _edits_after_first(rare))


def _twin_name_mistyped(a: PersonFeatures, b: PersonFeatures, tf: TermFrequencies) -> bool:
    """The two names differ in one word only (the rest written alike, spaces aside), and that
    word is, on one side, a slip of another name than the other side's (``_slip_of_another_name``):
    "Irwao Hartono" beside "Iwan Hartono" is Irwan, Iwan's twin, mistyped."""
    if not any(_borne_by_nobody(word, tf) for word in (*a.name_tokens, *b.name_tokens)):
        return False
    length_a, length_b = sum(map(len, a.name_tokens)), sum(map(len, b.name_tokens))
    for i, word_a in enumerate(a.name_tokens):
        for j, word_b in enumerate(b.name_tokens):
            if (
                word_a != word_b
                and length_a - len(word_a) == length_b - len(word_b)
                and "".join(a.name_tokens[:i] + a.name_tokens[i + 1 :])
                == "".join(b.name_tokens[:j] + b.name_tokens[j + 1 :])
                and _slip_of_another_name(word_a, word_b, tf)
            ):
                return True
    return False


@memoized_on_terms
def _slip_of_another_name(first_a: str, first_b: str, tf: TermFrequencies) -> bool:
    """One of two given names more than one edit apart is a word nobody else bears, and the
    other a name people bear; a third name people bear, as close to the second as twins' names
    are (two edits or fewer), is one edit from the rare word: the slip is of that nearer name,
    not of the other ("irwav" is Irwan's, not Iwan's; "aguxs" Agus's, not Agung's; "wahyi"
    Wahyu's, not Wahyudi's), and the other is a twin's or sibling's name."""
    if shared_first_word(first_a) or shared_first_word(first_b):
        return False
    if OSA.distance(first_a, first_b, score_cutoff=1) <= 1:
        return False
    rare, other = (first_a, first_b) if _borne_by_nobody(first_a, tf) else (first_b, first_a)
    if not _borne_by_nobody(rare, tf) or not _a_given_name(other, tf):
        return False
    return any(
        OSA.distance(name, other, score_cutoff=2) <= 2 and _a_given_name(name, tf)
        for name in _established_near(rare, tf)
    )


def _borne_by_nobody(word: str, tf: TermFrequencies) -> bool:
    """A word no other counted person bears, as a given name or a family name: a slip."""
    return max(tf.bearers(GIVEN, word), tf.bearers(FAMILY, word)) <= TF_MISSPELT_NAME


def _established_near(word: str, tf: TermFrequencies) -> set[str]:
    """The given names people bear (``TF_ESTABLISHED_NAME``) one edit from ``word`` after its
    first letter (``_edits_after_first``)."""
    return {
        edit for edit in _edits_after_first(word) if tf.bearers(GIVEN, edit) >= TF_ESTABLISHED_NAME
    }


@lru_cache(maxsize=4096)
def _edits_after_first(word: str) -> frozenset[str]:
    """The words one edit from ``word`` after its first letter (as ``_one_slip``: a clerk's
    slip spares it): a letter left out, added or replaced, or two neighbouring letters swapped."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(1, len(word) + 1)]
    edits = {
        *(head + tail[1:] for head, tail in splits if tail),
        *(head + tail[1] + tail[0] + tail[2:] for head, tail in splits if len(tail) > 1),
        *(head + c + tail[1:] for head, tail in splits if tail for c in letters),
        *(head + c + tail for head, tail in splits for c in letters),
    }
    edits.discard(word)
    return frozenset(edits)


def _a_known_word(word: str, tf: TermFrequencies) -> bool:
    """A word siblings share (Siti, Ahmad, Nur, Sri…), or a name people bear (given or family)."""
    return shared_first_word(word) or (
        max(tf.bearers(GIVEN, word), tf.bearers(FAMILY, word)) >= TF_ESTABLISHED_NAME
    )


#: A slip of one letter may recur: one person's name mistyped alike in two reports, or a
#: clerk's habit ("Ptu" for Putu, borne by two persons counted). A word borne by one person
#: (the slip's own) beside a word people bear is a slip; one borne by two, only beside a word
#: siblings share or a name borne ``SLIP_RARITY`` times as often.
TF_SLIP_BEARERS = 2
SLIP_RARITY = 10


@memoized_on_terms
def _slip_of(word: str, known: str, tf: TermFrequencies) -> bool:
    """``word`` is ``known`` mistyped: one edit after the first letter ("sti"/"siti",
    "ahxmad"/"ahmad", "ntur"/"nur"), a word nobody else bears, or far fewer (``TF_SLIP_BEARERS``),
    beside a word siblings share or a name people bear, and no other given name people bear one
    edit from it ("rinx", beside Rina and Rini, is either). Words siblings share are not counted
    among those given names: "sti" beside "siti" is Siti, though Sri is one edit from it too. A
    sibling's name is a name people bear: Rina/Rini, Dewi/Dewa, Andi/Andri stay two names."""
    if word == known or word[0] != known[0] or shared_first_word(word):
        return False
    if abs(len(word) - len(known)) > 2:  # more than one edit, a letter doubled or not
        return False
    slips = max(tf.bearers(GIVEN, word), tf.bearers(FAMILY, word))
    if slips > _slip_bearers(word, known) or not _a_known_word(known, tf):
        return False
    if slips > TF_MISSPELT_NAME and not (
        shared_first_word(known)
        or max(tf.bearers(GIVEN, known), tf.bearers(FAMILY, known)) >= SLIP_RARITY * slips
    ):
        return False
    # As written, or else with a letter of either word written twice, as typed before
    # normalization ("Kweae" is one slip from "Kwee", which reads "kwe").
    typed = [
        spelt
        for spelt in ([word] if _one_edit(word, known) else _letter_doubled(word))
        if _one_edit(spelt, known)
    ] or [word for spelt in _letter_doubled(known) if _one_edit(word, spelt)][:1]
    return bool(typed) and all(_established_near(spelt, tf) <= {known} for spelt in typed)


def _one_edit(word: str, known: str) -> bool:
    """One letter left out, added or replaced, or two neighbouring letters swapped."""
    return abs(len(word) - len(known)) <= 1 and OSA.distance(word, known, score_cutoff=1) <= 1


@lru_cache(maxsize=4096)
def _letter_doubled(word: str) -> tuple[str, ...]:
    """``word`` with one of its letters written twice: how it may have been typed before
    normalization collapsed the doubled letter (``modernize_spelling``). A slip that leaves two
    equal letters side by side ("Dee" for Dede, "Yuuf" for Yusuf, "Liis" for Lilis, "Immm" for
    Imam) is then two edits from the name ("de"/"dede"), though the clerk slipped once."""
    return tuple(dict.fromkeys(word[: i + 1] + word[i] + word[i + 1 :] for i in range(len(word))))


#: The shortest slip taken for a word siblings share though three persons bear it: a short
#: word ("Sti") borne thrice is more likely a name than a habit (``misspelt_given_name`` also
#: leaves words under four letters alone).
SHARED_SLIP_LENGTH = 4


def _slip_bearers(word: str, known: str) -> int:
    """How many counted persons ``word``, a slip of ``known``, may be borne by: one more beside
    a word siblings share (Wayan, Gede, Siti), which the store does not count as a given name,
    so it is never seen ``SLIP_RARITY`` times as often as its slip, though it is among the
    commonest words of names ("wyan", typed for Wayan in three persons' reports)."""
    if shared_first_word(known) and len(word) >= SHARED_SLIP_LENGTH:
        return TF_SLIP_BEARERS + 1
    return TF_SLIP_BEARERS


def _mended(p: PersonFeatures, other: PersonFeatures, tf: TermFrequencies | None) -> PersonFeatures:
    """``p`` with each word that is a word of the other name mistyped (``_slip_of``) written as
    the other writes it: the twins rule then judges the names, not the clerk's slip."""
    if tf is None:
        return p
    tokens = tuple(
        next((known for known in other.name_tokens if _slip_of(word, known, tf)), word)
        if word not in other.name_tokens
        else word
        for word in p.name_tokens
    )
    return p if tokens == p.name_tokens else replace(p, name_tokens=tokens)


def _mended_alike(
    p: PersonFeatures, other: PersonFeatures, tf: TermFrequencies | None
) -> PersonFeatures:
    """``p`` with each word that, like a word of the other name, is no name people bear but a
    slip of one that is (``_slip_of``) written as that name: two clerks
    each slipped once on the same word ("Wiloiam" / "Willaim" Lazaroff, "Chaneler" /
    "Chandelr"), which is one word, not two names. Twins' names are names people bear, and a
    word one slip from two of them (Rinx: Rina or Rini) is no slip of either."""
    if tf is None:
        return p
    theirs = [word for word in other.name_tokens if word not in p.name_tokens]
    if not theirs:
        return p
    tokens = tuple(
        _common_slip(word, theirs, tf) or word if word not in other.name_tokens else word
        for word in p.name_tokens
    )
    return p if tokens == p.name_tokens else replace(p, name_tokens=tokens)


def _common_slip(word: str, others: Sequence[str], tf: TermFrequencies) -> str | None:
    """The name people bear that ``word`` and one of ``others``, neither a name people bear,
    are each a slip of, if any (see ``_mended_alike``)."""
    if _a_known_word(word, tf):
        return None
    for other in others:
        if other[0] != word[0] or _a_known_word(other, tf):
            continue
        for known in sorted(_edits_after_first(word) & _edits_after_first(other)):
            if _slip_of(word, known, tf) and _slip_of(other, known, tf):
                return known
    return None


def _bears_given_name(given: str, other: PersonFeatures, tf: TermFrequencies | None) -> bool:
    """Whether any word of the other name is this given name (names are written in any order)."""
    return any(
        _same_given_name(given, token, tf)
        or (
            misspelt_given_name(given, token, tf)
            # The store counts the word after Andi, Dewi, Eka… as the given name: a shared
            # first word's count says nothing about whether it is borne.
            and not shared_first_word(given)
            and not shared_first_word(token)
        )
        for token in other.name_tokens
    )


#: How alike two given names must be to be one name misspelt. "Rizky"/"Rizki" and "Sutrisno"/
#: "Sutrsino" are; "Rina"/"Rini", "Hasan"/"Husain", "Agus"/"Agung" (75-80) are twins' names.
SAME_GIVEN_NAME_SIMILARITY = 85


def given_names_agree(
    a: PersonFeatures, b: PersonFeatures, tf: TermFrequencies | None = None
) -> bool:
    """The first words of the two names agree (spelling aside), and are not words siblings share.

    Twins and siblings differ in the given name and share the family name; two records of one
    person whose family names disagree (married name, a clerk's slip, a name replaced) still
    share the given name. So names judged different with the given names agreeing are not the
    twins' pattern and are scored like any other pair.
    """
    if not a.name_tokens or not b.name_tokens:
        return False
    first_a, first_b = a.name_tokens[0], b.name_tokens[0]
    if (
        shared_first_word(first_a)
        or shared_first_word(first_b)
        or min(len(first_a), len(first_b)) < 3
    ):
        return False
    return (
        phonetic_token(first_a) == phonetic_token(first_b)
        or fuzz.ratio(first_a, first_b) >= 80
        or misspelt_given_name(first_a, first_b, tf)
    )


def _has_own_name(p: PersonFeatures, other: PersonFeatures, tf: TermFrequencies | None) -> bool:
    """Whether a word of ``p``'s name, not one siblings share, is no word of the other's name."""
    return any(
        not shared_first_word(token) and not _bears_given_name(token, other, tf)
        for token in p.name_tokens
    )


#: Birth dates that may be one day: equal, day and month swapped, one digit apart, or one record
#: giving only the year (the other's year).
SAME_DAY_LEVELS = frozenset({"exact", "day_month_swapped", "typo", "year_only"})
#: Birth dates (or years) in different years: siblings, never twins.
OTHER_YEAR_LEVELS = frozenset({"different"})
#: What the twins rule judges a pair on, by the birth dates: born the same day (twins), in
#: different years (siblings), or not known on one side (either). Not "same year, day differs".
TWINS_RULE_BIRTH_LEVELS = (SAME_DAY_LEVELS, OTHER_YEAR_LEVELS, frozenset({MISSING}))
#: The reason a pair held by the twins rule gives, by the birth dates' group above.
TWINS_RULE_REASONS = (
    "born the same day, given names differ, no identifier agrees: review only",
    "born in different years, given names differ, no identifier agrees: review only",
    "birth date unknown, given names differ, no identifier agrees: review only",
)


def twins_pattern(
    a: PersonFeatures,
    b: PersonFeatures,
    levels: Mapping[str, str],
    tf: TermFrequencies | None = None,
) -> bool:
    """Born the same day, or in different years, or either for all we know (a birth date
    missing), with two given names, and no identifier to say they are one person.

    Twins share the birth date, the family (or father's) name, the address and often the phone;
    their given names differ, if only by a letter or two ("Rina"/"Rini", "Hasan"/"Husain",
    "Muhammad Rizky"/"Muhammad Fajar"), and that alone tells them apart. Siblings born years
    apart are named in pairs too (Agung/Agus Saragih), and share all the rest but the birth date,
    which a clerk may mistype: two given names and two birth years are two corruptions of one
    person, or two siblings. Such a pair is left to an analyst however much else agrees.
    """
    if _twins_rule_group(levels) is None or levels[NAME] in _EXACT_NAME_LEVELS:
        return False
    if not a.name_tokens or not b.name_tokens:
        return False
    a, b = _rejoined(a, b), _rejoined(b, a)
    a, b = _rejoined_slip(a, b, tf), _rejoined_slip(b, a, tf)
    a, b = _unglued(a, b, tf), _unglued(b, a, tf)
    a, b = _unglued_alike(a, b, tf)
    a, b = _mended(a, b, tf), _mended(b, a, tf)
    a, b = _mended_alike(a, b, tf), _mended_alike(b, a, tf)
    if a.name_tokens == b.name_tokens:
        return False
    if tf is not None and _twin_name_mistyped(a, b, tf):
        return True
    # A name of shared words only ("Putri", "Komang Putra") is named by its last word.
    given_a = _given_name(a) or a.name_tokens[-1]
    given_b = _given_name(b) or b.name_tokens[-1]
    borne_a, borne_b = _bears_given_name(given_a, b, tf), _bears_given_name(given_b, a, tf)
    if not borne_a and not borne_b:
        return True
    if borne_a != borne_b and _has_own_name(a, b, tf) and _has_own_name(b, a, tf):
        # One record written family name first ("Sihombing Iwan" / "Irwan Sihombing"): its
        # "given name" is the other's family name, and each still bears a name the other lacks.
        return True
    # Both given names borne, and each name bears one other word the other lacks, both given
    # names people bear, more often given than family names (by the store's counts): a given
    # name after the family name ("Ong Lay Wahyu" / "Ong Lay Wahyudi", "The Lay Arif" / "The
    # Lay Arifin"), not one given name with two family names (Isabella Vincent / Nguyen).
    unborne_a = [word for word in a.name_tokens if not _bears_given_name(word, b, tf)]
    unborne_b = [word for word in b.name_tokens if not _bears_given_name(word, a, tf)]
    if (
        tf is not None
        and len(unborne_a) == len(unborne_b) == 1
        and _two_names_people_bear(unborne_a[0], unborne_b[0], tf)
        and all(tf.bearers(GIVEN, w) > tf.bearers(FAMILY, w) for w in (*unborne_a, *unborne_b))
    ):
        return True
    # Two first words siblings may share, but here do not: Dewi/Dewa Nasution, Eka/Dwi Lestari,
    # Andi/Andri Permadi. The family name after them agrees; the first words are two names.
    # A shared first word is a word of its own (Andi, a Bugis title, beside Andri): compared by
    # spelling, a swap of two letters or a consonant slip, not by similarity.
    first_a, first_b = a.name_tokens[0], b.name_tokens[0]
    if (
        first_a != first_b
        and (shared_first_word(first_a) or shared_first_word(first_b))
        and not any(_same_shared_word(first_a, token) for token in b.name_tokens)
        and not any(_same_shared_word(first_b, token) for token in a.name_tokens)
    ):
        return True
    # The same, wherever the names put those words ("REKSA PADMASARI DEWI" / "Dewa Reksa
    # Padmasari", "Setiawan Andri" / "Andi Setiawan"): each name has one word the other lacks,
    # one a word siblings share and the other such a word or a given name people bear, neither
    # the other's beginning (Abdu/Abdul, Ahmad/Ahmadi are one name). A typo of a shared word
    # ("arbdul" for Abdul) is a word nobody bears.
    own_a, own_b = _words_lacking(a, b), _words_lacking(b, a)
    if len(own_a) != 1 or len(own_b) != 1:
        return False
    word_a, word_b = own_a[0], own_b[0]
    return (
        (shared_first_word(word_a) or shared_first_word(word_b))
        and _a_given_name(word_a, tf)
        and _a_given_name(word_b, tf)
        and not (word_a.startswith(word_b) or word_b.startswith(word_a))
    )


#: The share of one person's pairs of records whose names compare "different" (the name's m,
#: as ``sinergi dedup calibrate`` estimates it on the store), from which on the store's names do
#: not tell persons apart (``names_tell_persons_apart``). The shipped weights take 0.01; EM
#: finds 0.003-0.004 on the synthetic sets, whose clerks slip but never write another name, and
#: 0.18-0.19 on FEBRL2 and FEBRL3, where one record in five gives the person another given name.
NAMES_OFTEN_DIFFER = 0.05


def names_tell_persons_apart(weights: Weights) -> bool:
    """Whether a name that differs is a sign of two persons in this store, by its calibration.

    The rules that hold a pair for review on its names alone (``twins_pattern``, and names
    judged different with no identifier agreeing) take a person's records to carry one name,
    slips aside, so that two given names beside one birth date and house are twins. A store
    whose calibration finds one person's records giving another name often
    (``NAMES_OFTEN_DIFFER``) shows that this does not hold there: such a pair is far more often
    a person's own record than a twin's, and it is scored on its weights, which already count
    what the names' disagreeing is worth. ``household_pattern`` (the sexes differ, NIKs in
    sequence) is other evidence and still holds.
    """
    return weights.fields[NAME].m.get("different", 0.0) < NAMES_OFTEN_DIFFER


def _rejoined(p: PersonFeatures, other: PersonFeatures) -> PersonFeatures:
    """``p`` with a word a space broke in two written whole again where the other name writes it
    so ("Hayd En Geraghty" beside "Hayden Geraghty"): the twins rule then compares "Hayden", not
    its first piece, which would pass for another name a syllable shorter (Wahyu/Wahyudi)."""
    tokens = list(p.name_tokens)
    i = 0
    while i < len(tokens) - 1:
        whole = tokens[i] + tokens[i + 1]
        if whole in other.name_tokens and whole not in tokens:
            tokens[i : i + 2] = [whole]
        i += 1
    if len(tokens) == len(p.name_tokens):
        return p
    return replace(p, name_tokens=tuple(tokens))


def _rejoined_slip(
    p: PersonFeatures, other: PersonFeatures, tf: TermFrequencies | None
) -> PersonFeatures:
    """``p`` with a word a space broke in two written whole again where the other name writes
    it with a slip, or the whole is itself mistyped ("Rob Inq" beside "Robin", "Wil Liam"
    beside "William", which reads "wiliam", "Cha Rles" beside "Chalres"): a clerk's space
    inside a word, as ``_rejoined``, not a twin's second name."""
    if tf is None or len(p.name_tokens) < 2:
        return p
    tokens = list(p.name_tokens)
    i = 0
    while i < len(tokens) - 1:
        whole = normalize_name(tokens[i] + tokens[i + 1])
        if whole not in tokens and (
            any(
                known not in p.name_tokens and _one_word_slipped(whole, known, tf)
                for known in other.name_tokens
            )
            or _broken_given_name(tokens[i], tokens[i + 1], whole, tf)
        ):
            tokens[i : i + 2] = [whole]
        i += 1
    if len(tokens) == len(p.name_tokens):
        return p
    return replace(p, name_tokens=tuple(tokens))


def _broken_given_name(head: str, tail: str, whole: str, tf: TermFrequencies) -> bool:
    """Two pieces nobody bears that make a given name people bear written whole ("Wahy Oedi"
    beside "Wahyu": Wahyudi, Wahyu's twin): the clerk's space broke the name, and the whole,
    not its first piece (a slip of the other's name), is compared."""
    return (
        tf.bearers(GIVEN, whole) >= TF_ESTABLISHED_NAME
        and _borne_by_nobody(head, tf)
        and _borne_by_nobody(tail, tf)
    )


def _one_word_slipped(word: str, known: str, tf: TermFrequencies) -> bool:
    """Two spellings of one word, a slip apart: equal, either a slip of the other
    (``_slip_of``), or both slips of one name people bear (``_common_slip``)."""
    return (
        word == known
        or _slip_of(word, known, tf)
        or _slip_of(known, word, tf)
        or _common_slip(word, (known,), tf) is not None
    )


def _a_given_name(word: str, tf: TermFrequencies | None) -> bool:
    """A word siblings share (Dewi, Andi, Eka…), or a given name people bear, more often as a
    given name than as a family name (by the counts)."""
    return shared_first_word(word) or (
        tf is not None
        and tf.bearers(GIVEN, word) >= TF_ESTABLISHED_NAME
        and tf.bearers(GIVEN, word) > tf.bearers(FAMILY, word)
    )


#: The shortest word taken for one of the other name's words written together with another.
GLUED_WORD = 4


def _twins_rule_group(levels: Mapping[str, str]) -> int | None:
    """Which of ``TWINS_RULE_BIRTH_LEVELS`` the pair's birth dates fall in, or None."""
    return _TWINS_RULE_GROUP_OF.get(levels[BIRTH_DATE])


#: ``_twins_rule_group`` by birth level, looked up once per level (the first group holding it).
_TWINS_RULE_GROUP_OF = {
    level: i for i, group in reversed(list(enumerate(TWINS_RULE_BIRTH_LEVELS))) for level in group
}


def _unglued(
    p: PersonFeatures, other: PersonFeatures, tf: TermFrequencies | None
) -> PersonFeatures:
    """``p`` with a word written together with one of the other name's words split in two,
    where the rest of it is a given name people bear (by the store's counts), or another word
    of the other name (``_glued_own_word``).

    "Agungherath" beside "Agus Herath" reads "Agung Herath", "Sintamendoza" beside "Santi
    Mendoza" "Sinta Mendoza": the given name is then compared as a word of its own (a twin's
    name, or the person's own spelt two ways) instead of the glued word taking in the other's
    family name and passing for it. A rest nobody bears ("Nain" of "Nainggolan" beside "Nang
    Golan", a slip) is left glued. Without counted frequencies nothing is split.
    """
    if tf is None:
        return p
    tokens: list[str] = []
    for token in p.name_tokens:
        for word in other.name_tokens:
            if len(word) < GLUED_WORD or len(token) - len(word) < 3:
                continue
            split = _split_off(token, word)
            if split is not None:
                rest, at_end = split
                # The letter the two words met on was written once ("Lilissaepudin" folds to
                # "lilisaepudin"): the rest may end (or begin) with it.
                whole = rest + word[0] if at_end else word[-1] + rest
                if whole in other.name_tokens or (
                    tf.bearers(GIVEN, rest) < TF_ESTABLISHED_NAME
                    and tf.bearers(GIVEN, whole) >= TF_ESTABLISHED_NAME
                ):
                    rest = whole
                rest = normalize_name(rest)
                if (
                    tf.bearers(GIVEN, rest) >= TF_ESTABLISHED_NAME
                    or _shared_word_beside_names(rest, other, tf)
                    or _glued_own_word(rest, word, other, tf)
                ):
                    tokens += (rest, word) if at_end else (word, rest)
                    break
        else:
            tokens.append(token)
    if len(tokens) == len(p.name_tokens):
        return p
    return replace(p, name_tokens=tuple(tokens))


def _shared_word_beside_names(rest: str, other: PersonFeatures, tf: TermFrequencies) -> bool:
    """The rest of a glued word is a word siblings share (Andi, Sri…: the store does not count
    it as a given name), and no word of the other name is a slip one edit from it: "Andiwibowo"
    beside "Andri Wibowo" is Andi, Andri's brother; beside "Slri Nurhaliza" (Sri or Sari
    mistyped) the glued word is left whole."""
    return shared_first_word(rest) and not any(
        _one_edit(word, rest) and _borne_by_nobody(word, tf) for word in other.name_tokens
    )


def _unglued_alike(
    a: PersonFeatures, b: PersonFeatures, tf: TermFrequencies | None
) -> tuple[PersonFeatures, PersonFeatures]:
    """Both names with a given name written together with one family name people bear split
    in two, where each record glues its own given name to it ("Andiwibowo" / "Andriwibowo":
    Andi and Andri Wibowo): ``_unglued`` finds no word of the other name to split off, and the
    two glued words, a letter apart, would pass for one name. A word that is itself a given
    name people bear ("Rahmawati" beside "Ramawati") is not glued."""
    if tf is None:
        return a, b
    for i, word_a in enumerate(a.name_tokens):
        for j, word_b in enumerate(b.name_tokens):
            if (
                word_a == word_b
                or word_a in b.name_tokens
                or word_b in a.name_tokens
                or max(tf.bearers(GIVEN, word_a), tf.bearers(GIVEN, word_b)) >= TF_ESTABLISHED_NAME
            ):
                continue
            family = _family_name_glued_to_both(word_a, word_b, tf)
            if family is None:
                continue
            given_a, given_b = word_a[: -len(family)], word_b[: -len(family)]
            tokens_a, tokens_b = list(a.name_tokens), list(b.name_tokens)
            tokens_a[i : i + 1] = [given_a, family]
            tokens_b[j : j + 1] = [given_b, family]
            return replace(a, name_tokens=tuple(tokens_a)), replace(b, name_tokens=tuple(tokens_b))
    return a, b


def _family_name_glued_to_both(word_a: str, word_b: str, tf: TermFrequencies) -> str | None:
    """The longest family name people bear that both words end with, after two given names
    (each people bear, or a word siblings share) that differ; None if there is none."""
    shared = 0
    while shared < min(len(word_a), len(word_b)) and word_a[-1 - shared] == word_b[-1 - shared]:
        shared += 1
    for size in range(shared, GLUED_WORD - 1, -1):
        family = word_a[-size:]
        given_a, given_b = word_a[:-size], word_b[:-size]
        if (
            given_a
            and given_b
            and tf.bearers(FAMILY, family) >= TF_ESTABLISHED_NAME
            and all(
                tf.bearers(GIVEN, given) >= TF_ESTABLISHED_NAME or shared_first_word(given)
                for given in (given_a, given_b)
            )
        ):
            return family
    return None


def _glued_own_word(rest: str, word: str, other: PersonFeatures, tf: TermFrequencies) -> bool:
    """The rest of a glued word is another word of the other name, spelling aside ("Noor" of
    "Allamnoor" beside "Nur Alam", "Mohammed" of "Mohammedbibi" beside "Mohammed Bibi"), or
    that word mistyped (``_slip_of``: "katut" of "Katutariani" beside "Ketut Ariani"): the
    glued word is the other name written together, not a given name of its own."""
    return bool(rest) and any(
        known != word and (rest == known or _slip_of(rest, known, tf))
        for known in other.name_tokens
    )


def _split_off(token: str, word: str) -> tuple[str, bool] | None:
    """What is left of ``token`` once ``word`` is taken off its end or its beginning, and
    whether it was the end; the word as written there or spelt another way, a letter longer or
    shorter ("Fitriahakim" beside "Fitri Hakiem": Fitria Hakim)."""
    if token.endswith(word):
        return token[: -len(word)], True
    if token.startswith(word):
        return token[len(word) :], False
    spelt = _spelling_fold(word.replace("ie", "i"))
    for size in (len(word) - 1, len(word) + 1):
        if size < GLUED_WORD or len(token) - size < 3:
            continue
        if _spelling_fold(token[-size:].replace("ie", "i")) == spelt:
            return token[:-size], True
        if _spelling_fold(token[:size].replace("ie", "i")) == spelt:
            return token[size:], False
    return None


def _next_number(a: str | None, b: str | None) -> bool:
    """Two numbers equal but for a last part one apart (…2532 / …2533): the next serial."""
    if a is None or b is None or len(a) != len(b):
        return False
    tail = 4
    head_a, head_b, tail_a, tail_b = a[:-tail], b[:-tail], a[-tail:], b[-tail:]
    return (
        head_a == head_b
        and tail_a.isdigit()
        and tail_b.isdigit()
        and abs(int(tail_a) - int(tail_b)) == 1
    )


def household_pattern(a: PersonFeatures, b: PersonFeatures, levels: Mapping[str, str]) -> bool:
    """Born the same day (or in different years) under two names, and something says two
    persons: the sexes differ and so do the given names, spelling aside (Rahma/Rahmat,
    Dewi/Dewa), or the NIKs or passports are the next serial of each other (…2532/…2533), as
    twins registered or applying together get them, while a typo lands on any digit with any
    value, unless both records give one given name (``_one_given_name``)."""
    if (
        levels[NAME] in _EXACT_NAME_LEVELS
        or levels[BIRTH_DATE] not in SAME_DAY_LEVELS | OTHER_YEAR_LEVELS
    ):
        return False
    if levels[SEX] == "different" and a.name_tokens and b.name_tokens:
        given_a = _given_name(a) or a.name_tokens[-1]
        given_b = _given_name(b) or b.name_tokens[-1]
        if _spelling_fold(given_a) != _spelling_fold(given_b):
            return True
        # Dewi/Dewa Kusuma, "Siregar Putrra" / "Putri Siregar": the word siblings share says
        # which of them, wherever it is written.
        own_a, own_b = _words_lacking(a, b), _words_lacking(b, a)
        if own_a and own_b and any(shared_first_word(word) for word in own_a + own_b):
            return True
    return (
        (_same_born_other_serial(a.nik, b.nik) and _next_number(a.nik, b.nik))
        or (_issued_in_sequence(a.passport, b.passport) and _next_number(a.passport, b.passport))
    ) and not _one_given_name(a, b)


def _one_given_name(a: PersonFeatures, b: PersonFeatures) -> bool:
    """Both records give one given name, spelling, a slip of one letter or two neighbouring
    letters swapped aside ("Benjamin Cames" / "Benjamni Camens"): twins and siblings are given
    two names, so numbers one apart beside it are one number mistyped, not the next serial."""
    if not a.name_tokens or not b.name_tokens:
        return False
    folded_a = _spelling_fold(_given_name(a) or a.name_tokens[-1])
    folded_b = _spelling_fold(_given_name(b) or b.name_tokens[-1])
    return (
        folded_a == folded_b
        or (sorted(folded_a) == sorted(folded_b) and OSA.distance(folded_a, folded_b) == 1)
        or _one_slip(folded_a, folded_b)
    )


def _words_lacking(p: PersonFeatures, other: PersonFeatures) -> list[str]:
    """The words of ``p``'s name the other name lacks, spelling aside (``_same_shared_word``)."""
    return [
        word
        for word in p.name_tokens
        if not any(_same_shared_word(word, token) for token in other.name_tokens)
    ]


def _same_shared_word(a: str, b: str) -> bool:
    """One word, spelling aside: another spelling (Dwi/Dwie), two neighbouring letters swapped, a
    consonant mistyped, or written together with a word before or after it (Ikomang,
    Dewinasution)."""
    folded_a, folded_b = _spelling_fold(a.replace("ie", "i")), _spelling_fold(b.replace("ie", "i"))
    shorter, longer = sorted((folded_a, folded_b), key=len)
    return (
        folded_a == folded_b
        or (sorted(folded_a) == sorted(folded_b) and OSA.distance(folded_a, folded_b) == 1)
        or _one_slip(folded_a, folded_b)
        or (len(longer) - len(shorter) >= 4 and longer.startswith(shorter))
        or (len(longer) - len(shorter) <= 2 and len(shorter) >= 4 and longer.endswith(shorter))
    )


def _score(
    vector: Mapping[str, FieldComparison],
    veto: str | None,
    weights: Weights,
    identifier_agrees: bool,
    confirmed: bool = False,
    given_agree: bool = False,
    twins: bool = False,
    born_apart: bool = False,
) -> MatchScore:
    levels = {name: fc.level for name, fc in vector.items()}
    names_differ = levels[NAME] == "different" and not identifier_agrees and not given_agree
    names_differ = names_differ and names_tell_persons_apart(weights)
    held = names_differ or (twins and not identifier_agrees)
    if born_apart and veto is None and not held:
        vector = _household_contact(vector, weights)
    bits = 0.0
    reasons: list[str] = []
    for name, fc in vector.items():
        if fc.level == MISSING:
            continue
        bits += weights.fields[name].bits(fc.level) + fc.adjust
        reasons.append(fc.reason)
    if veto is not None:
        reasons.insert(0, veto)
        return MatchScore(bits, 0.0, levels, tuple(reasons), vetoed=True)
    if names_differ:
        # Twins and siblings share birth date, phone and address; only a name or an identifier
        # tells them apart, so with different names and no identifier the pair is never linked.
        reasons.insert(0, "names different and no identifier agrees: review only")
    elif held:
        reasons.insert(0, TWINS_RULE_REASONS[_twins_rule_group(levels) or 0])
    return MatchScore(
        bits,
        _probability(bits, weights.prior),
        levels,
        tuple(reasons),
        review_only=held,
        confirmed=confirmed,
    )


#: Two birth dates this many digits apart or more (YYYYMMDD, day and month also read swapped)
#: are two persons' dates: a clerk's slip changes one digit, two clerks' slips two.
BORN_APART_DIGITS = 3
#: What an address shared with a phone weighs, at most, between persons born apart: one
#: household's contact, said twice (siblings share both), not two agreements.
HOUSEHOLD_ADDRESS_BITS = 1.0


def _digits_apart(a: date, b: date) -> int:
    """How many of the eight digits of YYYYMMDD differ."""
    x, y = f"{a.year:04d}{a.month:02d}{a.day:02d}", f"{b.year:04d}{b.month:02d}{b.day:02d}"
    return sum(p != q for p, q in zip(x, y, strict=True))


def _born_apart(a: PersonFeatures, members: Sequence[PersonFeatures]) -> bool:
    """Whether ``a``'s birth date is ``BORN_APART_DIGITS`` or more digits from that of every
    record giving one, each read as written and with its day and month swapped: not one
    person's date mistyped, once in each record, but a brother's or a sister's."""
    if a.date_of_birth is None:
        return False
    dated = [m.date_of_birth for m in members if m.date_of_birth is not None]
    return bool(dated) and all(
        _digits_apart(x, y) >= BORN_APART_DIGITS
        for other in dated
        for x in _readings(a.date_of_birth)
        for y in _readings(other)
    )


def _readings(born: date) -> tuple[date, ...]:
    """A birth date as written, and with day and month swapped where that is a date."""
    if born.day <= 12 and born.day != born.month:
        return born, date(born.year, born.day, born.month)
    return (born,)


def _shares_household_contact(vector: Mapping[str, FieldComparison]) -> bool:
    """The phone equal and the address shared, as persons of one household have them."""
    return vector[PHONE].level == "exact" and vector[ADDRESS].level not in (MISSING, "different")


def _household_contact(
    vector: Mapping[str, FieldComparison], weights: Weights
) -> Mapping[str, FieldComparison]:
    """The vector with an address shared beside an equal phone weighing at most
    ``HOUSEHOLD_ADDRESS_BITS``, for persons born apart (``_born_apart``): the phone and the
    address are then the household's, one piece of evidence, not two. A pair the twins rule
    holds keeps its weight: an analyst is still asked about it."""
    address = vector[ADDRESS]
    excess = weights.fields[ADDRESS].bits(address.level) + address.adjust - HOUSEHOLD_ADDRESS_BITS
    if excess <= 0:
        return vector
    return {**vector, ADDRESS: replace(address, adjust=address.adjust - excess)}


def compare(
    a: PersonFeatures,
    b: PersonFeatures,
    weights: Weights = DEFAULT_WEIGHTS,
    name_counts: Mapping[str, int] | None = None,
) -> MatchScore:
    """Score a pair: sum of per-field log-likelihood ratios, its probability, reasons in words.

    ``name_counts`` (see ``compare_names``) weighs an agreement on a common name less.
    """
    vector = comparison_vector(a, b, name_counts, weights)
    levels = {name: fc.level for name, fc in vector.items()}
    tf = weights.term_frequencies
    return _score(
        vector,
        veto_reason(a, b, levels),
        weights,
        _identifier_agrees(a, b, levels),
        confirmed=_nik_vouches(a, b, levels) or levels[PASSPORT] == "exact",
        given_agree=levels[NAME] == "different" and given_names_agree(a, b, tf),
        twins=(names_tell_persons_apart(weights) and twins_pattern(a, b, levels, tf))
        or household_pattern(a, b, levels),
        born_apart=_shares_household_contact(vector) and _born_apart(a, [b]),
    )


def compare_entity(
    a: PersonFeatures,
    members: Sequence[PersonFeatures],
    weights: Weights = DEFAULT_WEIGHTS,
    name_counts: Mapping[str, int] | None = None,
) -> MatchScore:
    """Score a person against an entity: per field, the best agreement with any of its records.

    An entity known from several reports knows more than any one of them (the NIK from the
    passport office, the phone from the police, the birth date from the shelter); an incoming
    person that agrees with each on a different field is scored on all of them. A veto needs every
    record that carries the identifier to contradict it.

    The twins rule (``twins_pattern``, ``household_pattern``) is judged against each record born
    the same day: when most of them bear a given name the rule calls another than the incoming
    one's, the entity is review only for this person unless an identifier joins them, though one
    of its records agrees (a twin's mistyped record that joined it, or a typo that turns one
    twin's name into the other's); before, one such record carried the twin into the entity. Not
    on any one record: a person's own mistyped record would then hold back the person (FEBRL).
    """
    if not members:
        raise ValueError("an entity has at least one record")
    vectors = [comparison_vector(a, member, name_counts, weights) for member in members]
    member_levels = [{name: fc.level for name, fc in vector.items()} for vector in vectors]
    best: dict[str, FieldComparison] = {} if len(members) > 1 else dict(vectors[0])
    # A birth date is compared with the records that give one: a record giving the year only
    # agrees with the namesake born that year on another day, which the dated records deny.
    dated = a.date_of_birth is not None and any(m.date_of_birth is not None for m in members)
    # One record (most entities a lookup shows): its comparison is the entity's, as below.
    for name in FIELDS if len(members) > 1 else ():
        present = [
            v[name]
            for m, v in zip(members, vectors, strict=True)
            if v[name].level != MISSING
            and not (name == BIRTH_DATE and dated and m.date_of_birth is None)
        ]
        if not present:
            best[name] = _MISSING_FIELD
            continue
        best[name] = (
            present[0]
            if len(present) == 1
            else max(present, key=lambda fc: weights.fields[name].bits(fc.level) + fc.adjust)
        )
    levels = {name: fc.level for name, fc in best.items()}
    veto = None
    if (
        levels[NIK] == "different"
        and is_valid_nik(a.nik)
        and any(is_valid_nik(member.nik) for member in members)
        and not any(niks_two_slips_apart(a.nik, member.nik) for member in members)
    ):
        veto = "veto: two different NIKs"
    agrees = any(
        _identifier_agrees(a, member, levels_m)
        for member, levels_m in zip(members, member_levels, strict=True)
    )
    tf = weights.term_frequencies
    given = levels[NAME] == "different" and any(given_names_agree(a, m, tf) for m in members)
    group = _twins_rule_group(levels)
    born = frozenset() if group is None else TWINS_RULE_BIRTH_LEVELS[group]
    names_told = names_tell_persons_apart(weights)
    judged = [
        (
            m,
            vector[NAME].level,
            (names_told and twins_pattern(a, m, levels_m, tf)) or household_pattern(a, m, levels_m),
        )
        for m, vector, levels_m in zip(members, vectors, member_levels, strict=True)
        if levels_m[BIRTH_DATE] in born
    ]
    holding = [m for m, _, held in judged if held]
    if holding:
        # A record whose name differs from the incoming one, given names too ("Oei mun Rudi"
        # beside "Oei Bun Rida"), vouches for no link either: it sides with those holding the
        # twin apart.
        holding += [
            m
            for m, name, held in judged
            if not held and name == "different" and not given_names_agree(a, m, tf)
        ]
    # Held apart by most of the entity's records born that day (or, none born that day, in
    # another year, or with no birth date): its records that agree with the incoming name may be
    # a twin's mistyped record that joined it. An even split holds too when a record holding the
    # twin apart is given a name people bear, as the incoming person is, and no other record
    # gives the incoming person's given name ("Sinta" against "Santi" and a mistyped "IBU
    # SANNTB"; not "Santi" against "Santi" and "Sinta").
    own = _given_name(a)
    twins = group is not None and (
        2 * len(holding) > len(judged)
        or (
            2 * len(holding) == len(judged) > 0
            and any(_given_names_people_bear(_unglued(a, m, tf), m, tf) for m in holding)
            and not any(_given_name(m) == own for m, _, held in judged if not held)
        )
    )
    born_apart = _shares_household_contact(best) and _born_apart(a, members)
    return _score(
        best, veto, weights, agrees, given_agree=given, twins=twins, born_apart=born_apart
    )


#: Added to an entity's bound (``entity_score_bound``): a sum taken in another order than
#: ``_score``'s may differ in its last bits; a bound must never fall below the score it bounds.
_BOUND_MARGIN = 1e-6


def entity_score_bound(
    a: PersonFeatures,
    members: Sequence[PersonFeatures],
    weights: Weights = DEFAULT_WEIGHTS,
    *,
    names: bool = False,
) -> float:
    """The most ``compare_entity(a, members, weights, …)`` can weigh, in bits, whatever the name
    counts: each field's level from the fields cheap to compare (identifiers, birth date, sex,
    nationality, phone, address words), with the most the rules can add to it (a passport or
    NIK weighing nothing instead of against, a year beside the whole name, a rare place), and
    the name as if equal, rare and with the father's name the same; with ``names``, the name's
    own level (``_name_level``) instead of equal. The bounds ``decide_entities`` uses.
    """
    bound, others, named = _bounds(a, members, weights, _name_bits_top(weights, None))
    return _named_bound(a, members, weights, others) if names and named else bound


def _named_bound(
    a: PersonFeatures, members: Sequence[PersonFeatures], weights: Weights, others: float
) -> float:
    """The bound from the name's own level, given the other fields' part (``_bounds``)."""
    return others + _name_bound(a, members, weights) + _BOUND_MARGIN


def _bounds(
    a: PersonFeatures, members: Sequence[PersonFeatures], weights: Weights, name_top: float
) -> tuple[float, float, bool]:
    """``entity_score_bound`` without the name's level, the fields but the name alone, and
    whether the name's level can lower it (a record gives a name)."""
    others, name = _bound_but_the_name(a, members, weights, name_top)
    if name is None:
        return others + _BOUND_MARGIN, others, False
    return others + name + _BOUND_MARGIN, others, True


def _name_bits_top(weights: Weights, level: str | None) -> float:
    """The most a name agreeing at ``level`` (None: any level) weighs, its adjustments (a rare
    name, the father's name the same) included."""
    fw = weights.fields[NAME]
    if level is None:
        bits = max(fw.bits(one) for one in fw.m)
    elif level == "exact":
        bits = max(fw.bits("exact"), fw.bits("exact_single"))
    else:
        bits = fw.bits(level)
    if weights.term_frequencies is not None and (level is None or level in _FREQUENCY_LEVELS):
        bits += TF_NAME_MAX_BITS
    return bits


_FATHER_SAME_BITS = max(0.0, math.log2(FATHER_SAME[0] / FATHER_SAME[1]))


def _bound_but_the_name(
    a: PersonFeatures,
    members: Sequence[PersonFeatures],
    weights: Weights,
    name_top: float,
) -> tuple[float, float | None]:
    """``entity_score_bound``'s fields but the name, summed, and the name's part as if equal
    (None: no record gives a name beside ``a``'s). Per field the best record's, as
    ``compare_entity`` takes it; a field no record gives adds nothing. ``name_top``:
    ``_name_bits_top(weights, None)``."""
    fw = weights.fields
    tf = weights.term_frequencies is not None
    unset = -math.inf
    nik = passport = name = birth = sex = nationality = phone = address = unset
    dated = a.date_of_birth is not None and any(m.date_of_birth is not None for m in members)
    for m in members:
        if a.nik and m.nik:
            level = _identifier_level(a.nik, m.nik)
            bits = fw[NIK].bits(level)
            nik = max(nik, max(bits, 0.0) if level == "different" else bits)
        if a.passport and m.passport:
            level = _identifier_level(a.passport, m.passport)
            bits = fw[PASSPORT].bits(level)
            passport = max(passport, max(bits, 0.0) if level == "different" else bits)
        if a.name_variants and m.name_variants:
            father = _FATHER_SAME_BITS if a.father_name and m.father_name else 0.0
            name = max(name, name_top + father)
        if not (dated and m.date_of_birth is None):
            level = _birth_level(a, m)
            if level != MISSING:
                bits = fw[BIRTH_DATE].bits(level)
                birth = max(birth, bits + YEAR_BESIDE_NAME_BITS if level == "year_only" else bits)
        if a.sex and m.sex:
            sex = max(sex, fw[SEX].bits("same" if a.sex == m.sex else "different"))
        if a.nationality and m.nationality:
            same = a.nationality == m.nationality
            nationality = max(nationality, fw[NATIONALITY].bits("same" if same else "different"))
        if a.phone and m.phone:
            phone = max(phone, fw[PHONE].bits("exact" if a.phone == m.phone else "different"))
        if a.address_tokens and m.address_tokens:
            level = _address_level(a, m)[0]
            bits = fw[ADDRESS].bits(level)
            address = max(
                address, bits + TF_ADDRESS_MAX_BITS if tf and level != "different" else bits
            )
    total = 0.0
    for bits in (nik, passport, birth, sex, nationality, phone, address):
        if bits != unset:
            total += bits
    return total, None if name == unset else name


def _name_bound(a: PersonFeatures, members: Sequence[PersonFeatures], weights: Weights) -> float:
    """The most the name weighs against any of the records giving one, from its level (the
    strongest of ``_name_level`` over both persons' variants, as ``compare_names`` takes it)."""
    top = -math.inf
    for m in members:
        if not a.name_variants or not m.name_variants:
            continue
        rank = min(_name_level(va, vb)[0] for va in a.name_variants for vb in m.name_variants)
        level = _NAME_LEVELS[rank]
        bits = _name_bits_top(weights, level)
        if level == "exact" and a.father_name and m.father_name:
            bits += _FATHER_SAME_BITS
        top = max(top, bits)
    return top


def _shares_identifier(a: PersonFeatures, members: Sequence[PersonFeatures]) -> bool:
    """Whether a record of the entity gives ``a``'s very NIK or passport number."""
    return any(
        (a.nik is not None and m.nik == a.nik)
        or (a.passport is not None and m.passport == a.passport)
        for m in members
    )


# --------------------------------------------------------------------------------- decision


@dataclass(frozen=True, slots=True)
class Decision(Generic[K]):
    """Resolution of one person: link to a candidate, record a possible match, or a new entity."""

    outcome: Outcome
    candidate: K | None = None
    score: MatchScore | None = None
    alternatives: tuple[tuple[K, MatchScore], ...] = field(default=())
    """Other candidates at or above the review threshold, best first, for analysts."""


def decide(
    scored_candidates: Iterable[tuple[K, MatchScore]],
    link_threshold: float = DEFAULT_LINK_THRESHOLD,
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
) -> Decision[K]:
    """Pick the best candidate; link at or above ``link_threshold``, review at or above the floor.

    A candidate may appear several times (one per stored record of an entity): its best score
    counts, and one vetoed record (two valid NIKs that differ) rules the candidate out,
    unless another of its records vouches for the link by identifier (``MatchScore.confirmed``:
    the same NIK, or one typo apart, or the same passport): then the entity already holds this
    identifier, and the contradicting record is the one in doubt, not the link. A review-only
    best candidate (a twin) gives way to the best candidate that links on its own: it stays
    among the alternatives, never bridged. A candidate holding the same NIK or passport number
    is proposed for review however low it scores, or however its NIK contradicts
    (``SHARED_IDENTIFIER_REASON``): it is never linked on that number alone.
    """
    best_per_candidate: dict[K, MatchScore] = {}
    vetoed: set[K] = set()
    confirmed: set[K] = set()
    #: Ruled out by their NIK, but holding the incoming passport number: for an analyst.
    vetoed_sharing: dict[K, MatchScore] = {}
    for candidate, score in scored_candidates:
        if score.confirmed:
            confirmed.add(candidate)
        if score.vetoed:
            vetoed.add(candidate)
            if _identifier_equal(score):
                vetoed_sharing.setdefault(candidate, score)
            continue
        held = best_per_candidate.get(candidate)
        if held is None or score.log_likelihood > held.log_likelihood:
            best_per_candidate[candidate] = score
    ranked = sorted(
        ((c, s) for c, s in best_per_candidate.items() if c not in vetoed - confirmed),
        key=lambda item: item[1].log_likelihood,
        reverse=True,
    )
    if not ranked:
        return _new_unless_shared(list(vetoed_sharing.items()), None, ())
    best_candidate, best = ranked[0]
    if best.review_only:
        # A twin held back for review does not hold back the person's own record behind it,
        # when that record's name agrees at least as well as the twin's: a weaker name (the
        # "Nur" of an entity of "Nur" beside a held "Nur Amalia") is somebody else as likely.
        best_candidate, best = next(
            (
                (c, s)
                for c, s in ranked
                if not s.review_only
                and s.probability >= link_threshold
                and _name_strength(s) >= _name_strength(best)
            ),
            (best_candidate, best),
        )
    others = tuple(
        (c, s) for c, s in ranked if c != best_candidate and s.probability >= review_threshold
    )
    if best.probability >= link_threshold and not best.review_only:
        return Decision(Outcome.LINK, best_candidate, best, others)
    if best.probability >= review_threshold:
        return Decision(Outcome.REVIEW, best_candidate, best, others)
    sharing = [(c, s) for c, s in ranked if _identifier_equal(s)]
    return _new_unless_shared([*sharing, *vetoed_sharing.items()], best, others)


def decide_entities(
    a: PersonFeatures,
    entities: Sequence[tuple[K, Sequence[PersonFeatures]]],
    weights: Weights = DEFAULT_WEIGHTS,
    name_counts: Mapping[str, int] | None = None,
    link_threshold: float = DEFAULT_LINK_THRESHOLD,
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
    scores: dict[K, MatchScore] | None = None,
) -> Decision[K]:
    """``decide`` over ``compare_entity`` of every entity (each key once), the same decision,
    scoring only the entities that can take part in it.

    An entity is left unscored when its bound (``entity_score_bound``) is below both the lower
    threshold and the best score of an entity not vetoed, and none of its records gives the
    person's NIK or passport: it can then be neither the best candidate, nor an alternative,
    nor a candidate sharing an identifier, the only ways ``decide`` uses a score. Entities are
    scored in the order of their bounds, the likeliest first, so that the best score is known
    early. ``scores``: the entities' scores known already (the same records), kept and reused;
    filled with those computed here.
    """
    known: dict[K, MatchScore] = {} if scores is None else scores
    floor = min(link_threshold, review_threshold)
    best = max(
        (
            known[key].log_likelihood
            for key, _members in entities
            if key in known and not known[key].vetoed
        ),
        default=-math.inf,
    )
    name_top = _name_bits_top(weights, None)
    pending = [
        (math.inf, 0.0, False, index)
        if _shares_identifier(a, members)
        else (*_bounds(a, members, weights, name_top), index)
        for index, (key, members) in enumerate(entities)
        if key not in known
    ]
    pending.sort(key=lambda item: item[0], reverse=True)
    prior = weights.prior
    for bound, others, named, index in pending:
        if bound < best and _probability(bound, prior) < floor:
            continue
        key, members = entities[index]
        if named:
            # Closer, from the name's own level: most candidates a name key finds are namesakes
            # whom the birth date, the sex or the phone tell apart, or another name altogether.
            bound = _named_bound(a, members, weights, others)
            if bound < best and _probability(bound, prior) < floor:
                continue
        score = known[key] = compare_entity(a, members, weights, name_counts)
        if not score.vetoed and score.log_likelihood > best:
            best = score.log_likelihood
    return decide(
        [(key, known[key]) for key, _members in entities if key in known],
        link_threshold,
        review_threshold,
    )


#: How closely two names agree, for a held twin's giving way (``decide``): higher is closer.
#: A name spelt close however closely ("similar" above or below 0.92: "Irwao" beside Irwan)
#: bears every word of the other, and ranks above a name of fewer words ("Nur" beside "Nur
#: Amalia"), somebody else as likely.
_NAME_STRENGTH = {
    "exact": 4,
    "exact_single": 4,
    "phonetic": 3,
    "similar_high": 2,
    "similar_low": 2,
    "subset": 1,
}


def _name_strength(score: MatchScore) -> int:
    """How closely the names agree (``_NAME_STRENGTH``; 0 when different or missing)."""
    return _NAME_STRENGTH.get(score.levels.get(NAME, "different"), 0)


def _new_unless_shared(
    sharing: Sequence[tuple[K, MatchScore]],
    best: MatchScore | None,
    others: tuple[tuple[K, MatchScore], ...],
) -> Decision[K]:
    """NEW, unless a candidate holds the same NIK or passport number (the first of
    ``sharing``): one number under another name and birth date, or beside another NIK, is the
    same person misrecorded, or a document lent, sold or forged. Never answered "new" in
    silence; proposed for review, never linked."""
    if not sharing:
        return Decision(Outcome.NEW, None, best, others)
    candidate, score = sharing[0]
    reasons = (SHARED_IDENTIFIER_REASON, *score.reasons)
    return Decision(Outcome.REVIEW, candidate, replace(score, reasons=reasons), others)


#: Why a pair scored below the review threshold is still proposed for review.
SHARED_IDENTIFIER_REASON = "the same NIK or passport under another identity: review"


def _identifier_equal(score: MatchScore) -> bool:
    return score.levels.get(NIK) == "exact" or score.levels.get(PASSPORT) == "exact"


#: An incoming person who matches a second entity at least this surely, besides the one it links
#: to, shows the two were one person all along: resolution merges them (reversibly).
DEFAULT_MERGE_THRESHOLD = 0.99


def bridged(decision: Decision[K], threshold: float = DEFAULT_MERGE_THRESHOLD) -> list[K]:
    """Other candidates the linked person matches at or above ``threshold``, to merge with it.

    Only a link bridges, and never on a review-only score; the caller must still check that the
    two entities' identifiers do not contradict each other (``identifiers_conflict``).
    """
    if decision.outcome is not Outcome.LINK:
        return []
    return [c for c, s in decision.alternatives if s.probability >= threshold and not s.review_only]


def identifiers_conflict(first: Iterable[str], second: Iterable[str]) -> bool:
    """Whether any NIK of one group would veto a link with any NIK of the other group."""
    others = list(second)
    return any(
        _identifier_veto(compare_identifier(nik_a, nik_b, "NIK").level, nik_a, nik_b) is not None
        for nik_a in first
        for nik_b in others
    )


def without_values(reasons: Sequence[str]) -> list[str]:
    """Match reasons with the compared values left out, for callers who may not see them.

    ``compare`` explains a near miss with both values ("NIK differs by one character (… ~ …)",
    "name sounds alike 0.93 (… ~ …)"); one side is another agency's data, so only the words
    before the values remain.
    """
    return [reason.split(" (", 1)[0] for reason in reasons]
