"""Plain-text e-mail over SMTP: one connection for a batch, STARTTLS when MAIL_USE_TLS, nothing
at all when MAIL_SERVER is unset. Logs carry counts and error classes only, never an address
or a server reply (a refusal quotes the address back; DESIGN.md: no personal data in logs)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 30  # per SMTP command: a stuck server must not hold a worker for ever


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    body: str


def is_configured(config: Mapping[str, Any] | None = None) -> bool:
    return bool((config if config is not None else current_app.config).get("MAIL_SERVER"))


def build_message(mail: OutgoingMail, sender: str) -> EmailMessage:
    """A UTF-8 text/plain message with the headers a receiving server expects. Raises
    ValueError for an address or header that cannot be written (a line break, say)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    message.set_content(mail.body, charset="utf-8")
    return message


def _check_address(address: str) -> None:
    """Raises ValueError unless `address` is one plain mailbox (no display name, no list)."""
    parsed = Address(addr_spec=address)
    if not parsed.username or not parsed.domain:
        raise ValueError("not a mailbox")


def send_mails(mails: Sequence[OutgoingMail], config: Mapping[str, Any] | None = None) -> int:
    """Hand each message to the configured server over one connection; returns how many it
    accepted. Never raises for network, TLS, SMTP or address errors: they are logged (counts
    only) and the rest of the batch goes on, or stops when the connection is lost."""
    config = config if config is not None else current_app.config
    if not mails or not is_configured(config):
        return 0
    sent = refused = 0
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25),
                          timeout=TIMEOUT_SECONDS) as smtp:
            smtp.ehlo()
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            sender = config.get("MAIL_FROM") or "Hocvuso <no-reply@localhost>"
            for mail in mails:
                try:
                    _check_address(mail.to)
                    smtp.send_message(build_message(mail, sender))
                    sent += 1
                except (ValueError, smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                        smtplib.SMTPNotSupportedError, smtplib.SMTPSenderRefused) as exc:
                    refused += 1
                    log.warning("mail: one message refused (%s)", type(exc).__name__)
                    smtp.rset()
    except (OSError, smtplib.SMTPException) as exc:  # connection, TLS, login, lost server
        log.warning("mail: SMTP failed after %d of %d messages (%s)", sent, len(mails),
                    type(exc).__name__)
    log.info("mail: %d of %d messages handed to the SMTP server, %d refused", sent,
             len(mails), refused)
    return sent
