"""Alert channels: one small class per platform, chosen by name from :data:`CHANNELS`."""

from alerting.channels.base import (
    CHANNELS,
    Channel,
    ChannelError,
    SendResult,
    build_channel,
    split_lines,
)

__all__ = ["CHANNELS", "Channel", "ChannelError", "SendResult", "build_channel", "split_lines"]
