"""Directory rules: partition settings limits (blocked file types, email and body size), active
aliases of a department, issue types of a message center, secure messaging switch."""

from __future__ import annotations

import pytest

from emaildesk.domain import errors
from emaildesk.domain.directory import (
    DEFAULT_BLOCKED_FILE_TYPES,
    DEFAULT_MAX_BODY_KB,
    DEFAULT_MAX_EMAIL_MB,
    Department,
    EmailAlias,
    MessageCenter,
    PartitionSettings,
    file_extension,
)
from emaildesk.domain.errors import DomainError

MB = 1024 * 1024
KB = 1024

# --- blocked file types ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "file_name", ["virus.exe", "VIRUS.EXE", "Virus.Exe", "archive.tar.exe", "x.exe ", "run.BAT"]
)
def test_blocked_file_types_case_insensitive(file_name: str) -> None:
    with pytest.raises(DomainError) as caught:
        PartitionSettings().require_file_allowed(file_name)
    assert caught.value.spec is errors.BLOCKED_FILE_TYPE
    assert caught.value.params["extension"] == file_name.rsplit(".", 1)[1].strip().lower()


@pytest.mark.parametrize("configured", ["EXE", ".exe", ".Exe"])
def test_blocked_file_types_configured_in_any_case_or_with_a_dot(configured: str) -> None:
    settings = PartitionSettings(blocked_file_types=[configured])
    with pytest.raises(DomainError):
        settings.require_file_allowed("setup.exe")
    settings.require_file_allowed("setup.msi")


@pytest.mark.parametrize(
    "file_name", ["report.pdf", "exe", "exe.txt", "virus.exe.txt", "noextension", "", None]
)
def test_blocked_file_types_allow_other_files(file_name: str | None) -> None:
    PartitionSettings().require_file_allowed(file_name)


def test_blocked_file_types_trailing_dot_does_not_hide_the_extension() -> None:
    """Windows drops trailing dots and spaces from file names: `virus.exe.` saves as `virus.exe`."""
    for file_name in ("virus.exe.", "virus.exe. .", "virus.EXE.."):
        with pytest.raises(DomainError):
            PartitionSettings().require_file_allowed(file_name)


def test_blocked_file_types_empty_list_blocks_nothing() -> None:
    PartitionSettings(blocked_file_types=[]).require_file_allowed("virus.exe")


def test_blocked_file_types_default_list() -> None:
    assert set(PartitionSettings().blocked_file_types) == set(DEFAULT_BLOCKED_FILE_TYPES)
    assert "exe" in DEFAULT_BLOCKED_FILE_TYPES


def test_partition_settings_do_not_share_their_default_lists() -> None:
    first, second = PartitionSettings(), PartitionSettings()
    first.blocked_file_types.append("pdf")
    assert "pdf" not in second.blocked_file_types


@pytest.mark.parametrize(
    ("file_name", "extension"),
    [("report.PDF", "pdf"), ("a.tar.gz", "gz"), ("none", ""), (None, ""), ("", "")],
)
def test_file_extension_is_the_lower_case_part_after_the_last_dot(
    file_name: str | None, extension: str
) -> None:
    assert file_extension(file_name) == extension


# --- size limits ----------------------------------------------------------------------------


def test_email_size_limit_in_mb_passes_at_the_exact_limit() -> None:
    settings = PartitionSettings(max_email_size_mb=3, max_body_size_kb=10)
    settings.require_email_size(3 * MB, 0)


def test_email_size_limit_in_mb_fails_one_byte_over() -> None:
    settings = PartitionSettings(max_email_size_mb=3, max_body_size_kb=10)
    with pytest.raises(DomainError) as caught:
        settings.require_email_size(3 * MB + 1, 0)
    assert caught.value.spec is errors.EMAIL_TOO_LARGE
    assert caught.value.params == {"limit": "3"}


def test_body_size_limit_in_kb_passes_at_the_exact_limit() -> None:
    settings = PartitionSettings(max_email_size_mb=3, max_body_size_kb=10)
    settings.require_email_size(10 * KB, 10 * KB)


def test_body_size_limit_in_kb_fails_one_byte_over() -> None:
    settings = PartitionSettings(max_email_size_mb=3, max_body_size_kb=10)
    with pytest.raises(DomainError) as caught:
        settings.require_email_size(10 * KB + 1, 10 * KB + 1)
    assert caught.value.spec is errors.BODY_TOO_LARGE
    assert caught.value.params == {"limit": "10"}


def test_size_limit_defaults_are_10_mb_and_512_kb() -> None:
    """api-notes §1.7 [U]: no published defaults; 10 MB / 512 KB recommended."""
    settings = PartitionSettings()
    assert (settings.max_email_size_mb, settings.max_body_size_kb) == (10, 512)
    assert (DEFAULT_MAX_EMAIL_MB, DEFAULT_MAX_BODY_KB) == (10, 512)
    settings.require_email_size(10 * MB, 512 * KB)
    with pytest.raises(DomainError):
        settings.require_email_size(10 * MB + 1, 0)


# --- aliases, message centers, secure messaging ---------------------------------------------


def test_alias_address_is_stored_normalized() -> None:
    """Lookups normalize the address asked for; the stored address must match that form."""
    assert EmailAlias(" Support@Example.COM ", department_id=1).address == "support@example.com"


def test_alias_must_be_active_in_the_activity_department() -> None:
    service = Department("Service", id=1)
    EmailAlias("support@example.com", department_id=1).require_active_in(service)


def test_alias_of_another_department_is_refused() -> None:
    sales = Department("Sales", id=2)
    with pytest.raises(DomainError) as caught:
        EmailAlias("support@example.com", department_id=1).require_active_in(sales)
    assert caught.value.spec is errors.ALIAS_NOT_ACTIVE
    assert caught.value.params == {"address": "support@example.com", "department": "Sales"}


def test_inactive_alias_is_refused() -> None:
    service = Department("Service", id=1)
    with pytest.raises(DomainError) as caught:
        EmailAlias("old@example.com", department_id=1, active=False).require_active_in(service)
    assert caught.value.spec is errors.ALIAS_NOT_ACTIVE


def test_message_center_issue_type_must_be_associated() -> None:
    center = MessageCenter("Help", department_id=1, issue_type_ids=[3, 4], id=9)
    center.require_issue_type(4)
    with pytest.raises(DomainError) as caught:
        center.require_issue_type(5)
    assert caught.value.spec is errors.ISSUE_TYPE_NOT_IN_MESSAGE_CENTER
    assert caught.value.params == {"issue_type": "5", "message_center": "9"}


def test_secure_email_requires_secure_messaging_enabled() -> None:
    PartitionSettings(secure_messaging_enabled=True).require_secure_allowed()
    with pytest.raises(DomainError) as caught:
        PartitionSettings().require_secure_allowed()
    assert caught.value.spec is errors.SECURE_MESSAGING_DISABLED
