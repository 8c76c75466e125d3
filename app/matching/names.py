"""Indonesian personal names, normalized for matching only (the stored report keeps what was sent).

Two agencies rarely write one person's name the same way: a passport office types
``HJ. SITI NURHALIZA BINTI ABDULLAH``, a police report ``Siti Nur Haliza``, an NGO ``Nurhaliza``.
The functions here strip what is not the name (titles, degrees), separate the father's name that
follows ``bin``/``binti``, bring pre-1972 spellings (*Ejaan Soewandi*) to today's (EYD), and derive
phonetic keys that agree across the remaining spelling habits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Prefix honorifics and religious or forms-of-address titles, compared without dots.
# They describe the person's standing (hajj done, profession, marital status), not who they are,
# and one agency writes them while the next leaves them out.
_HONORIFICS = frozenset(
    {
        "h", "hj", "haji", "hajah", "hajjah", "kh", "ust", "ustadz", "ustaz", "ustadzah",
        "ir", "dr", "drs", "dra", "drg", "prof", "apt", "bapak", "bpk", "pak", "ibu", "bu",
        "sdr", "sdri", "saudara", "saudari", "tn", "tuan", "ny", "nyonya", "nn", "nona",
        "mr", "mrs", "ms", "miss", "alm", "almh", "almarhum", "almarhumah",
    }
)  # fmt: skip

# Academic degrees written after the name (``S.Pd.``, ``S.H., M.M.``), compared without dots.
_DEGREES = frozenset(
    {
        "spd", "sh", "se", "mm", "st", "skom", "ssos", "sag", "sip", "ssi", "skep", "sked",
        "sfarm", "spsi", "sikom", "sp", "ssn", "stp", "sthi", "spdi", "shi", "sei", "sth",
        "mpd", "msi", "mh", "mkes", "mkom", "mt", "mba", "msc", "ma", "mag", "mhum", "mp",
        "amd", "amdkep", "amdkeb", "phd", "bsc", "ba", "ners", "lc", "dipl",
    }
)  # fmt: skip

# Written between a person's own name and the father's name: "Ahmad bin Abdullah".
_PATRONYM_MARKERS = frozenset({"bin", "binti", "bt", "bte", "binte"})

# Balinese birth-order and gender markers: "I Made Suarta" and "Made Suarta" are one man.
_BALINESE_MARKERS = frozenset({"i", "ni"})

# Old spellings (Ejaan Van Ophuijsen / Soewandi) still found in names of people born before 1972
# and in their children's names: Djoko→Joko, Tjahjono→Cahyono, Soekarno→Sukarno, Nji→Nyi,
# Sjahrir→Syahrir, Chairul→Khairul. Applied longest first.
_OLD_SPELLINGS = (
    ("tj", "c"),
    ("dj", "j"),
    ("nj", "ny"),
    ("sj", "sy"),
    ("oe", "u"),
    ("ch", "kh"),
)

# Every way Indonesian documents abbreviate or transliterate the Prophet's name, after the old
# spellings are modernized and doubled letters are collapsed. One canonical token, so that
# "Mochammad Rizky", "Muhamad Rizky" and "M. Rizky" agree.
_MUHAMMAD = "muhamad"
_MUHAMMAD_VARIANTS = frozenset(
    {
        "m", "md", "mhd", "moh", "mokh", "muh", "mukh", "mohd", "muhd", "mokhd",
        "muhamad", "mohamad", "mohamed", "muhamed", "mokhamad", "mukhamad", "mohamat",
        "muhamat", "mokhamat", "mukhamat", "mamad", "muhammad", "mohammad",
    }
)  # fmt: skip

# "Nur" (light) is written Noor, Nor or Nurul ("light of", with the Arabic article).
_NUR_VARIANTS = frozenset({"nur", "noor", "nor", "nurul", "nour"})

_WORD = re.compile(r"[a-z]+")
_APOSTROPHES = str.maketrans("", "", "'`\u2019\u2018")
_DOUBLED = re.compile(r"([a-z])\1+")


@dataclass(frozen=True, slots=True)
class NameParts:
    """A normalized name: the person's own name and, apart, the father's name after bin/binti."""

    own: str
    father: str = ""

    @property
    def full(self) -> str:
        """Own and father's name as one string, the way many forms write it without bin/binti."""
        return f"{self.own} {self.father}".strip()


def _fold(raw: str) -> str:
    """Lowercase and strip accents, so that "é" and "e" compare equal."""
    decomposed = unicodedata.normalize("NFKD", raw)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def modernize_spelling(token: str) -> str:
    """Bring one lowercase name token to today's spelling and collapse doubled letters.

    Doubled letters are collapsed because "Muhammad"/"Muhamad" and "Ellyana"/"Elyana" are the
    same name written by different clerks; the old spellings are listed in ``_OLD_SPELLINGS``.
    """
    for old, new in _OLD_SPELLINGS:
        token = token.replace(old, new)
    return _DOUBLED.sub(r"\1", token)


def _canonical_token(token: str) -> str:
    """Spelling-modernized token with the Muhammad and Nur variants folded to one form."""
    token = modernize_spelling(token)
    if token in _MUHAMMAD_VARIANTS:
        return _MUHAMMAD
    if token in _NUR_VARIANTS:
        return "nur"
    return token


def _strip_titles(chunks: list[str]) -> list[str]:
    """Drop honorifics before the name and degrees after it (or anywhere they carry dots)."""
    kept: list[str] = []
    after_comma = False
    leading = True
    for chunk in chunks:
        if chunk == ",":
            after_comma = True
            continue
        bare = "".join(_WORD.findall(chunk))
        if not bare:
            continue
        dotted = "." in chunk
        if leading and bare in _HONORIFICS:
            continue
        if bare in _DEGREES and (dotted or after_comma):
            continue
        if after_comma and bare in _HONORIFICS:
            continue
        leading = False
        kept.append(chunk)
    # Undotted degrees at the very end ("Budi Santoso SH"): only when a name remains.
    while len(kept) > 1 and "".join(_WORD.findall(kept[-1])) in _DEGREES:
        kept.pop()
    return kept


def parse_name(raw: str) -> NameParts:
    """Normalize a written name into the person's own name and the father's name.

    Case, accents, punctuation and spacing are dropped, titles and degrees stripped, old spellings
    modernized, and the Muhammad/Nur variants folded; what follows bin/binti is the father's name
    (kept apart because one agency writes it and the next does not).
    """
    # An apostrophe marks an Arabic glottal stop inside one word (Ma'ruf, Mu'min, Jum'at).
    folded = _fold(raw).translate(_APOSTROPHES).replace(",", " , ")
    chunks = _strip_titles(folded.split())
    own: list[str] = []
    father: list[str] = []
    target = own
    for chunk in chunks:
        for word in _WORD.findall(chunk):
            if word in _PATRONYM_MARKERS and own:
                target = father
                continue
            target.append(_canonical_token(word))
    while len(own) > 1 and own[0] in _BALINESE_MARKERS:
        own.pop(0)
    # Written family name first, the marker ends up last: "Komang Astawa I".
    while len(own) > 1 and own[-1] in _BALINESE_MARKERS:
        own.pop()
    return NameParts(own=" ".join(own), father=" ".join(father))


def normalize_name(raw: str) -> str:
    """The person's own name normalized for matching (see ``parse_name``; father's name apart)."""
    return parse_name(raw).own


# First words that brothers, sisters and twins share as often as not, so a first word agreeing
# says nothing about being one person: the Prophet's name, Siti, Nur, Balinese birth-order names,
# Javanese/Sundanese birth-order and honorific first names, Acehnese, Bugis and Javanese nobility.
_SHARED_FIRST_WORDS = frozenset(
    {
        "muhamad", "ahmad", "akhmad", "abdul", "abdu", "siti", "nur", "sri", "dewi", "putri",
        "putu", "wayan", "gede", "made", "kadek", "nengah", "komang", "nyoman", "ketut", "luh",
        "gusti", "anak", "eka", "dwi", "tri", "catur", "panca",
        "raden", "rr", "andi", "teuku", "cut", "tengku", "daeng", "la", "wa", "ni", "i",
    }
)  # fmt: skip


@lru_cache(maxsize=65536)
def shared_first_word(normalized: str) -> bool:
    """Whether a name's first word is one siblings commonly share (Muhammad, Siti, Made…)."""
    tokens = normalized.split()
    return not tokens or tokens[0] in _SHARED_FIRST_WORDS


def name_tokens(normalized: str) -> tuple[str, ...]:
    """The words of a normalized name, in written order."""
    return tuple(normalized.split())


# Phonetic classes for consonant confusions heard in Indonesian names and their transliterations:
# Arabic digraphs lose their second letter in everyday spelling (Syamsul/Samsul, Ramadhan/Ramadan,
# Fathur/Fatur, Khairul/Hairul), Sundanese and Javanese speakers exchange f/p/v (Fitri/Pitri,
# Vivi/Fifi), z is heard as s (Faizal/Faisal, Haliza/Halisa), q and x as k, and old "j" is today's
# "y" (Jusuf/Yusuf) while old "dj" is today's "j" (Djoko/Joko): j and y share a class.
_PHONETIC_DIGRAPHS = (
    ("kh", "h"),
    ("sy", "s"),
    ("sh", "s"),
    ("dh", "d"),
    ("th", "t"),
    ("gh", "g"),
    ("ph", "f"),
    ("ck", "k"),
)
_PHONETIC_LETTERS = str.maketrans({"q": "k", "x": "k", "z": "s", "y": "j", "v": "f", "p": "f"})
_VOWELS = frozenset("aeiou")
_Y_AS_VOWEL = re.compile(r"y(?![aeiou])")


@lru_cache(maxsize=65536)
def phonetic_token(token: str) -> str:
    """A phonetic key for one normalized name token.

    Keeps the first sound and the consonant skeleton: vowels after the first letter vary most
    between spellings (Slamet/Selamet, Sutrisno/Sutresno), and so does a silent or dropped "h"
    (Fatimah/Fatima, Rahmat/Ramat). Consonant classes are listed in ``_PHONETIC_DIGRAPHS`` and
    ``_PHONETIC_LETTERS``.
    """
    if not token:
        return ""
    for digraph, sound in _PHONETIC_DIGRAPHS:
        token = token.replace(digraph, sound)
    # "y" before a vowel is a consonant (Yusuf, Wahyu); elsewhere it is written for "i" (Rizky,
    # Sity, Dewy).
    token = _Y_AS_VOWEL.sub("i", token)
    token = token.translate(_PHONETIC_LETTERS)
    head, tail = token[0], token[1:]
    if head in _VOWELS:
        head = "a"  # Umar/Oemar/Omar, Iwan/Ewan: an initial vowel is one class.
    skeleton = "".join(ch for ch in tail if ch not in _VOWELS and ch != "h")
    return _DOUBLED.sub(r"\1", head + skeleton)


@lru_cache(maxsize=65536)
def phonetic_keys(normalized: str) -> tuple[str, ...]:
    """Phonetic keys of a normalized name's tokens, sorted so that swapped name order agrees.

    Sorting is why "Simanjuntak Rudolf" and "Rudolf Simanjuntak" (a Batak clan name written first)
    or "Tan Siu Lan" and "Siu Lan Tan" produce the same keys; a single name gives a single key.
    """
    return tuple(sorted(phonetic_token(t) for t in name_tokens(normalized)))


def phonetic_name_key(normalized: str) -> str:
    """The whole name's phonetic key as one string (order-independent), for blocking."""
    return "-".join(phonetic_keys(normalized))
