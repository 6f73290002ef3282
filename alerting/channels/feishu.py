"""Feishu custom bot (飞书自定义机器人), signed: ``POST /open-apis/bot/v2/hook/TOKEN``.

``timestamp`` (seconds) and ``sign = base64(HMAC_SHA256(key=f"{timestamp}\\n{secret}",
msg=b""))`` go in the JSON body. An interactive card whose header takes the tier colour;
request body at most 20 KB; 100 a minute and 5 a second per bot; success is
``{"code": 0}`` (older ``StatusCode: 0``), 11232 = frequency limited.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import orjson
from pydantic import SecretStr

from alerting.channels.base import CHANNELS, Channel, ChannelOptions, SendResult
from alerting.render import AlertText

BODY_LIMIT = 20_000


class FeishuOptions(ChannelOptions):
    token: SecretStr
    secret: SecretStr
    base_url: str = "https://open.feishu.cn"


def feishu_sign(secret: str, timestamp: int) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def card(title: str, colour: str, body: str) -> dict[str, Any]:
    return {
        "config": {"wide_screen_mode": True},
        "header": {"template": colour, "title": {"tag": "plain_text", "content": title}},
        "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": body}}],
    }


@CHANNELS.register("feishu")
class FeishuChannel(Channel):
    Options = FeishuOptions
    options: FeishuOptions
    #: Measured on the JSON-encoded card text plus the envelope (see :meth:`measure`).
    max_bytes = BODY_LIMIT - 1_000
    rate_limits = ((5, 1.0), (100, 60.0))

    def lines(self, text: AlertText) -> list[str]:
        return text.markdown_lines(quote=False)[1:]  # the title goes in the card header

    def measure(self, chunk: str) -> int:
        return len(orjson.dumps(chunk))

    def payload(self, body: str, text: AlertText, part: int, total: int) -> dict[str, Any]:
        ts = int(self.clock().timestamp())
        title = text.title if total == 1 else f"{text.title}（{part}/{total}）"
        return {
            "timestamp": str(ts),
            "sign": feishu_sign(self.options.secret.get_secret_value(), ts),
            "msg_type": "interactive",
            "card": card(title, text.colour, body),
        }

    def send_part(
        self, body: str, *, text: AlertText, key: str, part: int, total: int
    ) -> SendResult:
        url = (
            f"{self.options.base_url.rstrip('/')}/open-apis/bot/v2/hook/"
            f"{self.options.token.get_secret_value()}"
        )
        resp = self.post_json(url, self.payload(body, text, part, total))
        return self.errcode_result(resp, field="code", throttle=frozenset({11232}))
