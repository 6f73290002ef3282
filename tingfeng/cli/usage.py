"""Chinese for what typer prints by itself: usage errors and the chrome of help pages.

Typer (its vendored click) words usage errors in English ("Missing argument 'query'.") and
titles help panels "Options", "Commands". Rather than a gettext catalogue, the error
boundary rewords each usage error from the exception's type and attributes
(:func:`usage_error_lines`), and :func:`install` sets typer's help-page strings, which it
exposes as module constants, to Chinese.
"""

from __future__ import annotations

import re
from typing import Any

from text.zh import choices, describe, input_value

#: Argument names in usage lines and messages, where a command gives no Chinese metavar.
ARGUMENT_NAMES = {
    "query": "关键词",
    "files": "文件",
    "directory": "目录",
    "text": "文本",
    "sources": "数据源",
    "alert_id": "预警编号",
    "silence_id": "静默编号",
    "bulletin_id": "通报编号",
    "incident": "事件编号",
    "target": "对象",
    "value": "值",
    "name": "名称",
    "period": "周期",
    "dest": "备份位置",
    "src": "备份文件",
}

#: typer's type labels in help pages (``<int>``) in Chinese; a flag shows none.
TYPE_LABELS = {
    "str": "文本",
    "int": "整数",
    "float": "数字",
    "path": "路径",
    "file": "文件",
    "dir": "目录",
    "datetime": "时间",
    "list[str]": "文本，可重复",
    "list[path]": "路径，可重复",
    "int range": "整数",
    "float range": "数字",
}

HELP_OPTION_TEXT = "显示本帮助并退出。"


def argument_name(param: Any) -> str:
    metavar = getattr(param, "metavar", None)
    if metavar:
        return str(metavar)
    name = str(getattr(param, "name", "") or "")
    return ARGUMENT_NAMES.get(name, name)


def usage_line(ctx: Any) -> str:
    """``用法：tingfeng search [选项] 关键词…`` for the command of ``ctx``."""
    pieces = [ctx.command_path, "[选项]"]
    command = ctx.command
    for param in command.get_params(ctx):
        if getattr(param, "param_type_name", "") != "argument":
            continue
        name = argument_name(param)
        if getattr(param, "nargs", 1) != 1:
            name += "…"
        pieces.append(name if param.required else f"[{name}]")
    if hasattr(command, "commands"):
        pieces.append("命令 [参数]…")
    return "用法：" + " ".join(pieces)


def _param_label(exc: Any) -> str:
    """The option (``--limit``) or argument (``关键词``) an error is about."""
    hint = getattr(exc, "param_hint", None)
    if hint is not None:
        if not isinstance(hint, str):
            return " / ".join(str(h) for h in hint)
        return hint.strip("'\"")
    param = getattr(exc, "param", None)
    if param is None:
        return ""
    if getattr(param, "param_type_name", "") == "argument":
        return argument_name(param)
    opts = [o for o in getattr(param, "opts", []) if o.startswith("--")] or list(
        getattr(param, "opts", [])
    )
    return " / ".join(opts) or str(param.name)


def _what(exc: Any) -> str:
    param = getattr(exc, "param", None)
    kind = getattr(exc, "param_type", None) or getattr(param, "param_type_name", None)
    return "参数" if kind == "argument" else "选项"


#: typer's own English messages without an attribute to go by: (pattern, Chinese).
_PLAIN = [
    (re.compile(r"^No such command '(.+?)'\.?(?: Did you mean (.+)\?)?$", re.S), "nosuchcommand"),
    (re.compile(r"^Missing command\.?$"), "缺少命令"),
    (re.compile(r"^Got unexpected extra argument(?:\(s\)|s)? \((.*)\)$", re.S), "extra"),
    (re.compile(r"^Option '(.+?)' requires (?:an argument|(\d+) arguments)\.?$"), "requires"),
    (re.compile(r"^Option '(.+?)' does not take a value\.?$"), "novalue"),
    (re.compile(r"^Argument '(.+?)' takes (\d+) values\.?$"), "argvalues"),
]

_PATH = re.compile(
    r"^(File|Directory|Path|file|dir|path) '(.*)' "
    r"(does not exist|is a file|is a directory|is not readable|is not writable)\.$"
)
_PATH_PROBLEMS = {
    "does not exist": "不存在",
    "is a file": "是文件，应为文件夹",
    "is a directory": "是文件夹，应为文件",
    "is not readable": "无法读取",
    "is not writable": "无法写入",
}


def _plain(message: str) -> str | None:
    for pattern, kind in _PLAIN:
        m = pattern.match(message.strip())
        if not m:
            continue
        if kind == "nosuchcommand":
            text = f"没有命令 {m.group(1)}"
            if m.group(2):
                text += f"（是不是想用 {m.group(2).replace(', ', '、')}？）"
            return text
        if kind == "extra":
            return f"多余的参数：{m.group(1)}"
        if kind == "requires":
            return f"选项 {m.group(1)} 需要{m.group(2) + ' 个' if m.group(2) else '一个'}值"
        if kind == "novalue":
            return f"选项 {m.group(1)} 不接受值"
        if kind == "argvalues":
            return f"参数 {m.group(1)} 需要 {m.group(2)} 个值"
        return kind
    return None


def error_text(exc: Any) -> str:
    """The problem of a usage error in Chinese, naming the option or argument and value."""
    from typer._click import exceptions as errors

    if isinstance(exc, errors.NoSuchOption):
        text = f"没有选项 {exc.option_name}"
        if exc.possibilities:
            text += f"（是不是想用 {'、'.join(sorted(exc.possibilities))}？）"
        return text
    if isinstance(exc, errors.MissingParameter):
        text = f"缺少{_what(exc)} {_param_label(exc)}"
        param = exc.param
        desc = getattr(param, "type_descriptor", None)
        if desc is not None and desc.is_choice and desc.choices:
            text += f"（可选：{'、'.join(str(c) for c in desc.choices)}）"
        return text
    if isinstance(exc, errors.BadParameter):
        label = _param_label(exc)
        head = f"{_what(exc)} {label}" if label else "取值"
        cause = exc.__cause__
        if cause is not None and hasattr(cause, "errors"):
            errs = cause.errors()
            if errs:
                value = input_value(errs[0])
                shown = f" 的值 {value}" if value is not None else ""
                return f"{head}{shown} 无效：{describe(errs[0])}"
        path = _PATH.match(exc.message)
        if path:
            return f"{head}: {path.group(2)} {_PATH_PROBLEMS[path.group(3)]}"
        return f"{head}: {exc.message}"
    plain = _plain(exc.message)
    if plain is not None:
        return plain
    return exc.format_message()


def usage_error_lines(exc: Any) -> list[str]:
    """What the error boundary prints for a usage error: the problem, the usage line, where
    to find help."""
    lines = [f"错误：{error_text(exc)}"]
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        lines.append(usage_line(ctx))
        lines.append(f"运行 {ctx.command_path} --help 查看帮助")
    return lines


def install() -> None:
    """Chinese help-page chrome: panel titles, the usage prefix, ``--help``'s own text and
    the type labels. Idempotent; a typer without one of these hooks keeps its English."""
    from typer import core, rich_utils
    from typer._click import core as click_core
    from typer._click import formatting

    for name, text in {
        "ARGUMENTS_PANEL_TITLE": "参数",
        "OPTIONS_PANEL_TITLE": "选项",
        "COMMANDS_PANEL_TITLE": "命令",
        "ERRORS_PANEL_TITLE": "错误",
        "DEPRECATED_STRING": "（已弃用）",
        "DEFAULT_STRING": "[默认：{}]",
        "ENVVAR_STRING": "[环境变量：{}]",
        "REQUIRED_LONG_STRING": "[必填]",
        "ABORTED_TEXT": "已中止。",
        "RICH_HELP": "运行 [blue]{command_path} {help_option}[/] 查看帮助",
    }.items():
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, text)

    if getattr(formatting.HelpFormatter, "_tingfeng_zh", False):
        return
    write_usage = formatting.HelpFormatter.write_usage

    def chinese_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        args = args.replace("[OPTIONS]", "[选项]").replace("COMMAND [ARGS]...", "命令 [参数]…")
        write_usage(self, prog, args, "用法：" if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = chinese_usage  # type: ignore[method-assign]
    formatting.HelpFormatter._tingfeng_zh = True  # type: ignore[attr-defined]

    get_help_option = click_core.Command.get_help_option

    def chinese_help_option(self: Any, ctx: Any) -> Any:
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option

    click_core.Command.get_help_option = chinese_help_option  # type: ignore[method-assign]

    def chinese_type(display_type: Any) -> Any:
        def label(self: Any, ctx: Any) -> str | None:
            text = display_type(self, ctx)
            if not text or getattr(self, "metavar", None) is not None:
                return text
            more = text.endswith("...")
            inner = text.removesuffix("...").strip("<>")
            if inner == "bool":
                return None  # a flag: its name says it all
            return f"<{TYPE_LABELS.get(inner, inner)}>" + ("…" if more else "")

        return label

    for cls in (core._TyperParameter, core.TyperOption):
        cls.display_type_rich = chinese_type(cls.display_type_rich)  # type: ignore[method-assign]

    core.TyperArgument.display_name_raw = property(  # type: ignore[method-assign,assignment]
        lambda self: self.metavar or ARGUMENT_NAMES.get(str(self.name), str(self.name))
    )
    usage_name = core.TyperArgument._usage_display_name

    def chinese_usage_name(self: Any) -> str:
        name = usage_name(self)
        return name.replace("...", "…").replace("{", "").replace("}", "")

    core.TyperArgument._usage_display_name = chinese_usage_name  # type: ignore[method-assign]


__all__ = ["choices", "install", "usage_error_lines", "usage_line"]
