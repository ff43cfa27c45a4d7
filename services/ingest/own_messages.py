"""Messages casetrail wrote itself, recognised when a platform reports them back.

Delivery ends every message it writes with its reference line (``ref ct-…``)
and marks its e-mails (``X-Casetrail-Ref``, a Message-ID in
``casetrail.invalid``); see ``casetrail.own_messages``. A platform's webhook for
casetrail's own comment, or a reply e-mail that comes back into the intake
mailbox, is such a message: it is recorded as the bot's (never the
customer's), and when it is the newest message nothing is handed to triage,
so casetrail never answers itself.
"""

from __future__ import annotations

from casetrail.events.conversation import AuthorRole
from casetrail.own_messages import marker_in
from services.ingest.connectors.base import NormalisedTicket

OWN_EMAIL_TAG = "casetrail-own"  # set by the e-mail connector from the message's headers


def mark_own_messages(ticket: NormalisedTicket) -> int:
    """Set the author of every casetrail-written message to the bot; how many there were."""
    marked = 0
    for message in ticket.messages:
        if message.author_role != AuthorRole.bot and marker_in(message.body_text):
            message.author_role = AuthorRole.bot
            marked += 1
    return marked


def latest_is_own(ticket: NormalisedTicket) -> bool:
    if not ticket.messages:
        return False
    latest = ticket.messages[-1]
    if latest.author_role != AuthorRole.bot:
        return False
    return marker_in(latest.body_text) is not None or OWN_EMAIL_TAG in ticket.tags
