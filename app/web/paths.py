"""Which paths belong to the console: everything the API, discovery and operations do not use."""

from __future__ import annotations

#: Paths owned by the API and operations; they keep problem+json and their own headers.
API_PREFIXES = ("/v1", "/.well-known", "/healthz", "/readyz", "/metrics", "/openapi.json")

#: Where the console's own CSS, JS and vendored libraries are served (cacheable, no personal data).
STATIC_PREFIX = "/static"


def is_api_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in API_PREFIXES)


def is_console_path(path: str) -> bool:
    """Whether ``path`` is served (or answered 404) by the console rather than the API."""
    return not is_api_path(path)


def is_static_path(path: str) -> bool:
    return path.startswith(STATIC_PREFIX + "/")


def local_target(candidate: str | None, fallback: str) -> str:
    """``candidate`` when it is a path on this site (``/tentang``), else ``fallback``.

    Guards redirects after a form (the language switch's ``next``) against sending the browser
    elsewhere: ``//host``, ``/\\host``, schemes and control characters are refused.
    """
    if (
        not candidate
        or not candidate.startswith("/")
        or candidate.startswith(("//", "/\\"))
        or any(ord(c) < 0x20 or c == "\\" for c in candidate)
    ):
        return fallback
    return candidate
