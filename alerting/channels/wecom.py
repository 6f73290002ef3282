"""WeCom group robot (企业微信群机器人): ``POST /cgi-bin/webhook/send?key=KEY``.

Markdown messages, 4,096 bytes of content (UTF-8), 20 messages a minute per robot; success is
``{"errcode": 0}`` in the body (45009 = too fast).
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from alerting.channels.base import CHANNELS, Channel, ChannelOptions, SendResult
from alerting.render import AlertText

#: WeCom markdown has three font colours; tier colours map onto them.
FONT = {"red": "warning", "orange": "warning", "yellow": "comment", "blue": "info"}


class WeComOptions(ChannelOptions):
    key: SecretStr
    base_url: str = "https://qyapi.weixin.qq.com"
    #: WeCom user ids mentioned in every message (``<@userid>`` in markdown).
    mentioned_userids: list[str] = Field(default_factory=list)


@CHANNELS.register("wecom")
class WeComChannel(Channel):
    Options = WeComOptions
    options: WeComOptions
    max_bytes = 4096
    rate_limits = ((20, 60.0),)

    def lines(self, text: AlertText) -> list[str]:
        tag = f'<font color="{FONT.get(text.colour, "info")}">{{text}}</font>'
        out = text.markdown_lines(tag)
        out += [f"<@{m}>" for m in [*self.options.mentioned_userids, *text.mentions]]
        return out

    def send_part(
        self, body: str, *, text: AlertText, key: str, part: int, total: int
    ) -> SendResult:
        url = f"{self.options.base_url.rstrip('/')}/cgi-bin/webhook/send"
        payload = {"msgtype": "markdown", "markdown": {"content": body}}
        resp = self.post_json(url, payload, params={"key": self.options.key.get_secret_value()})
        return self.errcode_result(resp, throttle=frozenset({45009}))
