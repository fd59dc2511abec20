"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the e-mail tests: a free port, every message
kept as it was received. A recipient whose address starts with "refuse" is refused with 550,
as a real server refuses an unknown mailbox."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage

try:
    from aiosmtpd.controller import Controller
except ImportError as exc:  # a dev dependency: missing means a broken setup, never a skip
    raise ImportError("aiosmtpd is missing: install the dev extra "
                      "(pip install -e '.[dev]', as make test does)") from exc

from tests.support.postgres import free_port


@dataclass
class Received:
    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage


@dataclass
class Collector:
    messages: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    controller: Controller
    collector: Collector
    port: int

    @property
    def messages(self) -> list[Received]:
        return self.collector.messages

    def stop(self) -> None:
        self.controller.stop()


def start_smtp() -> SmtpServer:
    """Start the server in its own thread; stop() it when done."""
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    return SmtpServer(controller, collector, port)
