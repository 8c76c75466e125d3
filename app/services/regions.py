"""Finding a Kemendagri region by what an officer types: a name (dumai) or a code (14.72)."""

from __future__ import annotations

from app.vocab.code_lists import REGIONS, Code, code_list


def find_regions(text: str, *, limit: int = 10) -> list[Code]:
    """Regions whose code starts with ``text`` or whose name contains it, best first:
    an exact code, then names starting with the words typed, then the others, provinces first."""
    wanted = " ".join(text.casefold().split())
    if not wanted:
        return []
    ranked: list[tuple[int, str, Code]] = []
    for code in code_list(REGIONS).codes:
        name = code.label_id.casefold()
        bare = name.removeprefix("kabupaten ").removeprefix("kota ").removeprefix("provinsi ")
        if code.code == wanted:
            rank = 0
        elif code.code.startswith(wanted):
            rank = 1
        elif bare.startswith(wanted) or name.startswith(wanted):
            rank = 2
        elif wanted in name:
            rank = 3
        else:
            continue
        ranked.append((rank, code.code, code))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [code for _, _, code in ranked[:limit]]


def region_name(code: str | None) -> str | None:
    """The Indonesian name of a region code (None when unknown or not given)."""
    found = code_list(REGIONS).get(code) if code else None
    return found.label_id if found else None
