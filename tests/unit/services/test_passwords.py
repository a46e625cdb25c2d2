"""Argon2id password hashing: round trip, mismatches that never raise, and rehash detection."""

from __future__ import annotations

import pytest

from emaildesk.services.passwords import Argon2PasswordHasher


@pytest.fixture
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher.for_tests()


def test_hash_then_verify_round_trips(hasher: Argon2PasswordHasher) -> None:
    stored = hasher.hash("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert hasher.verify(stored, "correct horse battery staple") is True


def test_each_hash_is_salted(hasher: Argon2PasswordHasher) -> None:
    assert hasher.hash("same password") != hasher.hash("same password")


def test_wrong_password_is_false_not_an_exception(hasher: Argon2PasswordHasher) -> None:
    stored = hasher.hash("right")
    assert hasher.verify(stored, "wrong") is False
    assert hasher.verify(stored, "Right") is False


@pytest.mark.parametrize("stored", ["", "not-a-hash", "$argon2id$v=19$m=8,t=1,p=1$bad$bad"])
def test_unreadable_hash_verifies_false(hasher: Argon2PasswordHasher, stored: str) -> None:
    assert hasher.verify(stored, "anything") is False


def test_hash_made_with_current_parameters_needs_no_rehash(hasher: Argon2PasswordHasher) -> None:
    assert hasher.needs_rehash(hasher.hash("pw")) is False


def test_hash_made_with_other_parameters_needs_rehash(hasher: Argon2PasswordHasher) -> None:
    stronger = Argon2PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    assert hasher.needs_rehash(stronger.hash("pw")) is True
    assert stronger.needs_rehash(hasher.hash("pw")) is True


def test_unreadable_hash_needs_rehash(hasher: Argon2PasswordHasher) -> None:
    assert hasher.needs_rehash("not-a-hash") is True


def test_test_parameters_are_cheap(hasher: Argon2PasswordHasher) -> None:
    assert "$m=8,t=1,p=1$" in hasher.hash("pw")


def test_default_constructor_uses_rfc_9106_low_memory_parameters(
    hasher: Argon2PasswordHasher,
) -> None:
    # Without paying a 64 MiB derivation: a hash string whose parameters are RFC 9106's second
    # recommended option is current for the production hasher, and the cheap one is not.
    production = Argon2PasswordHasher()
    cheap = hasher.hash("pw")
    rfc_params = cheap.replace("$m=8,t=1,p=1$", "$m=65536,t=3,p=4$")
    assert production.needs_rehash(rfc_params) is False
    assert production.needs_rehash(cheap) is True
