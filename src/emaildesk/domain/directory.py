"""The site's directory: departments, email aliases, message centers, issue types, queues and
the partition-wide settings that switch rules on and off.

These change rarely (through the site file or the CLI) and are read on every request, so they
are plain records; the rules that use them live with the entities that need them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emaildesk.domain import errors
from emaildesk.domain.addresses import normalize_address

DEFAULT_MAX_EMAIL_MB = 10  # api-notes §1.7 [U]: no published default; 10 MB chosen, configurable
DEFAULT_MAX_BODY_KB = 512  # api-notes §1.7 [U]: 512 KB chosen, configurable
DEFAULT_SESSION_IDLE_MINUTES = 30  # api-notes §1.2 [U]: 30 min chosen, configurable
DEFAULT_BLOCKED_FILE_TYPES = ("exe", "bat", "cmd", "com", "scr", "pif", "vbs", "js", "msi")


@dataclass(eq=False)
class Department:
    name: str
    description: str = ""
    id: int | None = None


@dataclass(eq=False)
class EmailAlias:
    """An address the site receives mail on; mail to it lands in its department."""

    address: str  # stored normalized (lower case)
    department_id: int
    display_name: str = ""
    active: bool = True
    id: int | None = None

    def __post_init__(self) -> None:
        # Lookups normalize the address asked for, so the stored one must be normalized too.
        self.address = normalize_address(self.address)

    def require_active_in(self, department: Department) -> None:
        """eGain v12: the receiver must be an active alias of the activity's department."""
        if not self.active or self.department_id != department.id:
            raise errors.ALIAS_NOT_ACTIVE(address=self.address, department=department.name)


@dataclass(eq=False)
class IssueType:
    name: str
    active: bool = True
    id: int | None = None


@dataclass(eq=False)
class MessageCenter:
    """A customer-facing inbox (secure messaging); issue types classify what is sent through it."""

    name: str
    department_id: int
    active: bool = True
    issue_type_ids: list[int] = field(default_factory=list)
    id: int | None = None

    def require_issue_type(self, issue_type_id: int) -> None:
        """eGain v3: the issue type must be associated with the message center."""
        if issue_type_id not in self.issue_type_ids:
            raise errors.ISSUE_TYPE_NOT_IN_MESSAGE_CENTER(
                issue_type=issue_type_id, message_center=self.id
            )


@dataclass(eq=False)
class Queue:
    """Where unassigned work waits for an agent (one per department by default)."""

    name: str
    department_id: int
    id: int | None = None


@dataclass(eq=False)
class PartitionSettings:
    """Partition-wide switches named as eGain names them; one row per site."""

    customer_departmentalization: bool = False
    secure_messaging_enabled: bool = False
    max_email_size_mb: int = DEFAULT_MAX_EMAIL_MB
    max_body_size_kb: int = DEFAULT_MAX_BODY_KB
    blocked_file_types: list[str] = field(default_factory=lambda: list(DEFAULT_BLOCKED_FILE_TYPES))
    session_idle_minutes: int = DEFAULT_SESSION_IDLE_MINUTES
    task_subtypes: list[str] = field(default_factory=lambda: ["general"])
    id: int | None = None

    def require_file_allowed(self, file_name: str | None) -> None:
        """Refuse an attachment whose extension is on the blocked list (case-insensitive)."""
        extension = file_extension(file_name)
        if extension and extension in {t.lower().lstrip(".") for t in self.blocked_file_types}:
            raise errors.BLOCKED_FILE_TYPE(extension=extension)

    def require_email_size(self, total_bytes: int, body_bytes: int) -> None:
        """eGain v3: whole email ≤ max email size (MB); content ≤ max body size (KB)."""
        if total_bytes > self.max_email_size_mb * 1024 * 1024:
            raise errors.EMAIL_TOO_LARGE(limit=self.max_email_size_mb)
        if body_bytes > self.max_body_size_kb * 1024:
            raise errors.BODY_TOO_LARGE(limit=self.max_body_size_kb)

    def require_secure_allowed(self) -> None:
        """eGain v12: a secure email needs the "Enable secure messaging" setting."""
        if not self.secure_messaging_enabled:
            raise errors.SECURE_MESSAGING_DISABLED()


def file_extension(file_name: str | None) -> str:
    """The lower-case extension after the last dot, or '' (`report.PDF` → `pdf`). Trailing dots
    and spaces go first: Windows drops them on save, so `virus.exe.` would run as `virus.exe`."""
    name = (file_name or "").rstrip(". ")
    if "." not in name:
        return ""
    return name.rsplit(".", 1)[1].strip().lower()
