"""Headless Chromium for tests and docs: dump the DOM of a page, take a screenshot, count colours.

Debian's ``chromium`` is used as installed (``.ci/run`` installs it when missing); every network
and background feature is switched off, so a page that needs the network shows it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], timeout: float = 90) -> subprocess.CompletedProcess[str]:
    binary = chromium_path()
    if binary is None:
        raise RuntimeError("chromium is not installed")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                # Nothing but the file itself may load: any request elsewhere fails.
                "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--user-data-dir={profile}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )


def dump_dom(page: Path) -> str:
    """The DOM after Chromium parsed and laid out ``page``."""
    return _run(["--dump-dom", page.resolve().as_uri()]).stdout


def screenshot(page: Path, png: Path, *, width: int = 1280, height: int = 2400) -> None:
    _run(
        [
            f"--screenshot={png.resolve()}",
            f"--window-size={width},{height}",
            page.resolve().as_uri(),
        ]
    )


def count_colour(png: Path, rgb: tuple[int, int, int], tolerance: int = 6) -> int:
    """How many pixels of the screenshot ``png`` are within ``tolerance`` of ``rgb``."""
    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
    return sum(
        n for n, c in colours if all(abs(a - b) <= tolerance for a, b in zip(c, rgb, strict=True))
    )
