"""DingTalk custom robot (钉钉自定义机器人), signed: ``POST /robot/send?access_token=T``.

Signing appends ``timestamp`` (milliseconds) and ``sign`` =
``urlencode(base64(HMAC_SHA256(secret, f"{timestamp}\\n{secret}")))`` to the URL. Markdown
messages of about 20,000 bytes; 20 a minute per robot (above it the robot is blocked for 10
minutes, so the sender never goes over); success is ``{"errcode": 0}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from pydantic import Field, SecretStr

from alerting.channels.base import CHANNELS, Channel, ChannelOptions, SendResult
from alerting.render import AlertText

COLOURS = {"red": "#FF0000", "orange": "#FF8C00", "yellow": "#D4B106", "blue": "#1677FF"}


class DingTalkOptions(ChannelOptions):
    access_token: SecretStr
    secret: SecretStr = Field(description="SEC... signing secret")
    base_url: str = "https://oapi.dingtalk.com"
    at_mobiles: list[str] = Field(default_factory=list)
    at_all: bool = False


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    msg = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), msg, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@CHANNELS.register("dingtalk")
class DingTalkChannel(Channel):
    Options = DingTalkOptions
    options: DingTalkOptions
    max_bytes = 19_000  # "about 20,000" in practice: keep a margin for the JSON around it
    rate_limits = ((20, 60.0),)

    def lines(self, text: AlertText) -> list[str]:
        tag = f'<font color="{COLOURS.get(text.colour, "#000000")}">{{text}}</font>'
        out = text.markdown_lines(tag)
        out += [f"@{m}" for m in self.options.at_mobiles]
        # DingTalk markdown needs a blank line for a line break.
        return [line + "\n" for line in out]

    def send_part(
        self, body: str, *, text: AlertText, key: str, part: int, total: int
    ) -> SendResult:
        ts = int(self.clock().timestamp() * 1000)
        params = {
            "access_token": self.options.access_token.get_secret_value(),
            "timestamp": str(ts),
            "sign": dingtalk_sign(self.options.secret.get_secret_value(), ts),
        }
        title = text.title if total == 1 else f"{text.title}（{part}/{total}）"
        payload = {
            "msgtype": "markdown",
            "markdown": {"title": title[:60], "text": body},
            "at": {"atMobiles": self.options.at_mobiles, "isAtAll": self.options.at_all},
        }
        url = f"{self.options.base_url.rstrip('/')}/robot/send"
        resp = self.post_json(url, payload, params=params)
        return self.errcode_result(resp, throttle=frozenset({130101}))
