"""What the mail use cases need to know about the site's mail configuration, as a plain value
(services never read settings or files; the composition root builds this once)."""

from __future__ import annotations

from dataclasses import dataclass

from emaildesk.mail.tokens import DEFAULT_SUBJECT_TOKEN


@dataclass(frozen=True)
class MailConfig:
    secret: bytes  # signs the tokens in our outbound Message-IDs
    domain: str  # right-hand side of our Message-IDs
    subject_token: str = DEFAULT_SUBJECT_TOKEN
    sender_rate_per_hour: int = 120

    def __repr__(self) -> str:  # never print the secret
        return f"MailConfig(domain={self.domain!r}, subject_token={self.subject_token!r})"
