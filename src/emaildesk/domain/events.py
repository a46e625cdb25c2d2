"""The event record: the audit trail and the source of every notification.

Each state change writes its event in the same transaction as the change, so subscribers are told
exactly what committed, in commit order (the id), and a reconnecting client can resume from an id.
Names are past tense (`ActivityCreated`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emaildesk.domain.clock import utcnow


@dataclass(eq=False)
class Event:
    kind: str
    aggregate_type: str
    aggregate_id: int
    payload: dict[str, Any] = field(default_factory=dict)
    department_id: int | None = None
    actor_type: str = ""
    actor_id: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    id: int | None = None


ACTIVITY_CREATED = "ActivityCreated"
ACTIVITY_UPDATED = "ActivityUpdated"
CASE_CREATED = "CaseCreated"
CUSTOMER_CREATED = "CustomerCreated"
SITE_APPLIED = "SiteApplied"
