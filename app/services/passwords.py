"""Officers' passwords: NIST SP 800-63B rules and Argon2id hashing (pwdlib).

Rules: at least 12 characters, at most 128, no composition rules, refused when it is on the
shipped common-passwords list or is the officer's own username, NIP or name.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.errors import FieldProblem, InvalidInput
from app.vocab.passwords import common_passwords

MIN_LENGTH = 12
MAX_LENGTH = 128


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    # argon2-cffi's defaults: Argon2id, 3 passes, 64 MiB, 4 lanes (RFC 9106's second choice).
    return PasswordHash((Argon2Hasher(),))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash no password matches: verified for unknown usernames so both take the same time."""
    return _hasher().hash(secrets.token_urlsafe(32))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``; with no stored hash,
    spend the same time and say no."""
    if stored is None:
        _hasher().verify(password, _dummy_hash())
        return False
    try:
        return _hasher().verify(password, stored)
    except ValueError:  # not a hash this service wrote
        return False


def password_problem(password: str, *, context: tuple[str | None, ...] = ()) -> str | None:
    """Why ``password`` is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters (a few words make a good password)"
    if len(password) > MAX_LENGTH:
        return f"use at most {MAX_LENGTH} characters"
    folded = password.strip().lower()
    if folded in common_passwords():
        return "this password is on the list of common passwords; choose another"
    if any(word and folded == word.strip().lower() for word in context):
        return "do not use your username, NIP or name as the password"
    if len(set(folded)) < 3:
        return "this password repeats too few characters; choose another"
    return None


def check_new_password(
    password: str, *, pointer: str = "/new_password", context: tuple[str | None, ...] = ()
) -> None:
    """Raise 422 naming the field when ``password`` breaks a rule."""
    problem = password_problem(password, context=context)
    if problem is not None:
        raise InvalidInput(
            detail=f"The new password is refused: {problem}",
            errors=[FieldProblem(pointer=pointer, detail=problem, code="password_refused")],
        )
