"""Generic webhook for an office's own systems: JSON body, HMAC-SHA256 signature.

Headers: ``X-Tingfeng-Signature: sha256=<hex HMAC of the raw body>``,
``X-Tingfeng-Timestamp`` (Unix seconds) and ``Idempotency-Key``. Any 2xx is delivered.
"""

from __future__ import annotations

import hashlib
import hmac

import orjson
from pydantic import Field, SecretStr, field_validator

from alerting.channels.base import CHANNELS, Channel, ChannelOptions, SendResult
from alerting.render import AlertText


class WebhookOptions(ChannelOptions):
    url: str
    secret: SecretStr | None = None
    max_bytes: int | None = Field(default=None, ge=256)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("应以 http:// 或 https:// 开头")
        return value


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@CHANNELS.register("webhook")
class WebhookChannel(Channel):
    """POST the alert as JSON to any URL."""

    Options = WebhookOptions
    options: WebhookOptions

    def parts(self, text: AlertText) -> list[str]:
        if self.options.max_bytes is None:
            return ["\n".join(text.plain_lines())]
        from alerting.channels.base import split_lines

        return split_lines(text.plain_lines(), self.options.max_bytes, self.measure)

    def send_part(
        self, body: str, *, text: AlertText, key: str, part: int, total: int
    ) -> SendResult:
        payload = {
            "idempotency_key": key,
            "part": part,
            "parts": total,
            "event": text.event,
            "title": text.title,
            "tier": text.tier,
            "colour": text.colour,
            "text": body,
            "lines": [line.model_dump() for line in text.lines],
            "link": text.link,
        }
        raw = orjson.dumps(payload)
        ts = str(int(self.clock().timestamp()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": key if total == 1 else f"{key}-{part}",
            "X-Tingfeng-Timestamp": ts,
        }
        if self.options.secret is not None:
            headers["X-Tingfeng-Signature"] = sign(self.options.secret.get_secret_value(), raw)
        resp = self.client.post(
            self.options.url, content=raw, headers=headers, timeout=self.options.timeout_seconds
        )
        detail = f"HTTP {resp.status_code} {resp.text[:300]}"
        return SendResult(200 <= resp.status_code < 300, detail, throttled=resp.status_code == 429)
