"""Where the time goes, from a py-spy ``--format raw`` profile (collapsed stacks).

    python -m benchmarks.profile_summary /tmp/sinergi-bench-ingest.pyspy [--top 25]

Prints, as a share of all samples: the functions of ``app/`` by inclusive time (the time spent in
them and everything they called), and all functions by self time (the leaf that was running).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _name(frame: str) -> tuple[str, str]:
    """(``function (short/path.py)``, path) of one collapsed frame."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip(), ""
    path = match["file"]
    for marker in ("/site-packages/", "/wt-bench/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['func']} ({path})", path


def summarize(path: Path, top: int) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    idle = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_name(f) for f in stack.split(";") if f.strip()]
        total += count
        if frames and frames[-1][0].startswith(("select (", "poll (", "epoll", "_run_once")):
            idle += count
        seen: set[str] = set()
        for name, file in frames:
            if file.startswith("app/") and name not in seen:
                inclusive[name] += count
                seen.add(name)
        if frames:
            own[frames[-1][0]] += count
    if not total:
        return "no samples"
    out = [f"{total} samples; waiting in the event loop's poll: {100 * idle / total:.0f}%", ""]
    out.append("app/ functions by inclusive share:")
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    out.append("")
    out.append("all functions by self share:")
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(summarize(args.profile, args.top))


if __name__ == "__main__":
    main()
