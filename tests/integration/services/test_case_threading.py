"""Threading an inbound email into a case (services.case_threading), on both databases: each
layer, the precedence between layers, and the refusals that keep strangers out of cases."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database
from emaildesk.domain.activities import Activity, ActivityType, EmailPayload, Mode, Substatus
from emaildesk.domain.customers import CustomerGrant
from emaildesk.mail.parse import ParsedEmail
from emaildesk.mail.tokens import make_message_id
from emaildesk.services.case_threading import (
    MAX_REASON_LENGTH,
    MAX_THREAD_IDS,
    ThreadDecision,
    decide_thread,
)
from emaildesk.services.incoming_email import IncomingEmail, create_incoming_email
from support.seed import BasicSite, seed_basic_site

SECRET = b"threading-test-secret"
OTHER_SECRET = b"a-rotated-away-secret"
DOMAIN = "desk.example.com"
JANE = "jane@customer.example"
BOB = "bob@customer.example"  # holds a grant from Jane in the tests that say so
MALLORY = "mallory@stranger.example"


@dataclass
class Stored:
    activity_id: int
    case_id: int
    customer_id: int
    message_id: str


@dataclass
class World:
    database: Database
    blobs: FileBlobStore
    site: BasicSite
    counter: int = 0

    async def inbound(
        self, sender: str, *, message_id: str | None = None, case_id: int | None = None
    ) -> Stored:
        """An inbound email stored through the real ingest use case (customer found or made)."""
        self.counter += 1
        message_id = message_id or f"inbound-{self.counter}@{sender.split('@')[1]}"
        async with self.database.uow() as uow:
            activity = await create_incoming_email(
                uow,
                self.blobs,
                IncomingEmail(
                    from_address=sender,
                    receiver=self.site.support_alias.address,
                    subject=f"mail {self.counter}",
                    text="hello",
                    message_id=message_id,
                    case_id=case_id,
                ),
                None,
            )
            await uow.commit()
        assert activity.id and activity.case_id and activity.customer_id
        return Stored(activity.id, activity.case_id, activity.customer_id, message_id)

    async def outbound(
        self, to: Stored, *, secret: bytes = SECRET, message_id: str | None = None
    ) -> Stored:
        """A sent agent reply in `to`'s case, its Message-ID a token (as the send path makes it)
        unless one is given."""
        async with self.database.uow() as uow:
            activity = Activity(
                type=ActivityType.EMAIL,
                subtype="general",
                mode=Mode.OUTBOUND,
                department_id=self.site.service.id or 0,
                case_id=to.case_id,
                substatus=Substatus.SENT,
                subject="Re: mail",
                customer_id=to.customer_id,
                email=EmailPayload(
                    from_address=self.site.support_alias.address, to=["someone@example.org"]
                ),
            )
            await uow.activities.add(activity)
            assert activity.id is not None and activity.email is not None
            activity.email.message_id = message_id or make_message_id(
                case_id=to.case_id, activity_id=activity.id, domain=DOMAIN, secret=secret
            )
            await uow.commit()
            return Stored(activity.id, to.case_id, to.customer_id, activity.email.message_id)

    async def customer(self, address: str) -> int:
        """The customer of this address (created by a first email in a case of its own)."""
        return (await self.inbound(address)).customer_id

    async def grant(self, grantee: int, grantor: int) -> None:
        async with self.database.uow() as uow:
            await uow.customers.add(CustomerGrant(grantee_id=grantee, grantor_id=grantor))
            await uow.commit()

    async def move(self, activity_id: int, case_id: int) -> None:
        async with self.database.uow() as uow:
            activity = await uow.activities.get(activity_id)
            assert activity is not None
            activity.case_id = case_id
            await uow.commit()

    async def decide(
        self,
        sender_customer_id: int | None,
        *,
        secret: bytes = SECRET,
        template: str | None = None,
        **fields: object,
    ) -> ThreadDecision:
        async with self.database.uow() as uow:
            extra = {"subject_template": template} if template else {}
            decision = await decide_thread(
                uow,
                parsed(**fields),
                sender_customer_id=sender_customer_id,
                secret=secret,
                **extra,
            )
        assert len(decision.reason) <= MAX_REASON_LENGTH
        return decision


def parsed(**fields: object) -> ParsedEmail:
    base: dict[str, object] = {
        "message_id": "new-mail@customer.example",
        "in_reply_to": None,
        "references": [],
        "from_address": JANE,
        "from_name": "Jane",
        "to": ["support@example.com"],
        "cc": [],
        "reply_to": None,
        "subject": "Hello",
        "date": None,
        "text": "hi",
        "html": None,
        "attachments": [],
        "auto_submitted": False,
        "auto_reason": None,
        "is_bounce": False,
        "defects": [],
    }
    base.update(fields)
    return ParsedEmail(**base)  # type: ignore[arg-type]


@pytest.fixture
async def world(database: Database, blobs: FileBlobStore) -> World:
    async with database.uow() as uow:
        site = await seed_basic_site(uow)
        await uow.commit()
    return World(database, blobs, site)


# --- layer 1: our signed token ---------------------------------------------------------------


async def test_reply_to_outbound_email_lands_in_its_case_via_token(world: World) -> None:
    first = await world.inbound(JANE)
    sent = await world.outbound(first)
    decision = await world.decide(first.customer_id, in_reply_to=sent.message_id)
    assert decision == ThreadDecision(
        first.case_id, f"token: reply to activity {sent.activity_id}", "token"
    )


async def test_token_in_references_threads_newest_first(world: World) -> None:
    first = await world.inbound(JANE)
    sent = await world.outbound(first)
    decision = await world.decide(
        first.customer_id,
        in_reply_to="unknown@elsewhere.example",
        references=[sent.message_id, "unknown@elsewhere.example"],
    )
    assert (decision.case_id, decision.via) == (first.case_id, "token")
    assert decision.reason == f"token: References name activity {sent.activity_id}"


async def test_token_from_a_stranger_is_refused(world: World) -> None:
    first = await world.inbound(JANE)
    sent = await world.outbound(first)
    mallory = await world.customer(MALLORY)
    decision = await world.decide(mallory, in_reply_to=sent.message_id)
    assert decision.case_id is None
    assert decision.via == "new"
    assert decision.reason == (
        f"new: token of activity {sent.activity_id} ignored, sender not the case's customer"
    )


async def test_refused_token_gets_no_second_chance_as_header_match(world: World) -> None:
    """The same id is stored on the outbound activity, and outbound header matches need no
    sender check: a refused token must not slip through layer 2."""
    first = await world.inbound(JANE)
    sent = await world.outbound(first)
    mallory = await world.customer(MALLORY)
    decision = await world.decide(
        mallory, in_reply_to=sent.message_id, references=[sent.message_id]
    )
    assert decision.case_id is None


async def test_token_from_unknown_sender_is_refused(world: World) -> None:
    first = await world.inbound(JANE)
    sent = await world.outbound(first)
    decision = await world.decide(None, in_reply_to=sent.message_id)
    assert decision.case_id is None
    assert decision.reason == f"new: token of activity {sent.activity_id} ignored, sender unknown"


async def test_token_from_a_grantee_of_the_case_customer_is_accepted(world: World) -> None:
    first = await world.inbound(JANE)
    sent = await world.outbound(first)
    bob = await world.customer(BOB)
    refused = await world.decide(bob, in_reply_to=sent.message_id)
    await world.grant(grantee=bob, grantor=first.customer_id)
    accepted = await world.decide(bob, in_reply_to=sent.message_id)
    assert refused.case_id is None
    assert (accepted.case_id, accepted.via) == (first.case_id, "token")


async def test_grant_works_one_way_only(world: World) -> None:
    """Jane granting Bob lets Bob into Jane's cases, not Jane into Bob's."""
    jane = await world.inbound(JANE)
    bob_mail = await world.inbound(BOB)
    await world.grant(grantee=bob_mail.customer_id, grantor=jane.customer_id)
    sent_to_bob = await world.outbound(bob_mail)
    decision = await world.decide(jane.customer_id, in_reply_to=sent_to_bob.message_id)
    assert decision.case_id is None


async def test_token_follows_an_activity_that_moved_case(world: World) -> None:
    first = await world.inbound(JANE)
    second = await world.inbound(JANE)
    sent = await world.outbound(first)
    await world.move(sent.activity_id, second.case_id)
    decision = await world.decide(first.customer_id, in_reply_to=sent.message_id)
    assert (decision.case_id, decision.via) == (second.case_id, "token")


async def test_token_follows_only_the_activity_that_carried_it(world: World) -> None:
    """Activity 8888 in the token is not the email that carried it (ids reused after a
    restore, say): the token's own case counts, not wherever that activity now is."""
    first = await world.inbound(JANE)
    other = await world.inbound(JANE)
    token = make_message_id(
        case_id=first.case_id, activity_id=other.activity_id, domain=DOMAIN, secret=SECRET
    )
    decision = await world.decide(first.customer_id, in_reply_to=token)
    assert (decision.case_id, decision.via) == (first.case_id, "token")


async def test_token_naming_no_existing_case_falls_through(world: World) -> None:
    jane = await world.inbound(JANE)
    ghost = make_message_id(case_id=9999, activity_id=8888, domain=DOMAIN, secret=SECRET)
    decision = await world.decide(jane.customer_id, in_reply_to=ghost)
    assert decision == ThreadDecision(
        None, "new: token of activity 8888 names no existing case", "new"
    )


async def test_token_signed_with_another_secret_is_not_a_token(world: World) -> None:
    """After a secret rotation old ids no longer verify; the stored id still matches as a
    header on the outbound activity (layer 2), where knowing it is proof enough."""
    first = await world.inbound(JANE)
    sent = await world.outbound(first, secret=OTHER_SECRET)
    decision = await world.decide(first.customer_id, in_reply_to=sent.message_id)
    assert (decision.case_id, decision.via) == (first.case_id, "header")


async def test_forged_token_names_nothing(world: World) -> None:
    first = await world.inbound(JANE)
    mallory = await world.customer(MALLORY)
    forged = make_message_id(
        case_id=first.case_id, activity_id=1, domain=DOMAIN, secret=b"guessed-secret"
    )
    decision = await world.decide(mallory, in_reply_to=forged)
    assert decision == ThreadDecision(None, "new: no match", "new")


# --- layer 2: stored Message-IDs ------------------------------------------------------------


async def test_in_reply_to_an_inbound_email_of_the_same_customer(world: World) -> None:
    first = await world.inbound(JANE)
    decision = await world.decide(first.customer_id, in_reply_to=first.message_id)
    assert decision == ThreadDecision(
        first.case_id,
        f"header: In-Reply-To <{first.message_id}> of activity {first.activity_id}",
        "header",
    )


async def test_references_are_matched_newest_first(world: World) -> None:
    older = await world.inbound(JANE)
    newer = await world.inbound(JANE)
    decision = await world.decide(
        older.customer_id, references=[older.message_id, newer.message_id]
    )
    assert (decision.case_id, decision.via) == (newer.case_id, "header")
    assert decision.reason == (
        f"header: References <{newer.message_id}> of activity {newer.activity_id}"
    )


async def test_in_reply_to_is_matched_before_references(world: World) -> None:
    parent = await world.inbound(JANE)
    other = await world.inbound(JANE)
    decision = await world.decide(
        parent.customer_id, in_reply_to=parent.message_id, references=[other.message_id]
    )
    assert decision.case_id == parent.case_id


async def test_header_match_on_inbound_threads_any_sender(world: World) -> None:
    """Whoever quotes the Message-ID of an email received it (a Cc'd colleague, say): the
    reply joins that case as the sender's own activity (issue #4: >= 99% of replies thread)."""
    jane = await world.inbound(JANE)
    colleague = await world.customer(MALLORY)
    decision = await world.decide(colleague, in_reply_to=jane.message_id)
    assert decision == ThreadDecision(
        jane.case_id,
        f"header: In-Reply-To <{jane.message_id}> of activity {jane.activity_id}",
        "header",
    )


async def test_header_match_on_inbound_is_accepted_for_a_grantee(world: World) -> None:
    jane = await world.inbound(JANE)
    bob = await world.customer(BOB)
    await world.grant(grantee=bob, grantor=jane.customer_id)
    decision = await world.decide(bob, in_reply_to=jane.message_id)
    assert (decision.case_id, decision.via) == (jane.case_id, "header")


async def test_header_match_on_own_inbound_in_another_customers_case(world: World) -> None:
    """Bob once wrote into Jane's case (as her grantee); his own message threads his reply
    even after the grant is gone: he wrote it."""
    jane = await world.inbound(JANE)
    bob = await world.customer(BOB)
    bob_in_jane_case = await world.inbound(BOB, case_id=jane.case_id)
    assert bob_in_jane_case.customer_id == bob
    decision = await world.decide(bob, in_reply_to=bob_in_jane_case.message_id)
    assert (decision.case_id, decision.via) == (jane.case_id, "header")


async def test_header_match_on_outbound_needs_no_sender_check(world: World) -> None:
    """A colleague Cc'd on our reply answers it: knowing our (unguessable) Message-ID proves
    they received the mail."""
    jane = await world.inbound(JANE)
    sent = await world.outbound(jane, message_id="legacy-0001.x7q2@desk.example.com")
    colleague = await world.customer("colleague@customer.example")
    decision = await world.decide(colleague, in_reply_to=sent.message_id)
    assert decision == ThreadDecision(
        jane.case_id,
        f"header: In-Reply-To <{sent.message_id}> of activity {sent.activity_id}",
        "header",
    )


async def test_angle_brackets_around_thread_ids_are_tolerated(world: World) -> None:
    jane = await world.inbound(JANE)
    decision = await world.decide(jane.customer_id, in_reply_to=f"<{jane.message_id}>")
    assert decision.case_id == jane.case_id


async def test_only_the_newest_references_are_examined(world: World) -> None:
    """Each id costs a query; References may hold thousands. The newest carry the thread."""
    jane = await world.inbound(JANE)
    noise = [f"noise-{i}@elsewhere.example" for i in range(MAX_THREAD_IDS)]
    beyond = await world.decide(jane.customer_id, references=[jane.message_id, *noise])
    within = await world.decide(jane.customer_id, references=[jane.message_id, *noise[1:]])
    assert beyond.case_id is None
    assert within.case_id == jane.case_id


# --- layer 3: the subject token ------------------------------------------------------------------


async def test_subject_token_threads_for_the_case_customer(world: World) -> None:
    jane = await world.inbound(JANE)
    decision = await world.decide(jane.customer_id, subject=f"Re: [#{jane.case_id}] my order")
    assert decision == ThreadDecision(jane.case_id, f"subject: [#{jane.case_id}]", "subject")


async def test_subject_token_from_a_stranger_is_refused(world: World) -> None:
    jane = await world.inbound(JANE)
    mallory = await world.customer(MALLORY)
    decision = await world.decide(mallory, subject=f"Re: [#{jane.case_id}] hi")
    assert decision == ThreadDecision(
        None,
        f"new: subject token [#{jane.case_id}] ignored, sender not the case's customer",
        "new",
    )


async def test_subject_token_from_a_grantee_is_accepted(world: World) -> None:
    jane = await world.inbound(JANE)
    bob = await world.customer(BOB)
    await world.grant(grantee=bob, grantor=jane.customer_id)
    decision = await world.decide(bob, subject=f"[#{jane.case_id}]")
    assert (decision.case_id, decision.via) == (jane.case_id, "subject")


async def test_subject_token_naming_no_case_makes_a_new_case(world: World) -> None:
    jane = await world.inbound(JANE)
    decision = await world.decide(jane.customer_id, subject="Re: [#987654] lost")
    assert decision == ThreadDecision(
        None, "new: subject token [#987654] names no existing case", "new"
    )


async def test_subject_token_template_is_configurable(world: World) -> None:
    jane = await world.inbound(JANE)
    subject = f"Re: [Case {jane.case_id}] x"
    default = await world.decide(jane.customer_id, subject=subject)
    custom = await world.decide(jane.customer_id, subject=subject, template="[Case {case_id}]")
    assert default.case_id is None
    assert custom == ThreadDecision(jane.case_id, f"subject: [Case {jane.case_id}]", "subject")


# --- layer 4 and precedence -------------------------------------------------------------------


async def test_no_match_makes_a_new_case(world: World) -> None:
    jane = await world.inbound(JANE)
    decision = await world.decide(
        jane.customer_id, in_reply_to="unknown@x.example", subject="Order missing"
    )
    assert decision == ThreadDecision(None, "new: no match", "new")


async def test_token_beats_header(world: World) -> None:
    first = await world.inbound(JANE)
    second = await world.inbound(JANE)
    sent = await world.outbound(first)
    decision = await world.decide(
        first.customer_id, in_reply_to=second.message_id, references=[sent.message_id]
    )
    assert (decision.case_id, decision.via) == (first.case_id, "token")


async def test_header_beats_subject(world: World) -> None:
    first = await world.inbound(JANE)
    second = await world.inbound(JANE)
    decision = await world.decide(
        first.customer_id, in_reply_to=first.message_id, subject=f"Re: [#{second.case_id}]"
    )
    assert (decision.case_id, decision.via) == (first.case_id, "header")


async def test_refused_token_then_subject_match_explains_both(world: World) -> None:
    """Bob (no grant) answers Jane's mail but his subject names his own case."""
    jane = await world.inbound(JANE)
    sent = await world.outbound(jane)
    bob = await world.inbound(BOB)
    decision = await world.decide(
        bob.customer_id, in_reply_to=sent.message_id, subject=f"Re: [#{bob.case_id}] x"
    )
    assert decision == ThreadDecision(
        bob.case_id,
        f"subject: [#{bob.case_id}] (token of activity {sent.activity_id} ignored, "
        "sender not the case's customer)",
        "subject",
    )


async def test_reason_stays_within_255_characters(world: World) -> None:
    jane = await world.inbound(JANE)
    mallory = await world.customer(MALLORY)
    refused_tokens = [(await world.outbound(jane)).message_id for _ in range(6)]
    decision = await world.decide(mallory, references=refused_tokens, subject=f"[#{jane.case_id}]")
    assert decision.case_id is None
    assert len(decision.reason) == MAX_REASON_LENGTH
    assert decision.reason.startswith("new: token of activity")
    assert decision.reason.endswith("…")


async def test_reason_never_names_the_sender_address(world: World) -> None:
    jane = await world.inbound(JANE)
    mallory = await world.customer(MALLORY)
    for sender in (jane.customer_id, mallory, None):
        decision = await world.decide(
            sender,
            in_reply_to=jane.message_id,
            subject=f"[#{jane.case_id}]",
            from_address=MALLORY,
        )
        assert MALLORY not in decision.reason
        assert "mallory" not in decision.reason
