"""The documentation stays true: every setting is in the table, every link leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: Pages other parts of the work are writing; a link to one may wait for it.
PENDING_PAGES = {
    "docs/testing.md",
}


def test_the_configuration_table_lists_exactly_the_settings() -> None:
    table = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(SINERGI_[A-Z0-9_]+)` \|", table, flags=re.MULTILINE))
    expected = {f"SINERGI_{name.upper()}" for name in Settings.model_fields}
    assert sorted(expected - documented) == [], "settings missing from docs/configuration.md"
    assert sorted(documented - expected) == [], "rows naming no setting in docs/configuration.md"


def test_the_settings_table_is_one_table() -> None:
    """A blank line inside a Markdown table ends it: the rows after it render as a paragraph."""
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0].strip()
    rows = section.splitlines()
    assert all(row.startswith("|") for row in rows), "the settings table is interrupted"


def _anchors(text: str) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)
    slugs = set()
    for heading in headings:
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        slugs.add(slug)
    return slugs


def test_every_relative_link_leads_to_a_file_and_heading() -> None:
    broken = []
    for page in DOCS:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            shown = linked.relative_to(ROOT).as_posix() if linked.is_relative_to(ROOT) else path
            if not linked.is_relative_to(ROOT):
                broken.append(f"{page.name}: {target} (outside the repository)")
            elif not linked.exists():
                if shown not in PENDING_PAGES:
                    broken.append(f"{page.name}: {target}")
            elif (
                anchor
                and linked.suffix == ".md"
                and anchor not in _anchors(linked.read_text(encoding="utf-8"))
            ):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


def test_the_readme_is_a_front_door() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) < 12_000, "move the detail into docs/"
    assert "## Bahasa Indonesia" in readme
    assert "sinergi serve --demo" in readme
    assert "python -m pytest" in readme
