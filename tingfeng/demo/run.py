"""``tingfeng demo``: the whole product on the demo city, offline, in one process tree.

One process runs the story server (:mod:`tingfeng.demo.server`), the demo's WeCom robot
(:mod:`tingfeng.demo.receiver`), and ``tingfeng serve``'s app with its embedded scheduler,
all on the story clock: the process's reference clock (:func:`models.common.now_utc`) is
the story clock, the scheduler's intervals are divided by the clock's speed, and each crawl
subprocess runs as of the clock (``TINGFENG_NOW``). So the real spiders crawl the story
sites on the real scheduler, and detection, the response tracker, the alerting pass,
draft-on-alert and sending run as they would in a city, only faster.

``--fast`` steps a manual clock through the story instead (a crawl of every source, then
the detection job, at each step), prints a summary and either keeps serving or exits.

The demo folder holds ``tingfeng.yaml``, the store, ``demo.json`` (secret, robot key, story
time reached, timings), ``logins.json`` (the demo users' passwords) and ``robot.log``
(what the robot received). Rerunning in the same folder resumes the story where it
stopped; ``--reset`` starts afresh.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from models.common import SHANGHAI, set_reference_clock
from tingfeng.demo.clock import AcceleratedClock, ManualClock
from tingfeng.demo.config import demo_config
from tingfeng.demo.story import Story, load_story

STATE_FILE = "demo.json"
LOGINS_FILE = "logins.json"
ROBOT_LOG = "robot.log"
#: Files and folders the demo writes (``--reset`` removes exactly these).
OWNED = (
    "tingfeng.yaml",
    "tingfeng.db",
    "tingfeng.db-wal",
    "tingfeng.db-shm",
    "tingfeng.db.jobs.db",
    "tingfeng.db.jobs.db.lock",
    "summary.json",
    ROBOT_LOG,
    LOGINS_FILE,
    STATE_FILE,
)
#: The demo users: name, role, what they do (printed with their passwords).
USERS = (
    ("monitor", "monitor", "舆情监测员"),
    ("officer", "officer", "新闻发言人（起草、提交）"),
    ("officer2", "officer", "宣传干部（第二人审核）"),
    ("analyst", "analyst", "分析员"),
    ("admin", "admin", "管理员"),
)
END = "23:59"


class DemoError(Exception):
    """Something the person running the demo can fix; one Chinese line, exit 2."""


@dataclass
class DemoOptions:
    folder: Path
    port: int = 8000
    story_port: int = 0
    speed: float = 36.0
    start: str = "19:30"
    fast: bool = False
    exit_after: bool = False
    reset: bool = False
    step_minutes: float = 15.0
    out: Callable[[str], None] = print


@dataclass
class DemoState:
    """``demo.json``: what survives a restart of the demo in the same folder."""

    secret: str = ""
    robot_key: str = ""
    story_time: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> DemoState | None:
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text("utf-8"))
            return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except (ValueError, TypeError, OSError) as exc:
            raise DemoError(f"{path}：演示状态文件无法读取（{exc}）；加 --reset 重新开始") from None

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.__dict__, ensure_ascii=False, indent=2), "utf-8")
        tmp.replace(path)


class SwitchClock:
    """The process's story clock; the demo swaps what it delegates to (manual steps, then
    real time after ``--fast``)."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock

    def now(self) -> datetime:
        return self.clock.now()

    def rate(self) -> float:
        return self.clock.rate()


# -- preparing the folder -------------------------------------------------------------------
def check_options(opts: DemoOptions) -> None:
    if not 0 < opts.speed <= 3600:
        raise DemoError(f"--speed：倍速应在 0 到 3600 之间，而不是 {opts.speed:g}")
    if not 1 <= opts.step_minutes <= 240:
        raise DemoError(f"--step：步长应在 1 到 240 分钟之间，而不是 {opts.step_minutes:g}")
    if not 0 <= opts.port <= 65535 or not 0 <= opts.story_port <= 65535:
        raise DemoError("--port / --story-port：端口应在 0 到 65535 之间")
    if opts.port and opts.port == opts.story_port:
        raise DemoError(f"--port 与 --story-port 不能相同（{opts.port}）")


def story_time(story: Story, text: str, option: str = "--start") -> datetime:
    try:
        return story.at(text)
    except Exception:
        raise DemoError(
            f"{option}：应为故事当天的时间 HH:MM（如 19:30），而不是 {text!r}"
        ) from None


def prepare_folder(opts: DemoOptions) -> DemoState:
    """Create, reset or reopen the demo folder; returns its state (fresh or resumed)."""
    folder = opts.folder
    state_path = folder / STATE_FILE
    if folder.exists() and not folder.is_dir():
        raise DemoError(f"--dir {folder}：已存在且不是目录")
    foreign = folder.is_dir() and any(folder.iterdir()) and not state_path.is_file()
    if foreign and not (opts.reset and (folder / "tingfeng.yaml").is_file()):
        raise DemoError(
            f"--dir {folder}：目录非空且不是演示目录；请换一个目录（如 --dir ./tingfeng-demo）"
        )
    if opts.reset and folder.is_dir():
        for name in OWNED:
            path = folder / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DemoError(f"--dir {folder}：无法创建目录（{exc.strerror}）") from None
    state = DemoState.load(state_path)
    if state is None:
        state = DemoState(secret=secrets.token_urlsafe(36), robot_key=secrets.token_hex(16))
        state.save(state_path)
    return state


def bind(port: int, option: str) -> socket.socket:
    """A listening socket on 127.0.0.1:port (0: a free port), or a Chinese error."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno in (98, 48, 10048):  # EADDRINUSE (Linux, macOS, Windows)
            raise DemoError(
                f"{option} {port}：端口已被占用（也许另一个演示或 tingfeng serve 正在运行）；"
                f"请停止它，或换一个端口，如 {option} {port + 10}"
            ) from None
        raise DemoError(f"{option} {port}：无法监听（{exc.strerror}）") from None
    return sock


def write_config(
    folder: Path, story: Story, story_url: str, robot_url: str, dashboard: str, state: DemoState
) -> Path:
    """The crawl configuration of the demo city plus alerting, the robot and the API."""
    config = demo_config(story_url, folder, story)
    story_min = 60.0  # the schedule below is in story seconds; the scheduler divides by speed
    config["alerting"] = {  # the shipped tier policy (alerting/policy.yaml)
        "base_url": dashboard,
        "channels": {
            "robot": {
                "type": "wecom",
                "key": state.robot_key,
                "base_url": robot_url,
                "timeout_seconds": 5,
            }
        },
        "routes": {"duty": ["robot"], "supervisor": ["robot"], "admin": ["robot"]},
        "drafts": {"enabled": True, "kind": "辟谣声明"},
        "schedule": {
            "detect_seconds": 5 * story_min,
            "alert_seconds": 5 * story_min,
            "send_seconds": 2 * story_min,
            "crawl_timeout_minutes": 10,
        },
    }
    config["api"] = {
        "environment": "production",
        "secret_key": state.secret,
        "base_url": dashboard,
        # story hours pass 36 times faster: keep a demo login for about a day of real time
        "session_hours": 720,
        "poll_seconds": 5,
    }
    path = folder / "tingfeng.yaml"
    text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
    path.write_text(
        "# 演示城市 江屿市 的配置（tingfeng demo 生成，每次启动重写）\n" + text, "utf-8"
    )
    return path


def ensure_users(store: Any, folder: Path) -> list[tuple[str, str, str, str]]:
    """The demo users (created once, passwords kept in ``logins.json``)."""
    from api.services.auth import create_user
    from models import Role, User

    path = folder / LOGINS_FILE
    saved: dict[str, str] = {}
    if path.is_file():
        with contextlib.suppress(ValueError, OSError):
            saved = json.loads(path.read_text("utf-8"))
    out = []
    for name, role, what in USERS:
        password = saved.get(name)
        if store.get_record(User, name) is None or not password:
            if store.get_record(User, name) is not None:
                raise DemoError(f"{path}：缺少用户 {name} 的密码；加 --reset 重新开始")
            password = f"jy-{secrets.token_urlsafe(9)}"
            create_user(store, name, Role(role), password, actor="demo", display_name=what)
            saved[name] = password
        out.append((name, role, what, password))
    path.write_text(json.dumps(saved, ensure_ascii=False, indent=2), "utf-8")
    with contextlib.suppress(OSError):
        path.chmod(0o600)
    return out


# -- watching the store ---------------------------------------------------------------------
@dataclass
class Progress:
    """What the demo has reached so far (read from the store)."""

    alert: Any = None
    draft: Any = None
    response: Any = None
    effect: Any = None


def incident_alerts(store: Any) -> list[Any]:
    """Incident alerts, most urgent first (then the earliest)."""
    from alerting.policy import RANK
    from models import Alert, AlertKind

    alerts = [
        a
        for a in store.list_records(Alert, limit=max(store.count_records(Alert), 1))
        if a.alert_kind == AlertKind.INCIDENT
    ]
    return sorted(alerts, key=lambda a: (-RANK[a.tier], a.opened_at))


def progress(store: Any, config: Any, now: datetime) -> Progress:
    """The most urgent incident alert, its draft, the office's response linked to it and
    the spread before/after."""
    from models import Bulletin, OfficialResponse
    from tingfeng.services.bulletins import effect

    out = Progress()
    alerts = incident_alerts(store)
    if not alerts:
        return out
    out.alert = alerts[0]
    inc = out.alert.incident_id
    drafts = store.list_records(Bulletin, limit=10, incident_id=inc)
    out.draft = min(drafts, key=lambda b: b.created_at) if drafts else None
    answers = [
        r
        for r in store.list_records(OfficialResponse, limit=1000, incident_id=inc)
        if r.posted_at >= out.alert.opened_at - timedelta(minutes=30)
    ]
    if answers:
        out.response = min(answers, key=lambda r: r.posted_at)
        with contextlib.suppress(Exception):
            out.effect = effect(store, config, inc, now=now, hours=2.0)
    return out


def urgent(p: Progress) -> Any:
    """The story's alert: the most urgent one once it is tier I or II (the city's unanswered
    board messages are tier III alerts of their own, 直接诉求)."""
    from alerting.policy import RANK
    from models import Tier

    if p.alert is not None and RANK[p.alert.tier] >= RANK[Tier.II]:
        return p.alert
    return None


def local(at: datetime | None) -> str:
    return at.astimezone(SHANGHAI).strftime("%H:%M") if at else "-"


def describe_alert(alert: Any) -> str:
    first = alert.deadlines[0] if alert.deadlines else None
    due = f"，{first.label}截止 {local(first.due)}" if first else ""
    return f"{alert.tier.label}预警「{alert.title[:30]}」（规则：{alert.rule}{due}）"


def describe_effect(eff: Any) -> str:
    if eff is None:
        return ""
    b, a = eff.before, eff.after

    def rate(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    return (
        f"通报前 {b.hours:.1f} 小时 {b.claim_posts} 帖、转发 {b.reposts}"
        f"（每小时 {rate(b.claim_posts_per_hour)} 帖），"
        f"通报后 {a.hours:.1f} 小时 {a.claim_posts} 帖、转发 {a.reposts}"
        f"（每小时 {rate(a.claim_posts_per_hour)} 帖）"
    )


# -- running --------------------------------------------------------------------------------
class Demo:
    def __init__(self, opts: DemoOptions) -> None:
        check_options(opts)
        self.opts = opts
        self.out = opts.out
        self.story = load_story()
        self.start_at = story_time(self.story, opts.start)
        self.end_at = self.story.at(END)
        self.folder = opts.folder.resolve()
        opts.folder = self.folder
        self.t0 = time.monotonic()
        self.stop = threading.Event()
        self.resources: list[Callable[[], None]] = []
        self.state: DemoState | None = None
        self.config: Any = None
        self.config_path: Path | None = None
        self.clock = SwitchClock(ManualClock(self.start_at))
        self.shutdown: Callable[[], None] = self.stop.set
        self.exit_code = 0

    def seconds(self) -> float:
        return round(time.monotonic() - self.t0, 1)

    def say(self, text: str) -> None:
        self.out(text)

    def close(self) -> None:
        while self.resources:
            with contextlib.suppress(Exception):
                self.resources.pop()()
        set_reference_clock(None)

    # -- set-up ------------------------------------------------------------------------
    def setup(self) -> socket.socket:
        from tingfeng.demo.receiver import RobotReceiver
        from tingfeng.demo.server import StoryServer

        sock = bind(self.opts.port, "--port")
        self.resources.append(sock.close)
        self.state = prepare_folder(self.opts)
        resumed = self.state.story_time
        begin = self.start_at
        if resumed and not self.opts.reset:
            begin = max(datetime.fromisoformat(resumed), self.start_at)
            self.say(f"继续上次的演示：故事时间从 {local(begin)} 接着走（重新开始请加 --reset）")
        self.begin_at = begin
        if self.opts.fast:
            self.clock.clock = ManualClock(begin)
        else:
            self.clock.clock = AcceleratedClock(begin, self.opts.speed, end=self.end_at, then=1.0)
        set_reference_clock(self.clock.now, self.clock.rate)
        self.resources.append(lambda: set_reference_clock(None))

        self.robot = RobotReceiver(
            self.state.robot_key, log_path=self.folder / ROBOT_LOG, on_message=self.on_robot
        )
        self.robot.start()
        self.resources.append(self.robot.close)
        try:
            self.story_server = StoryServer(self.story, self.clock, port=self.opts.story_port)
        except OSError as exc:
            raise DemoError(
                f"--story-port {self.opts.story_port}：无法监听（{exc.strerror}）"
            ) from None
        self.story_server.start()
        self.resources.append(self.story_server.close)
        port = sock.getsockname()[1]
        self.dashboard = f"http://127.0.0.1:{port}"
        self.config_path = write_config(
            self.folder,
            self.story,
            self.story_server.base_url,
            self.robot.base_url,
            self.dashboard,
            self.state,
        )
        from tingfeng.cli.app import state as cli_state

        cli_state.config_path = self.config_path
        cli_state._app = None
        self.config = cli_state.config  # boots: dictionaries and the city's place names
        import logging

        # "skipped: maximum number of running instances" is the scheduler coalescing a
        # crawl that is still running on a busy machine: expected here, not news
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        # a failed job is told in one line by the worker's listener (tingfeng.worker);
        # the executor's own record of it is the whole traceback
        logging.getLogger("apscheduler.executors").setLevel(logging.CRITICAL)
        from store import open_store

        self.store = open_store(self.config.store)
        self.resources.append(self.store.close)
        self.logins = ensure_users(self.store, self.folder)
        self.resources.append(self.save_state)
        return sock

    def on_robot(self, message: Any) -> None:
        first = message.content.strip().splitlines()[0] if message.content.strip() else ""
        self.say(f"[{self.seconds():>5.0f} 秒] 演示群机器人收到消息：{first[:60]}")

    def save_state(self) -> None:
        if self.state is None:
            return
        self.state.story_time = self.clock.now().isoformat()
        with contextlib.suppress(OSError):
            self.state.save(self.folder / STATE_FILE)

    # -- what to print -----------------------------------------------------------------
    def banner(self) -> None:
        story = self.story
        d = self.dashboard
        self.say("")
        self.say(f"听风演示：{story.city}（虚构城市），离线运行，全部服务只在本机 127.0.0.1")
        self.say(f"  监测台（看板）：{d}/")
        self.say(f"  演示群机器人（企业微信群机器人形态）：{self.robot.base_url}/")
        self.say(f"  城市站点（论坛、新闻网、微博、留言板）：{self.story_server.base_url}/")
        self.say(f"  演示目录：{self.folder}")
        self.say("  演示账号（用户名 / 密码）：")
        for name, _role, what, password in self.logins:
            self.say(f"    {name:<9} {password:<16} {what}")

    def timetable(self) -> None:
        story = self.story
        clock = self.clock.clock
        rumor = min(i.at for i in story.items if i.arc == "rumor")
        weibo = story.blog("rumor").at
        bulletin = story.blog("bulletin").at
        fast = self.opts.speed
        if self.begin_at >= self.end_at:
            self.say("故事已经演完：监测台按实时继续运行，可查看预警、草稿与回应；重看请加 --reset")
            self.say("按 Ctrl+C 停止全部服务。")
            return
        self.say(
            f"故事时钟：2026年9月11日 {local(self.begin_at)} 起，{fast:g} 倍速"
            f"（约 {(self.end_at - self.begin_at).total_seconds() / fast / 60:.0f} 分钟演完）"
        )

        def when(at: datetime) -> str:
            secs = clock.real_seconds_until(at) if hasattr(clock, "real_seconds_until") else 0
            return f"约 {secs:.0f} 秒后" if secs > 0 else "已发生"

        self.say("看什么、什么时候看：")
        self.say(f"  · {when(rumor)}（故事 {local(rumor)}）：江屿论坛出现“城管打死小贩”的说法")
        self.say(
            f"  · {when(weibo)}（故事 {local(weibo)}）起：微博转发加速、质疑与求证增多；"
            "用 monitor 登录监测台，看分级预警与回应倒计时；演示群机器人收到预警"
        )
        self.say(
            "  · 预警一出现：用 officer 登录，事件页里已有自动起草的辟谣声明草稿（[待核实] 处待补）"
        )
        self.say(
            f"  · {when(bulletin)}（故事 {local(bulletin)}）：临江发布发出情况通报，"
            "响应追踪把它关联到事件，并显示通报前后的传播对比"
        )
        self.say("按 Ctrl+C 停止全部服务。")

    # -- the story on the scheduler ----------------------------------------------------
    def watch(self) -> None:
        """Print each milestone once, with the real seconds since start."""
        from store import open_store

        assert self.state is not None
        store = open_store(self.config.store)
        said: set[str] = set()
        timings = self.state.timings
        kicked = False
        try:
            while not self.stop.wait(1.0):
                if self.folder_gone():
                    return
                if not kicked:
                    kicked = self.crawl_now()
                now = self.clock.now()
                try:
                    p = progress(store, self.config, now)
                except Exception:
                    continue
                for alert in incident_alerts(store):
                    if alert.id not in said:  # every incident alert once, as it opens
                        said.add(alert.id)
                        self.say(f"[{self.seconds():>5.0f} 秒] 监测台：{describe_alert(alert)}")
                if urgent(p) is not None and "alert" not in said:
                    said.add("alert")
                    timings.setdefault("alert", self.seconds())
                if p.draft is not None and "draft" not in said:
                    said.add("draft")
                    timings.setdefault("draft", self.seconds())
                    self.say(
                        f"[{self.seconds():>5.0f} 秒] {p.draft.bulletin_kind.value}草稿已就绪："
                        f"{p.draft.id}（{len(p.draft.placeholders)} 处[待核实]）"
                    )
                if p.response is not None and "response" not in said:
                    said.add("response")
                    timings.setdefault("response", self.seconds())
                    self.say(
                        f"[{self.seconds():>5.0f} 秒] 响应追踪：{p.response.author or '政务账号'}"
                        f" {local(p.response.posted_at)} 的通报已关联到事件"
                    )
                if (
                    p.effect is not None
                    and "effect" not in said
                    and now >= (p.response.posted_at + timedelta(minutes=60))
                ):
                    said.add("effect")
                    self.say(f"[{self.seconds():>5.0f} 秒] 传播对比：{describe_effect(p.effect)}")
                if now >= self.end_at and "end" not in said:
                    said.add("end")
                    self.say(
                        f"[{self.seconds():>5.0f} 秒] 故事已演完；服务继续运行，按 Ctrl+C 停止"
                    )
                self.save_state()
        finally:
            store.close()

    def folder_gone(self) -> bool:
        """True (and the demo stopping, exit 1) once the demo folder or its store file is
        gone: every job would fail on it from then on, each with a traceback."""
        store_path = getattr(self.config.store, "path", None)
        missing = next(
            (p for p in (self.folder, store_path and Path(store_path)) if p and not p.exists()),
            None,
        )
        if missing is None:
            return False
        self.say(
            f"[{self.seconds():>5.0f} 秒] 演示目录中的 {missing} 已不存在（被删除或移走）："
            "演示停止。重新开始：tingfeng demo --reset"
        )
        self.exit_code = 1
        self.shutdown()
        return True

    def crawl_now(self) -> bool:
        """Once the scheduler runs: every source's first crawl now (Weibo first), not one
        interval after start, so no source shows 从未采集 for the first minute."""
        from datetime import UTC

        sched = getattr(self, "scheduler", None)
        if sched is None or sched.scheduler is None or not sched.scheduler.running:
            return False
        jobs = [j for j in sched.scheduler.get_jobs() if j.id.startswith("crawl:")]
        jobs.sort(key=lambda j: (j.id != "crawl:jy-weibo", j.id))
        start = datetime.now(UTC)
        for i, job in enumerate(jobs):
            with contextlib.suppress(Exception):
                job.modify(next_run_time=start + timedelta(seconds=i))
        return True

    def serve(self, sock: socket.socket, scheduler: Any) -> None:
        """The API and dashboard (with ``scheduler``) until SIGINT or SIGTERM."""
        import uvicorn

        from api.app import create_app

        application = create_app(self.config, warm_up=True, scheduler=scheduler)

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self):  # type: ignore[override]
                yield  # the demo handles the signals (and does not re-raise them)

        server = Server(
            uvicorn.Config(application, log_level="warning", access_log=False, lifespan="on")
        )

        def stop(*_: object) -> None:
            import logging

            # APScheduler may log a run it could not submit while its executor shuts down
            logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
            self.stop.set()
            server.should_exit = True

        self.shutdown = stop
        previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            server.run(sockets=[sock])
        finally:
            for s, h in previous.items():
                signal.signal(s, h)
            self.stop.set()

    def run_live(self) -> int:
        from tingfeng.services.worker import EmbeddedScheduler, WorkerError

        sock = self.setup()
        scheduler = EmbeddedScheduler(self.config, str(self.config_path), speed=self.opts.speed)
        try:
            scheduler.lock()
        except WorkerError:
            raise DemoError(
                f"--dir {self.folder}：另一个演示（或调度进程）正在使用这个目录；"
                "请先停止它，或换一个 --dir"
            ) from None
        self.resources.append(scheduler.stop)
        self.scheduler = scheduler
        self.banner()
        self.timetable()
        watcher = threading.Thread(target=self.watch, name="demo-watch", daemon=True)
        watcher.start()
        self.serve(sock, scheduler)
        watcher.join(timeout=5)
        self.say("已停止：调度、抓取、看板、城市站点与演示机器人均已关闭。")
        return self.exit_code

    # -- --fast ------------------------------------------------------------------------
    def run_fast(self) -> int:
        from tingfeng.services.worker import (
            EmbeddedScheduler,
            WorkerError,
            close_contexts,
            job_detect,
            run_crawl,
            stop_children,
        )

        sock = self.setup()
        assert self.state is not None
        guard = EmbeddedScheduler(self.config, str(self.config_path))
        try:
            guard.lock()  # nothing else may schedule on this store meanwhile
        except WorkerError:
            raise DemoError(
                f"--dir {self.folder}：另一个演示（或调度进程）正在使用这个目录；"
                "请先停止它，或换一个 --dir"
            ) from None
        self.resources.append(guard.stop)
        self.banner()
        manual: ManualClock = self.clock.clock
        step = timedelta(minutes=self.opts.step_minutes)
        at = self.begin_at
        path = str(self.config_path)
        self.say(
            f"快速演示：故事时钟从 {local(at)} 每步 {self.opts.step_minutes:g} 分钟走到 "
            f"{local(self.end_at)}，每步抓取全部来源并运行检测、响应追踪与预警"
        )
        interrupted = threading.Event()

        def stop(*_: object) -> None:
            interrupted.set()
            stop_children(timeout=3)

        previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
        said: set[str] = set()
        try:
            while True:
                manual.set(at)
                code, err = run_crawl(path, [], timeout=600)
                if interrupted.is_set():
                    break
                if code not in (0, 1):
                    tail = err.strip().splitlines()[-1:] or [""]
                    raise DemoError(f"故事 {local(at)} 的抓取失败（退出码 {code}）：{tail[0]}")
                job_detect(path)
                p = progress(self.store, self.config, at)
                line = f"  故事 {local(at)}：已收集 {self.store.count_posts()} 帖"
                for name, value in (
                    ("alert", urgent(p)),
                    ("draft", p.draft),
                    ("response", p.response),
                ):
                    if value is not None and name not in said:
                        said.add(name)
                        self.state.timings.setdefault(f"fast_{name}", self.seconds())
                        line += {
                            "alert": "；出现预警",
                            "draft": "；辟谣草稿就绪",
                            "response": "；通报已关联",
                        }[name]
                self.say(line)
                if at >= self.end_at or interrupted.is_set():
                    break
                at = min(at + step, self.end_at)
        finally:
            for s, h in previous.items():
                signal.signal(s, h)
            close_contexts()
        if interrupted.is_set():
            self.say("已中断。")
            return 130
        summary = self.summary(at)
        if self.opts.exit_after:
            return 0 if summary["alert"] and summary["draft"] and summary["response"] else 1
        # a quick look: real time from the story's end, no scheduler
        self.clock.clock = AcceleratedClock(at, 1.0)
        self.say(f"监测台继续运行：{self.dashboard}/ （按 Ctrl+C 停止）")
        self.serve(sock, None)
        self.say("已停止。")
        return 0

    def summary(self, at: datetime) -> dict[str, Any]:
        p = progress(self.store, self.config, at)
        alert, draft, resp, eff = p.alert, p.draft, p.response, p.effect
        data: dict[str, Any] = {
            "story_time": at.isoformat(),
            "alert": None,
            "draft": draft.id if draft else None,
            "response": None,
            "effect": None,
            "alerts": len(incident_alerts(self.store)),
            "seconds": self.seconds(),
        }
        self.say("")
        self.say("演示结果：")
        if alert is None:
            self.say("  没有产生预警（不应发生：请查看 tingfeng.yaml 与日志）")
        else:
            first = alert.deadlines[0] if alert.deadlines else None
            data["alert"] = {
                "id": alert.id,
                "tier": alert.tier.value,
                "rule": alert.rule,
                "opened_at": alert.opened_at.isoformat(),
                "deadline": first.due.isoformat() if first else None,
                "status": alert.status.value,
            }
            self.say(f"  预警：{describe_alert(alert)}，{local(alert.opened_at)} 发出")
            others = Counter(
                f"{a.tier.label}{a.rule}" for a in incident_alerts(self.store) if a.id != alert.id
            )
            listed = "、".join(f"{k} {n} 条" for k, n in others.items())
            self.say(
                f"  其他事件预警：{data['alerts'] - 1} 条"
                + (f"（{listed}；日常新闻不预警）" if listed else "")
            )
        if draft is not None:
            self.say(
                f"  草稿：{draft.bulletin_kind.value} {draft.id}，"
                f"{len(draft.placeholders)} 处[待核实]，状态 {draft.status.value}"
            )
        else:
            self.say("  草稿：无")
        if resp is not None:
            data["response"] = {
                "id": resp.id,
                "post_id": resp.post_id,
                "author": resp.author,
                "posted_at": resp.posted_at.isoformat(),
                "on_time": resp.on_time,
            }
            ok = "，按时" if resp.on_time and all(resp.on_time.values()) else ""
            self.say(
                f"  回应：{resp.author or '政务账号'} {local(resp.posted_at)} 的通报已关联{ok}"
            )
        else:
            self.say("  回应：尚未关联")
        if eff is not None:
            data["effect"] = {"before": eff.before.as_dict(), "after": eff.after.as_dict()}
            self.say(f"  传播对比：{describe_effect(eff)}")
        received = len(self.robot.messages)
        data["robot_messages"] = received
        self.say(f"  演示群机器人收到 {received} 条消息（{self.folder / ROBOT_LOG}）")
        (self.folder / "summary.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=2), "utf-8"
        )
        return data


def run_demo(opts: DemoOptions) -> int:
    demo = Demo(opts)
    try:
        return demo.run_fast() if opts.fast else demo.run_live()
    finally:
        demo.close()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
