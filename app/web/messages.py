"""One-time messages shown at the top of the next page (“Bahasa diubah”), kept in a cookie.

The cookie holds only a catalogue key from the ``flash.`` family, never user input or personal
data, so it needs no signature: anything else in it is ignored.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

FLASH_COOKIE = "flash"
_FLASH_PREFIX = "flash."


def flash(request: Request, response: Response, key: str) -> None:
    """Show the message ``key`` (``flash.language_changed``) on the next page this browser opens."""
    if not key.startswith(_FLASH_PREFIX):
        raise ValueError(f"flash messages are catalogue keys starting with {_FLASH_PREFIX!r}")
    response.set_cookie(
        FLASH_COOKIE,
        key,
        max_age=120,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def take_flash(request: Request) -> str | None:
    """The catalogue key waiting in the request's flash cookie, if it is one."""
    key = request.cookies.get(FLASH_COOKIE)
    return key if key and key.startswith(_FLASH_PREFIX) else None
