"""E-mail over SMTP: STARTTLS (587) or implicit TLS (465), plain text and HTML.

``multipart/alternative`` with a plain-text and an HTML part; the ``Message-ID`` is derived
from the idempotency key so a mail server or client can spot a repeat. Delivered when the
server accepts the message for at least one recipient.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Literal

from pydantic import Field, SecretStr

from alerting.channels.base import CHANNELS, Channel, ChannelOptions, SendResult
from alerting.render import AlertText


class EmailOptions(ChannelOptions):
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(min_length=3, alias="from")
    sender_name: str = "听风舆情预警"
    to: list[str] = Field(min_length=1)
    #: CA bundle for a server with a private certificate.
    ca_file: str | None = None
    verify: bool = True


@CHANNELS.register("email")
class EmailChannel(Channel):
    Options = EmailOptions
    options: EmailOptions

    def context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.options.ca_file)
        if not self.options.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def build(self, body: str, text: AlertText, key: str) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = text.title
        msg["From"] = formataddr((self.options.sender_name, self.options.sender))
        msg["To"] = ", ".join(self.options.to)
        msg["Date"] = format_datetime(self.clock())
        domain = self.options.sender.rsplit("@", 1)[-1]
        msg["Message-ID"] = f"<{key}@{domain}>"
        msg.set_content(body)
        msg.add_alternative(text.html(), subtype="html")
        return msg

    def send_part(
        self, body: str, *, text: AlertText, key: str, part: int, total: int
    ) -> SendResult:
        o = self.options
        msg = self.build(body, text, key)
        try:
            if o.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    o.host, o.port, timeout=o.timeout_seconds, context=self.context()
                )
            else:
                smtp = smtplib.SMTP(o.host, o.port, timeout=o.timeout_seconds)
            with smtp:
                if o.security == "starttls":
                    smtp.starttls(context=self.context())
                if o.username and o.password:
                    smtp.login(o.username, o.password.get_secret_value())
                refused = smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult(False, f"SMTP {type(exc).__name__}: {exc}")
        accepted = [r for r in o.to if r not in refused]
        if not accepted:
            return SendResult(False, f"SMTP refused every recipient: {refused}")
        return SendResult(True, f"SMTP accepted for {', '.join(accepted)}")
