"""API key format: prefix, entropy, offline checksum, keyed hash."""

from __future__ import annotations

import string

from app.services.api_keys import (
    API_KEY_LENGTH,
    display_prefix,
    generate_api_key,
    hash_api_key,
    is_well_formed_api_key,
)

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def test_a_key_has_the_prefix_and_the_fixed_length() -> None:
    key = generate_api_key()
    assert key.startswith("sng_")
    assert len(key) == API_KEY_LENGTH
    assert all(c in _BASE62 for c in key[4:])


def test_keys_do_not_repeat() -> None:
    assert len({generate_api_key() for _ in range(500)}) == 500


def test_a_generated_key_passes_the_offline_check() -> None:
    for _ in range(200):
        assert is_well_formed_api_key(generate_api_key())


def test_changing_any_single_character_breaks_the_checksum() -> None:
    key = generate_api_key()
    for position in range(4, len(key)):
        replacement = "a" if key[position] != "a" else "b"
        mutated = key[:position] + replacement + key[position + 1 :]
        assert not is_well_formed_api_key(mutated), position


def test_noise_is_not_taken_for_a_key() -> None:
    key = generate_api_key()
    assert not is_well_formed_api_key("")
    assert not is_well_formed_api_key(key[:-1])
    assert not is_well_formed_api_key("sk_" + key[3:])
    assert not is_well_formed_api_key(key[:10] + "-" + key[11:])
    assert not is_well_formed_api_key("sng_" + "0" * (API_KEY_LENGTH - 4))


def test_the_stored_hash_is_keyed_by_the_server_secret() -> None:
    key = generate_api_key()
    first = hash_api_key("secret-one-0123456789012345678901", key)
    assert first == hash_api_key("secret-one-0123456789012345678901", key)
    assert first != hash_api_key("secret-two-0123456789012345678901", key)
    assert key not in first
    assert len(first) == 64


def test_the_display_prefix_reveals_little_of_the_key() -> None:
    key = generate_api_key()
    assert display_prefix(key) == key[:12]
