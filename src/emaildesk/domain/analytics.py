"""Conversation analytics: tenants, their API keys, ingested email contacts grouped into
conversations, and the metrics computed from them (pure).

The wire contract is Uniphore's `POST /contacts/email` (specs/uniphore-contacts-email.txt,
api-notes §3): a contact names its tenant ("client"), organization and category, and carries one
email of a conversation (`convId`) with its message id (`msgId`). emaildesk stores each message
once per (tenant, convId, msgId), groups the messages of a conversation, and computes per
conversation: messages each way, first response time, average agent response time, duration,
participants and last activity (here); and, over a date range, volumes and response-time
percentiles (domain/analytics_metrics.py). The conversation store and the metrics are
emaildesk's extension (Uniphore publishes no read API).

Definitions (hand-checked by tests/unit/domain/test_analytics.py):
- A message's direction is AGENT when its `from` is the contact's `agentEmailId` (compared as
  addresses: trimmed, case-insensitive), else PARTICIPANT (the field table: agentEmailId "is
  required to determine agent vs participant for Incoming and Outgoing messages").
- Messages are ordered by `ts`, then by arrival. A participant message starts a wait unless one is
  already running; the next agent message ends it, and the wait is that message's response time.
  An agent message with no participant waiting (a follow-up, an outbound first mail) has none.
- First response time: the first such response. Average agent response time: their mean.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from emaildesk.domain import errors
from emaildesk.domain.addresses import normalize_address
from emaildesk.domain.clock import utcnow
from emaildesk.domain.errors import ErrorFamily, ErrorSpec

# --- Uniphore Email API field table (specs/uniphore-contacts-email.txt; names: api-notes §3) ---
MAX_AGENT_EMAIL_LENGTH = 256  # data.agentEmailId: String 256
MAX_AGENT_ID_LENGTH = 50  # data.agentId: String 50
MAX_BODY_BYTES = 1024 * 1024  # data.body: String 1 MB (counted in UTF-8 bytes)
MAX_CONV_ID_LENGTH = 256  # data.convId: String 256
MAX_FROM_LENGTH = 256  # data.from: String 256
LANGUAGES = ("us-en", "au-en", "gb-en")  # data.lang: String 5, country-language order
MAX_MSG_ID_LENGTH = 36  # data.msgId: String 36 (a UUID's length)
MAX_PS_EMAIL_LENGTH = 256  # data.psEmailId: String 256
MAX_PS_ID_LENGTH = 50  # data.psId: String 50
MAX_SUBJECT_LENGTH = 78  # data.sub: String 78 (RFC 5322 §2.1.1 recommended line length)
MAX_ADDRESS_LENGTH = 256  # to/cc/bcc entries: as long as the other address fields
MAX_NAME_LENGTH = 128  # metadata.tenantName / orgName / catName: String 128
MAX_JOURNEY_ID_LENGTH = 256  # data.journeyId: String 256
MAX_METADATA_KEYS = 50  # "A maximum of 50 non-Speech metadata keys per category"
# [U] in api-notes §3: Uniphore publishes no key or value lengths; ours, documented in OpenAPI.
MAX_METADATA_KEY_LENGTH = 128
MAX_METADATA_VALUE_LENGTH = 1024
# [U] Uniphore's "Restricted Metadata Field List" is not public. Default: the names of the
# contact's own fields and of Uniphore's contact identifiers, which a metadata key must not
# shadow. Compared case-insensitively; a tenant's list (site file) replaces it.
DEFAULT_RESTRICTED_METADATA_KEYS = (
    "tenantName",
    "orgName",
    "catName",
    "contactId",
    "contactType",
    "convId",
    "msgId",
    "callId",
    "journeyId",
    "agentId",
    "agentEmailId",
    "psId",
    "psEmailId",
    "lang",
    "ts",
)
_FORBIDDEN_ADDRESS_CHARACTERS = frozenset('()[]:;<>" ')

# Event kinds (past tense, like domain/events.py) and the aggregate they name.
CONTACT_ACCEPTED = "AnalyticsContactAccepted"
CONVERSATION_UPDATED = "AnalyticsConversationUpdated"
METADATA_INSERTED = "AnalyticsMetadataInserted"
CONVERSATION_AGGREGATE = "analytics_conversation"

# Errors Uniphore's dialect needs and domain/errors.py does not have yet (requested from its
# owner, with translations). Not marked N_(): they are English until they move there.
ENTITY_NOT_FOUND = ErrorSpec("400-2100", ErrorFamily.INVALID, "tenant/org/cat not found!")
METADATA_KEY_RESTRICTED = ErrorSpec(
    "400-2101", ErrorFamily.INVALID, "Metadata key '{key}' is restricted."
)
TENANT_NOT_ALLOWED = ErrorSpec(
    "403-2100", ErrorFamily.FORBIDDEN, "The API key does not belong to tenant '{tenant}'."
)
CONTACT_NOT_FOUND = ErrorSpec(
    "404-2100", ErrorFamily.NOT_FOUND, "Contact '{contact_id}' was not found."
)


def is_valid_contact_address(address: str) -> bool:
    """The address rule of every other emaildesk entrance (domain/addresses.py, eGain's: one @,
    a dot in the domain after its first character, no trailing dot, none of `()[]:;<>" `), with
    Uniphore's length (256) instead of eGain's (255), which the caller checks."""
    if not address or address.count("@") != 1 or address.endswith("."):
        return False
    if any(ch in _FORBIDDEN_ADDRESS_CHARACTERS or ord(ch) < 32 for ch in address):
        return False
    local, domain = address.split("@")
    return bool(local) and domain.find(".") >= 1


def body_size(body: str) -> int:
    return len(body.encode("utf-8", errors="surrogatepass"))


class Direction(Enum):
    AGENT = "agent"
    PARTICIPANT = "participant"


def direction_of(from_address: str, agent_email: str) -> Direction:
    same = normalize_address(from_address) == normalize_address(agent_email)
    return Direction.AGENT if same else Direction.PARTICIPANT


def check_metadata_keys(keys: Iterable[str], restricted: Iterable[str]) -> None:
    """Refuse a key of the restricted list (case-insensitive), naming the first one."""
    refused = {key.casefold() for key in restricted}
    for key in keys:
        if key.casefold() in refused:
            raise METADATA_KEY_RESTRICTED({"field": "metadata.metadataMap"}, key=key)


# --- tenants and their API keys ---------------------------------------------------------------


@dataclass(eq=False)
class AnalyticsTenant:
    """A Uniphore "client": owns organizations, their categories, and API keys."""

    name: str
    restricted_metadata_keys: list[str] = field(
        default_factory=lambda: list(DEFAULT_RESTRICTED_METADATA_KEYS)
    )
    created_at: datetime = field(default_factory=utcnow)
    id: int | None = None


@dataclass(eq=False)
class AnalyticsOrganization:
    tenant_id: int
    name: str
    id: int | None = None


@dataclass(eq=False)
class AnalyticsCategory:
    """A category of an organization. `metadata_keys` is the set of metadata keys its contacts
    have used: Uniphore allows 50 per category, so a contact bringing a 51st is refused."""

    tenant_id: int
    organization_id: int
    name: str
    metadata_keys: list[str] = field(default_factory=list)
    id: int | None = None

    def new_metadata_keys(self, keys: Iterable[str]) -> list[str]:
        known = set(self.metadata_keys)
        return [key for key in dict.fromkeys(keys) if key not in known]

    def register_metadata_keys(self, keys: Iterable[str]) -> bool:
        """Add unseen keys; LIMIT_EXCEEDED past 50. Returns whether any key was new."""
        new = self.new_metadata_keys(keys)
        if not new:
            return False
        if len(self.metadata_keys) + len(new) > MAX_METADATA_KEYS:
            raise errors.LIMIT_EXCEEDED(
                {"field": "metadata.metadataMap"},
                limit="metadataMap keys per category",
                value=MAX_METADATA_KEYS,
            )
        # A new list, not an in-place append: the JSON column notices reassignment reliably.
        self.metadata_keys = [*self.metadata_keys, *new]
        return True


@dataclass(eq=False)
class AnalyticsApiKey:
    """A bearer key of one tenant. Only the SHA-256 of the key is stored (like domain/auth.py:
    keys are random and long, so a slow hash buys nothing and would cost every request)."""

    tenant_id: int
    name: str
    key_hash: str
    created_at: datetime = field(default_factory=utcnow)
    revoked_at: datetime | None = None
    id: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def revoke(self, now: datetime | None = None) -> None:
        if self.revoked_at is None:
            self.revoked_at = now or utcnow()


# --- contacts, messages and conversations -----------------------------------------------------


@dataclass(frozen=True)
class EmailContact:
    """One validated `POST /contacts/email` body (the dialect checked shapes and lengths)."""

    tenant_name: str
    organization_name: str
    category_name: str
    conv_id: str
    msg_id: str
    lang: str
    subject: str
    ts: int  # epoch milliseconds
    body: str
    agent_id: str
    participant_id: str
    agent_email: str
    participant_email: str
    from_address: str
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    journey_id: str | None = None
    metadata_map: Mapping[str, str] = field(default_factory=dict)


class MessageState(Enum):
    RECEIVED = "received"  # stored and acknowledged; its job has not grouped it yet
    PROCESSED = "processed"  # part of its conversation's aggregates


MESSAGE_TRANSITIONS: dict[MessageState, frozenset[MessageState]] = {
    MessageState.RECEIVED: frozenset({MessageState.PROCESSED}),
    MessageState.PROCESSED: frozenset(),
}


@dataclass(eq=False)
class AnalyticsMessage:
    tenant_id: int
    organization_id: int
    category_id: int
    conversation_id: int
    conv_id: str
    msg_id: str
    direction: Direction
    lang: str
    subject: str
    ts: int
    body: str
    agent_id: str
    agent_email: str
    participant_id: str
    participant_email: str
    from_address: str
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    journey_id: str | None = None
    metadata_map: dict[str, str] = field(default_factory=dict)
    state: MessageState = MessageState.RECEIVED
    response_ms: int | None = None
    received_at: datetime = field(default_factory=utcnow)
    processed_at: datetime | None = None
    id: int | None = None

    @classmethod
    def from_contact(
        cls,
        contact: EmailContact,
        tenant: AnalyticsTenant,
        category: AnalyticsCategory,
        conversation_id: int,
    ) -> AnalyticsMessage:
        if tenant.id is None or category.id is None:
            raise ValueError("tenant and category must be stored before their messages")
        return cls(
            tenant_id=tenant.id,
            organization_id=category.organization_id,
            category_id=category.id,
            conversation_id=conversation_id,
            conv_id=contact.conv_id,
            msg_id=contact.msg_id,
            direction=direction_of(contact.from_address, contact.agent_email),
            lang=contact.lang,
            subject=contact.subject,
            ts=contact.ts,
            body=contact.body,
            agent_id=contact.agent_id,
            agent_email=contact.agent_email,
            participant_id=contact.participant_id,
            participant_email=contact.participant_email,
            from_address=contact.from_address,
            to=list(contact.to),
            cc=list(contact.cc),
            bcc=list(contact.bcc),
            journey_id=contact.journey_id,
            metadata_map=dict(contact.metadata_map),
        )

    def mark_processed(self, now: datetime | None = None) -> None:
        if MessageState.PROCESSED not in MESSAGE_TRANSITIONS[self.state]:
            raise errors.OPERATION_NOT_ALLOWED_IN_STATE(operation="process", state=self.state.value)
        self.state = MessageState.PROCESSED
        self.processed_at = now or utcnow()


@dataclass(frozen=True)
class ConversationSummary:
    """What `summarize` computes from a conversation's processed messages."""

    agent_messages: int
    participant_messages: int
    first_ts: int | None
    last_ts: int | None
    first_response_ms: int | None
    average_response_ms: float | None
    response_count: int
    participants: tuple[str, ...]
    agents: tuple[str, ...]
    journey_id: str | None
    response_ms: tuple[int | None, ...]  # per message, in the order they were given


def summarize(messages: Sequence[AnalyticsMessage]) -> ConversationSummary:
    """The conversation's aggregates and each message's response time (module docstring)."""
    order = sorted(range(len(messages)), key=lambda i: (messages[i].ts, messages[i].id or 0, i))
    responses: list[int | None] = [None] * len(messages)
    waiting_since: int | None = None
    for index in order:
        message = messages[index]
        if message.direction is Direction.PARTICIPANT:
            if waiting_since is None:
                waiting_since = message.ts
        elif waiting_since is not None:
            responses[index] = message.ts - waiting_since
            waiting_since = None
    answered = [r for i in order if (r := responses[i]) is not None]
    journeys = [m.journey_id for i in order if (m := messages[i]).journey_id]
    participants = {
        normalize_address(address)
        for m in messages
        for address in (
            [m.participant_email, m.from_address]
            if m.direction is Direction.PARTICIPANT
            else [m.participant_email]
        )
    }
    return ConversationSummary(
        agent_messages=sum(m.direction is Direction.AGENT for m in messages),
        participant_messages=sum(m.direction is Direction.PARTICIPANT for m in messages),
        first_ts=min((m.ts for m in messages), default=None),
        last_ts=max((m.ts for m in messages), default=None),
        first_response_ms=answered[0] if answered else None,
        average_response_ms=sum(answered) / len(answered) if answered else None,
        response_count=len(answered),
        participants=tuple(sorted(participants)),
        agents=tuple(sorted({m.agent_id for m in messages})),
        journey_id=journeys[-1] if journeys else None,
        response_ms=tuple(responses),
    )


@dataclass(eq=False)
class AnalyticsConversation:
    """The messages of one `convId` of one tenant, with aggregates kept by the contact job.

    Organization and category are those of the first contact; `metadata_map` collects every
    contact's metadataMap and the non-speech metadata insertions (add or update, never delete).
    """

    tenant_id: int
    conv_id: str
    organization_id: int
    category_id: int
    journey_id: str | None = None
    metadata_map: dict[str, str] = field(default_factory=dict)
    agent_messages: int = 0
    participant_messages: int = 0
    first_ts: int | None = None
    last_ts: int | None = None
    first_response_ms: int | None = None
    average_response_ms: float | None = None
    response_count: int = 0
    participants: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    id: int | None = None

    @property
    def duration_ms(self) -> int | None:
        if self.first_ts is None or self.last_ts is None:
            return None
        return self.last_ts - self.first_ts

    @property
    def message_count(self) -> int:
        return self.agent_messages + self.participant_messages

    def merge_metadata(self, values: Mapping[str, str]) -> bool:
        """Add or update keys (never delete); say whether anything changed."""
        merged = {**self.metadata_map, **values}
        if merged == self.metadata_map:
            return False
        self.metadata_map = merged  # reassigned, so the JSON column saves it
        return True

    def apply(self, summary: ConversationSummary, now: datetime | None = None) -> None:
        self.agent_messages = summary.agent_messages
        self.participant_messages = summary.participant_messages
        self.first_ts = summary.first_ts
        self.last_ts = summary.last_ts
        self.first_response_ms = summary.first_response_ms
        self.average_response_ms = summary.average_response_ms
        self.response_count = summary.response_count
        self.participants = list(summary.participants)
        self.agents = list(summary.agents)
        if summary.journey_id is not None:
            self.journey_id = summary.journey_id
        self.updated_at = now or utcnow()


# --- the export connector's configuration -----------------------------------------------------


@dataclass(eq=False)
class ExportSettings:
    """Where emaildesk posts its own finished conversations (a Uniphore-compatible endpoint).

    The token is stored as given: emaildesk must present it, so it cannot be hashed."""

    url: str
    token: str
    enabled: bool = True
    conversation_prefix: str = ""
    default_lang: str = LANGUAGES[0]
    id: int | None = None


@dataclass(eq=False)
class ExportRoute:
    """Which tenant / organization / category (names at the receiver) a department reports to."""

    department_id: int
    tenant_name: str
    organization_name: str
    category_name: str
    id: int | None = None
