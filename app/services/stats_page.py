"""The coordination-meeting report: one self-contained HTML page with inline SVG bar charts.

No scripts, fonts, images or styles are fetched: the page renders the same on a meeting-room
screen with no network. Headings are bilingual (Indonesian / English); a suppressed count is
drawn as a hatched stub labelled "< threshold", never as its value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from app.schemas.stats import GroupBy, StatsCell, StatsCount, StatsOut

CHART_WIDTH = 1120
#: At most this many bars per category chart; the rest are named in a note.
MAX_BARS = 15

_TITLES: dict[GroupBy, tuple[str, str]] = {
    GroupBy.MONTH: ("Laporan per bulan", "Reports per month"),
    GroupBy.MODUS: ("Modus operandi", "Methods (modus operandi)"),
    GroupBy.DESTINATION_COUNTRY: ("Negara tujuan", "Destination country"),
    GroupBy.REGION: ("Wilayah (kabupaten/kota)", "Region (regency/city)"),
    GroupBy.CASE_TYPE: ("Jenis perkara", "Case type"),
    GroupBy.EXPLOITATION_TYPE: ("Bentuk eksploitasi", "Exploitation type"),
    GroupBy.PROVINCE: ("Provinsi", "Province"),
    GroupBy.SOURCE_AGENCY: ("Instansi pelapor", "Reporting agency"),
}
#: The groupings drawn as charts; the others appear as tables beside the totals.
CHARTED = (GroupBy.MONTH, GroupBy.MODUS, GroupBy.DESTINATION_COUNTRY, GroupBy.REGION)

_STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; padding: 32px 48px; font-family: "DejaVu Sans", "Segoe UI", Roboto, Arial,
  sans-serif; color: #14202b; background: #ffffff; font-size: 20px; line-height: 1.4; }
header { border-bottom: 6px solid #1f5f8b; padding-bottom: 12px; margin-bottom: 24px; }
h1 { font-size: 40px; margin: 0 0 4px; }
h1 .en, h2 .en, th .en { color: #4a5a68; font-weight: normal; }
h2 { font-size: 28px; margin: 36px 0 8px; }
.meta { font-size: 20px; color: #33434f; margin: 4px 0; }
.note { font-size: 17px; color: #4a5a68; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr));
  gap: 24px 48px; align-items: start; }
table { border-collapse: collapse; font-size: 22px; width: 100%; }
th, td { padding: 8px 16px; border-bottom: 1px solid #c9d3dc; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; font-weight: bold; }
figure { margin: 0 0 8px; }
svg.chart { width: 100%; height: auto; max-width: 1600px; }
.cards { display: flex; flex-wrap: wrap; gap: 24px; margin-bottom: 28px; }
.card { flex: 1 1 300px; border: 2px solid #c9d3dc; border-left: 10px solid #1f5f8b;
  padding: 14px 20px; }
.card .n { font-size: 56px; font-weight: bold; line-height: 1.1; }
.card .n.suppressed { font-size: 40px; }
.label .en, td .en, th .en { display: block; font-size: 16px; color: #4a5a68; }
svg text { font-family: "DejaVu Sans", "Segoe UI", Roboto, Arial, sans-serif; }
.suppressed { color: #6b7884; font-style: italic; font-weight: normal; }
"""

_HATCH = (
    '<defs><pattern id="hatch-{id}" width="8" height="8" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="8" height="8" fill="#e4e9ee"/>'
    '<line x1="0" y1="0" x2="0" y2="8" stroke="#8a97a3" stroke-width="3"/></pattern></defs>'
)


def _bilingual(pair: tuple[str, str]) -> str:
    return f'{escape(pair[0])} <span class="en">/ {escape(pair[1])}</span>'


#: The mark of a count hidden only so that a small one cannot be derived (see the footnote).
COMPLEMENTARY_MARK = "*"


def _value_text(count: StatsCount, threshold: int | None) -> str:
    if count.suppression == "complementary":
        return COMPLEMENTARY_MARK
    if count.suppressed or count.count is None:
        return f"< {threshold}" if threshold else "—"
    return f"{count.count:,}".replace(",", ".")


def _nice_max(value: int) -> int:
    """A round upper bound for an axis (1, 2 or 5 times a power of ten) at or above ``value``."""
    if value <= 5:
        return 5
    magnitude: int = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _shown_max(cells: Sequence[StatsCell], threshold: int | None) -> int:
    shown = [c.count for c in cells if c.count is not None]
    return max([*shown, threshold or 1, 1])


def month_chart(stats: StatsOut) -> str:
    """Columns per month: every month of the period, suppressed months hatched."""
    cells = stats.cells
    threshold = stats.suppression_threshold
    key = "month"
    left, right, top, bottom = 70, 20, 20, 70
    height = 380
    plot_w = CHART_WIDTH - left - right
    plot_h = height - top - bottom
    top_value = _nice_max(_shown_max(cells, threshold))
    slot = plot_w / max(len(cells), 1)
    bar_w = max(slot * 0.7, 2)
    every = max(1, math.ceil(len(cells) / 12))
    parts = [_HATCH.format(id=key)]
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{CHART_WIDTH - right}" y2="{y:.1f}" '
            'stroke="#d5dde4" stroke-width="1"/>'
            f'<text x="{left - 10}" y="{y + 6:.1f}" text-anchor="end" font-size="16" '
            f'fill="#4a5a68">{value:g}</text>'
        )
    for i, cell in enumerate(cells):
        x = left + slot * i + (slot - bar_w) / 2
        label = escape(f"{cell.label_id} / {cell.label_en}: {_value_text(cell, threshold)}")
        if cell.suppressed:
            h = plot_h * (threshold or 1) / top_value
            parts.append(
                f'<rect class="bar suppressed" x="{x:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="url(#hatch-{key})">'
                f"<title>{label}</title></rect>"
            )
            if len(cells) <= 24:
                parts.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 6:.1f}" '
                    f'text-anchor="middle" font-size="16" fill="#4a5a68">'
                    f"{escape(_value_text(cell, threshold))}</text>"
                )
        else:
            h = plot_h * (cell.count or 0) / top_value
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="#1f5f8b"><title>{label}</title></rect>'
            )
            if len(cells) <= 24 and cell.count:
                parts.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 6:.1f}" '
                    f'text-anchor="middle" font-size="16" fill="#14202b">{cell.count}</text>'
                )
        if i % every == 0 and cell.code:
            year, month = cell.code.split("-")
            cx = left + slot * i + slot / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 26}" text-anchor="middle" '
                f'font-size="17" fill="#14202b">{month}</text>'
                f'<text x="{cx:.1f}" y="{top + plot_h + 48}" text-anchor="middle" '
                f'font-size="15" fill="#4a5a68">{year}</text>'
            )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{CHART_WIDTH - right}" y2="{top + plot_h}" '
        'stroke="#14202b" stroke-width="2"/>'
    )
    return _svg(key, stats.group_by, CHART_WIDTH, height, parts)


def bar_chart(stats: StatsOut) -> str:
    """Horizontal bars per value (largest first), Indonesian label over the English one."""
    key = stats.group_by.value
    threshold = stats.suppression_threshold
    cells = stats.cells[:MAX_BARS]
    label_w, value_w, row_h, top = 470, 120, 56, 8
    plot_w = CHART_WIDTH - label_w - value_w
    height = top + row_h * max(len(cells), 1) + 8
    top_value = _shown_max(cells, threshold)
    parts = [_HATCH.format(id=key)]
    if not cells:
        parts.append(
            f'<text x="0" y="{top + 30}" font-size="20" fill="#4a5a68">'
            "Tidak ada laporan / No reports</text>"
        )
    for i, cell in enumerate(cells):
        y = top + row_h * i
        label = escape(f"{cell.label_id} / {cell.label_en}: {_value_text(cell, threshold)}")
        one_line = cell.label_en == cell.label_id
        parts.append(
            f'<text x="{label_w - 16}" y="{y + (34 if one_line else 22)}" text-anchor="end" '
            f'font-size="19" fill="#14202b">{escape(_shorten(cell.label_id, 42))}</text>'
        )
        if not one_line:
            parts.append(
                f'<text x="{label_w - 16}" y="{y + 44}" text-anchor="end" font-size="15" '
                f'fill="#4a5a68">{escape(_shorten(cell.label_en, 52))}</text>'
            )
        if cell.suppressed:
            w = plot_w * (threshold or 1) / top_value
            parts.append(
                f'<rect class="bar suppressed" x="{label_w}" y="{y + 8}" width="{w:.1f}" '
                f'height="{row_h - 18}" fill="url(#hatch-{key})"><title>{label}</title></rect>'
            )
        else:
            w = max(plot_w * (cell.count or 0) / top_value, 2)
            parts.append(
                f'<rect class="bar" x="{label_w}" y="{y + 8}" width="{w:.1f}" '
                f'height="{row_h - 18}" fill="#1f5f8b"><title>{label}</title></rect>'
            )
        parts.append(
            f'<text x="{label_w + w + 10:.1f}" y="{y + 35}" font-size="20" font-weight="bold" '
            f'fill="#14202b">{escape(_value_text(cell, threshold))}</text>'
        )
    return _svg(key, stats.group_by, CHART_WIDTH, height, parts)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _svg(key: str, group_by: GroupBy, width: int, height: float, parts: list[str]) -> str:
    title_id, title_en = _TITLES[group_by]
    return (
        f'<svg class="chart" data-chart="{key}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height:.0f}" width="{width}" height="{height:.0f}" role="img" '
        f'aria-labelledby="chart-{key}-title"><title id="chart-{key}-title">'
        f"{escape(title_id)} / {escape(title_en)}</title>{''.join(parts)}</svg>"
    )


def count_table(stats: StatsOut) -> str:
    """Every cell of one grouping as a table (label, count or its suppression mark)."""
    threshold = stats.suppression_threshold
    rows = "".join(
        f"<tr><td>{escape(c.label_id)}"
        + (f' <span class="en">{escape(c.label_en)}</span>' if c.label_en != c.label_id else "")
        + f'</td><td class="n{" suppressed" if c.suppressed else ""}">'
        f"{escape(_value_text(c, threshold))}</td></tr>"
        for c in stats.cells
    )
    return (
        f'<table data-table="{stats.group_by.value}"><thead><tr><th>'
        f"{escape(_TITLES[stats.group_by][0])} "
        f'<span class="en">{escape(_TITLES[stats.group_by][1])}</span></th><th>Laporan '
        f'<span class="en">Reports</span></th></tr></thead><tbody>{rows}</tbody></table>'
    )


def _totals_cards(stats: StatsOut) -> str:
    threshold = stats.suppression_threshold
    totals = stats.totals
    items = (
        (("Jumlah laporan", "Reports"), totals.reports),
        (
            ("Penundaan permohonan paspor", "Deferred passport applications"),
            totals.deferred_passport_applications,
        ),
        (("Keberangkatan yang dicegah", "Prevented departures"), totals.prevented_departures),
    )
    cards = "".join(
        f'<div class="card"><div class="n{" suppressed" if count.suppressed else ""}">'
        f"{escape(_value_text(count, threshold))}</div>"
        f'<div class="label">{escape(labels[0])} <span class="en">{escape(labels[1])}</span>'
        "</div></div>"
        for labels, count in items
    )
    return f'<div class="cards" data-table="totals">{cards}</div>'


@dataclass(frozen=True)
class ReportParts:
    """The report's markup in parts, so that the console can show it inside its own layout."""

    #: "Statistik TPPO/TPPM 2025-01-01 &ndash; 2025-12-31" (the page title, HTML).
    title: str
    #: Paragraphs: the period, whose reports are counted, what is hidden and when it was made.
    meta: str
    #: The summary (totals and side tables) and one section per chart.
    sections: str


def report_parts(
    tables: dict[GroupBy, StatsOut], *, generated_at: datetime, audience: str
) -> ReportParts:
    """The report's parts; ``audience`` says in words whose reports are counted."""
    first = next(iter(tables.values()))
    period = first.period
    threshold = first.suppression_threshold
    if threshold:
        suppression = (
            f"Angka di bawah {threshold} disembunyikan (&lt; {threshold}, arsiran) agar korban "
            f'tidak dapat dikenali. <span class="en">/ Counts below {threshold} are hidden '
            f"(&lt; {threshold}, hatched) so that victims cannot be identified.</span>"
        )
        if any(c.suppression == "complementary" for t in tables.values() for c in t.cells):
            suppression += (
                f' <span class="footnote">{COMPLEMENTARY_MARK} Disembunyikan walau tidak kecil, '
                "agar angka kecil lain tidak dapat dihitung dari jumlah total. "
                f'<span class="en">/ {COMPLEMENTARY_MARK} Hidden although not small, so that a '
                "small count cannot be worked out from the total.</span></span>"
            )
    else:
        suppression = (
            "Semua angka ditampilkan apa adanya (admin). "
            '<span class="en">/ All counts are shown as they are (admin).</span>'
        )
    sections = []
    for group_by in CHARTED:
        stats = tables.get(group_by)
        if stats is None:
            continue
        chart = month_chart(stats) if group_by is GroupBy.MONTH else bar_chart(stats)
        more = len(stats.cells) - MAX_BARS
        note = (
            f'<p class="note">{more} lainnya tidak digambar / {more} more not drawn '
            "(CSV: GET /v1/stats?format=csv)</p>"
            if group_by is not GroupBy.MONTH and more > 0
            else ""
        )
        sections.append(
            f"<section><h2>{_bilingual(_TITLES[group_by])}</h2><figure>{chart}</figure>{note}"
            "</section>"
        )
    side_tables = "".join(count_table(tables[g]) for g in tables if g not in CHARTED)
    dates = f"{period.from_} &ndash; {period.to}"
    meta = f"""<p class="meta">Periode <span class="en">/ Period</span>: <strong>{dates}</strong>
(UTC{escape(period.utc_offset)}) · {escape(audience)}</p>
<p class="meta note">{suppression} Laporan yang ditarik tidak dihitung.
<span class="en">/ Retracted reports are not counted.</span>
Dibuat <span class="en">/ Generated</span> {generated_at:%Y-%m-%d %H:%M} UTC.</p>"""
    summary = (
        '<section><h2>Ringkasan <span class="en">/ Summary</span></h2>\n'
        f'{_totals_cards(first)}<div class="grid">{side_tables}</div></section>\n'
    )
    return ReportParts(
        title=f"Statistik TPPO/TPPM {dates}", meta=meta, sections=summary + "".join(sections)
    )


def render_report(tables: dict[GroupBy, StatsOut], *, generated_at: datetime, audience: str) -> str:
    """The whole self-contained page; ``audience`` says in words whose reports are counted."""
    parts = report_parts(tables, generated_at=generated_at, audience=audience)
    return f"""<!DOCTYPE html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{parts.title}</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<h1>Statistik TPPO/TPPM <span class="en">/ Trafficking and smuggling statistics</span></h1>
{parts.meta}
</header>
<main>
{parts.sections}
</main>
</body>
</html>
"""
