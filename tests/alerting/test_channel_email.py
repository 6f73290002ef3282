"""E-mail to a local aiosmtpd server: STARTTLS and implicit TLS, plain + HTML parts."""

from __future__ import annotations

import email
import socket
import ssl
from email import policy as email_policy

import pytest
import trustme
from aiosmtpd.controller import Controller

from alerting.channels import build_channel
from alerting.render import AlertText, Line


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), session.ssl))
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email_policy.default)
        )
        return "250 OK"


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_context(ca) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


@pytest.fixture
def smtp_starttls(ca):
    inbox = Inbox()
    ctl = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_context(ca),
        require_starttls=True,
    )
    ctl.start()
    yield ctl, inbox
    ctl.stop()


@pytest.fixture
def smtp_tls(ca):
    inbox = Inbox()
    ctl = Controller(inbox, hostname="127.0.0.1", port=free_port(), ssl_context=server_context(ca))
    ctl.start()
    yield ctl, inbox
    ctl.stop()


def text() -> AlertText:
    return AlertText(
        event="created",
        title="【新预警·Ⅰ级红色】白塔县化工厂异味",
        colour="red",
        lines=[Line(label="传言", value="「化工厂爆炸<有毒>」")],
        link="http://127.0.0.1:8000/incidents/inc-9",
    )


def send(ctl, security, ca, tmp_path, clock):
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    raw = {
        "type": "email",
        "host": "127.0.0.1",
        "port": ctl.port,
        "security": security,
        "from": "alert@qc.gov.example",
        "to": ["duty@qc.gov.example"],
        "ca_file": str(ca_file),
    }
    ch = build_channel("mail", raw, clock=clock)
    t = text()
    (part,) = ch.parts(t)
    return ch.send_part(part, text=t, key="0123abcd", part=1, total=1)


def test_starttls_plain_and_html(smtp_starttls, ca, tmp_path, clock):
    ctl, inbox = smtp_starttls
    result = send(ctl, "starttls", ca, tmp_path, clock)
    assert result.ok, result.detail
    (msg,) = inbox.messages
    assert msg["Subject"] == text().title
    assert msg["Message-ID"] == "<0123abcd@qc.gov.example>"
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "传言：「化工厂爆炸<有毒>」" in plain
    assert "&lt;有毒&gt;" in html and 'href="http://127.0.0.1:8000/incidents/inc-9"' in html
    assert inbox.envelopes[0][2] is not None  # the session was encrypted


def test_implicit_tls(smtp_tls, ca, tmp_path, clock):
    ctl, inbox = smtp_tls
    assert send(ctl, "tls", ca, tmp_path, clock).ok
    assert len(inbox.messages) == 1


def test_untrusted_certificate_fails_cleanly(smtp_starttls, clock):
    ctl, inbox = smtp_starttls
    ch = build_channel(
        "mail",
        {
            "type": "email",
            "host": "127.0.0.1",
            "port": ctl.port,
            "from": "a@qc.gov.example",
            "to": ["d@qc.gov.example"],
        },
        clock=clock,
    )
    t = text()
    result = ch.send_part(ch.parts(t)[0], text=t, key="k", part=1, total=1)
    assert not result.ok and "SSL" in result.detail
    assert not inbox.messages
