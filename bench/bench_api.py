"""API latency under load, 监测台 first load, and store queries per page.

    .venv/bin/python bench/bench_import.py --db /tmp/h-api-bench.db   # the CED copy, once
    .venv/bin/python bench/bench_api.py [--db /tmp/h-api-bench.db] [--clients 20] [--seconds 20]
        [--workers N] [--client aiohttp|httpx] [--no-uncached] [--vary]

A real ``tingfeng serve`` on 127.0.0.1 serves the imported CED copy; a second process runs
``--clients`` concurrent clients (asyncio + aiohttp, API token; ``--client httpx`` for the
earlier figures' client) in a closed loop against ``/healthz``, the incident list and
search for ``--seconds`` each, and reports p50/p95/max, the server's and the load
process's CPU per request, and the load average. CED has no incident records, so the
first run groups each CED source post and its reposts into one incident record (2,721,
the top 5 % by reposts marked hot) and remembers that it did.

Floors printed in the same run, because the machine is shared and wall-clock is noisy:

- ``store floor``: the same incident-list and search requests straight on the store, one
  at a time in this process (no HTTP, no cache): what the store work itself costs now;
- ``healthz (floor)``: a trivial route under the same 20-client load, and each route's
  p95 over it (``p95_over_healthz_p95``): what the machine's load adds shows in both.

Two server runs: the default configuration (answer caches on: incident list pages kept
for ``api.cache_seconds``, search answers kept while the store is unchanged), then both
caches off, where every request does its full store work.

``--vary``: instead of cycling through the fixed lists below, every request of a run is a
question never asked before in that run (``vary_incident_paths``/``vary_search_paths``:
random filters, rumor bands, orders, pages and time windows; search words drawn from the
store's own vocabulary, one or two per query, with and without time windows), so no
answer cache can help even with the caches on. Each client takes its own slice of the
stream; the store floor then runs over a sample of the same stream.

Targets (issue 13): p95 <= 100 ms for the incident list and for search with 20 concurrent
clients; the 监测台's first load <= 1 s; a bounded number of store queries per page.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import hashlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

QUERIES = [
    "谣言",
    "地震",
    "医院",
    "警察",
    "转发",
    "辟谣",
    "北京",
    "孩子",
    "死亡",
    "微博",
    "食品 安全",
    "城管 打人",
    "医院 死亡",
    "北京 暴雨",
    "小孩 失踪",
    "转基因",
    "爆炸",
    "谣言 求证",
    "地铁",
    "学校 老师",
]
WINDOWS = [("2012-01-01", "2013-01-01"), ("2013-06-01", "2013-09-01"), (None, None)]
INCIDENT_FILTERS = [
    {"hot": "true"},
    {},
    {"sort": "last_seen"},
    {"rumor": "high"},
    {"per_page": "50"},
    {"since": "2013-01-01T00:00:00+08:00"},
    {"rumor": "low", "sort": "rumor"},
]
MARK = "bench_api:incidents"


def make_incidents(store) -> int:
    """One incident per CED source post (its reposts are its posts); once per database."""
    from models import Incident
    from store import PostFilter

    if store.get_state(MARK):
        return store.count_records(Incident)
    roots = list(store.iter_posts(PostFilter(kinds=["post"])))
    cut = sorted((p.reposts for p in roots), reverse=True)[max(0, len(roots) // 20 - 1)]
    for post in roots:
        text = (post.text or "").strip()
        store.save_record(
            Incident(
                id="inc-" + hashlib.sha1(post.id.encode()).hexdigest()[:16],
                title=text[:40],
                keywords=[],
                first_seen=post.created_at,
                last_seen=post.created_at,
                root_ids=[post.id],
                post_count=1 + post.reposts,
                heat=round(100 * (1 - math.exp(-math.log1p(post.reposts) / 6)), 2),
                velocity={"posts_per_h_1h": float(min(post.reposts, 500))},
                hot=post.reposts >= cut,
                rumor_score=post.rumor_score,
            )
        )
    store.set_state(MARK, True)
    return len(roots)


# -- the load process ----------------------------------------------------------------------
async def _client(
    url: str,
    token: str,
    paths: list[str],
    seconds: float,
    out: list[float],
    errors: list[str],
    offset: int,
    stride: int,
) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        end = time.perf_counter() + seconds
        i = offset
        while time.perf_counter() < end:
            path = paths[i % len(paths)]
            i += stride
            start = time.perf_counter()
            r = await client.get(path)
            out.append((time.perf_counter() - start) * 1000)
            if r.status_code != 200:
                errors.append(f"{r.status_code} {path}")


async def _aiohttp_client(
    url: str,
    token: str,
    paths: list[str],
    seconds: float,
    out: list[float],
    errors: list[str],
    offset: int,
    stride: int,
) -> None:
    """The same closed loop with aiohttp: about a third of httpx's CPU per request, so the
    load process takes less of the 2 cores it shares with the server."""
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=1)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        url, headers=headers, connector=connector, timeout=timeout
    ) as client:
        end = time.perf_counter() + seconds
        i = offset
        while time.perf_counter() < end:
            path = paths[i % len(paths)]
            i += stride
            start = time.perf_counter()
            async with client.get(path) as r:
                await r.read()
            out.append((time.perf_counter() - start) * 1000)
            if r.status != 200:
                errors.append(f"{r.status} {path}")


async def _load(
    url: str,
    token: str,
    paths: list[str],
    clients: int,
    seconds: float,
    kind: str = "aiohttp",
    vary: bool = False,
) -> dict:
    out: list[float] = []
    errors: list[str] = []
    cpu = time.process_time()
    one = _aiohttp_client if kind == "aiohttp" else _client
    # Fixed lists: every client cycles through all of them (from its own offset). A varied
    # stream: client k asks paths k, k + clients, k + 2 clients...: nobody repeats a path.
    slices = [(k, clients) if vary else (k * 7, 1) for k in range(clients)]
    await asyncio.gather(
        *(one(url, token, paths, seconds, out, errors, *slices[k]) for k in range(clients))
    )
    cpu = time.process_time() - cpu
    out.sort()
    return {
        "distinct_paths": len(set(paths)) if vary else len(paths),
        "repeats": max(0, len(out) - len(paths)) if vary else None,
        "requests": len(out),
        "rps": round(len(out) / seconds, 1),
        "p50_ms": round(statistics.median(out), 1),
        "p95_ms": round(out[int(len(out) * 0.95) - 1], 1),
        "max_ms": round(out[-1], 1),
        "errors": errors[:5],
        "error_count": len(errors),
        # The load process's own CPU: it shares the same 2 cores with the server.
        "client_cpu_ms_per_request": round(cpu * 1000 / max(len(out), 1), 2),
    }


def search_paths() -> list[str]:
    from urllib.parse import urlencode

    paths = []
    for q in QUERIES:
        for since, until in WINDOWS:
            params = [("q", q), ("facets", "day"), ("facets", "source"), ("facets", "region")]
            if since:
                params += [("since", since), ("until", until)]
            paths.append(f"/api/v1/posts?{urlencode(params)}")
    return paths


def incident_paths() -> list[str]:
    from urllib.parse import urlencode

    return [f"/api/v1/incidents?{urlencode(f)}" for f in INCIDENT_FILTERS]


# -- a stream of never-repeated questions (--vary) ---------------------------------------------
def vocabulary(db: Path, size: int = 400, sample: int = 4000) -> list[str]:
    """Search words as the store's own posts use them: the most frequent jieba words
    (two characters or more, CJK) of a sample of source posts, skipping the 20 commonest."""
    import collections
    import re

    from nlp.tokenize import cut
    from store.sqlite import SQLiteStore

    cjk = re.compile(r"^[\u4e00-\u9fff]{2,}$")
    counts: collections.Counter[str] = collections.Counter()
    with SQLiteStore(db, readonly=True) as store:
        rows = store._read(
            "SELECT d.doc FROM posts p JOIN post_docs d ON d.rowid = p.rowid"
            " WHERE p.kind = 'post' ORDER BY p.rowid LIMIT ?",
            (sample,),
        ).fetchall()
    for (doc,) in rows:
        text = json.loads(doc).get("text") or ""
        counts.update({t for t in cut(text) if cjk.match(t)})
    return [w for w, _ in counts.most_common(size + 20)[20:]]


def _window(rnd, start: str = "2010-06-01", days: int = 7 * 365) -> tuple[str, str]:
    from datetime import datetime, timedelta

    begin = datetime.fromisoformat(start + "T00:00:00+08:00")
    since = begin + timedelta(seconds=rnd.randrange(days * 86400))
    until = since + timedelta(days=rnd.choice([1, 7, 30, 90, 365]), seconds=rnd.randrange(86400))
    return since.isoformat(), until.isoformat()


def _unique(make, n: int) -> list[str]:
    seen: dict[str, None] = {}
    while len(seen) < n:
        seen.setdefault(make(), None)
    return list(seen)


def vary_incident_paths(n: int, words: list[str], seed: int = 11) -> list[str]:
    import random
    from urllib.parse import urlencode

    rnd = random.Random(seed)

    def make() -> str:
        params: dict[str, str] = {}
        if (hot := rnd.choice([None, None, "true", "false"])) is not None:
            params["hot"] = hot
        if band := rnd.choice([None, None, None, "low", "medium", "high", "unscored"]):
            params["rumor"] = band
        params["sort"] = rnd.choice(["heat", "heat", "last_seen", "rumor"])
        params["per_page"] = str(rnd.choice([20, 20, 20, 50, 100]))
        params["page"] = str(rnd.choice([1, 1, 1, 2, 3, 5]))
        if rnd.random() < 0.5:
            params["since"], params["until"] = _window(rnd)
        if rnd.random() < 0.1:
            params["q"] = rnd.choice(words)[:2]
        return f"/api/v1/incidents?{urlencode(params)}"

    return _unique(make, n)


def vary_search_paths(n: int, words: list[str], seed: int = 12) -> list[str]:
    import random
    from urllib.parse import urlencode

    rnd = random.Random(seed)

    def make() -> str:
        q = rnd.choice(words) if rnd.random() < 0.6 else " ".join(rnd.sample(words, 2))
        params = [("q", q), ("facets", "day"), ("facets", "source"), ("facets", "region")]
        if rnd.random() < 0.5:
            since, until = _window(rnd)
            params += [("since", since), ("until", until)]
        if rnd.random() < 0.2:
            params.append(("sort", "time"))
        if rnd.random() < 0.2:
            params.append(("page", str(rnd.choice([2, 3]))))
        return f"/api/v1/posts?{urlencode(params)}"

    return _unique(make, n)


def load_main(args: argparse.Namespace) -> None:
    if args.paths:
        paths = json.loads(Path(args.paths).read_text())
    else:
        fixed = {"incidents": incident_paths, "search": search_paths}
        paths = fixed[args.load]() if args.load in fixed else ["/healthz"]
    vary = bool(args.paths) and args.load != "healthz"
    load = _load(args.url, args.token, paths, args.clients, args.seconds, args.client, vary=vary)
    try:
        import uvloop

        result = uvloop.run(load)
    except ImportError:
        result = asyncio.run(load)
    print(json.dumps(result))


# -- the floor: the same requests straight on the store, one at a time, no HTTP ------------------
def store_floor(
    db: Path, rounds: int = 2, paths: dict[str, list[str]] | None = None
) -> dict[str, dict[str, float]]:
    """Wall and CPU time of the store work behind each benchmarked request, in this
    process, one request at a time (the last of ``rounds`` warm rounds): what no server
    can go below on this machine at this moment."""
    from urllib.parse import parse_qs, urlsplit

    from api.services.incidents import IncidentFilters, list_incidents
    from api.services.posts import PostSearchParams, search_posts
    from store.sqlite import SQLiteStore

    def params_of(path: str) -> dict:
        query = parse_qs(urlsplit(path).query)
        return {k: (v if k == "facets" else v[0]) for k, v in query.items()}

    out: dict[str, dict[str, float]] = {}
    paths = paths or {"incidents": incident_paths(), "search": search_paths()}
    with SQLiteStore(db, readonly=True) as store:
        jobs = {
            "incidents": [
                (lambda f=IncidentFilters(**params_of(p)): list_incidents(store, f))
                for p in paths["incidents"]
            ],
            "search": [
                (lambda q=PostSearchParams(**params_of(p)): search_posts(store, q))
                for p in paths["search"]
            ],
        }
        for name, calls in jobs.items():
            for _ in range(rounds):
                walls, cpus = [], []
                for call in calls:
                    w, c = time.perf_counter(), time.process_time()
                    call()
                    walls.append((time.perf_counter() - w) * 1000)
                    cpus.append((time.process_time() - c) * 1000)
            walls.sort()
            cpus.sort()
            out[name] = {
                "p50_ms": round(statistics.median(walls), 2),
                "p95_ms": round(walls[max(0, int(len(walls) * 0.95) - 1)], 2),
                "cpu_ms_mean": round(statistics.mean(cpus), 2),
                "cpu_ms_p95": round(cpus[max(0, int(len(cpus) * 0.95) - 1)], 2),
            }
    return out


class StatementCounter:
    """Counts the SQL statements a store's connections run (sqlite3 trace callback)."""

    def __init__(self) -> None:
        self.statements = self.inside_fts = 0

    def __call__(self, sql: str) -> None:
        # FTS5 reads its own shadow tables through SQL (one doc-size lookup per match for
        # bm25): those come as "-- ..." lines and are the engine's, not the app's.
        if sql.startswith("--"):
            self.inside_fts += 1
        else:
            self.statements += 1


# -- queries per page (in process, counting store calls) ----------------------------------------
class CountingStore:
    def __init__(self, inner) -> None:
        self.inner, self.calls = inner, 0

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if callable(attr) and not name.startswith("_") and name not in ("close",):

            def counted(*a, **kw):
                self.calls += 1
                return attr(*a, **kw)

            return counted
        return attr


def queries_per_page(db: Path, secret: str) -> dict[str, str]:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.services.auth import create_token
    from models import Incident, Role
    from store.sqlite import SQLiteStore
    from tests.api.live import write_config
    from tingfeng.config import load_config

    tmp = Path(tempfile.mkdtemp())
    config = load_config(write_config(tmp, db, 8000), environ={"TINGFENG_API__SECRET_KEY": secret})
    config.api.cache_seconds = 0
    config.api.search_cache_seconds = 0
    store = SQLiteStore(db)
    statements = StatementCounter()
    store.conns.set_trace(statements)
    counting = CountingStore(store)
    app = create_app(config, store=counting)
    _, token = create_token(store, "bench-pages", Role.ADMIN, secret=secret, actor="bench")
    hot = store.list_records(Incident, limit=1, hot=True)
    out = {}
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        pages = {
            "incident list, 5 rows": "/api/v1/incidents?per_page=5",
            "incident list, 100 rows": "/api/v1/incidents?per_page=100",
            "search, 5 hits": "/api/v1/posts?q=谣言&per_page=5&facets=day",
            "search, 100 hits": "/api/v1/posts?q=谣言&per_page=100&facets=day",
            "incident detail": f"/api/v1/incidents/{hot[0].id}" if hot else "/api/v1/incidents",
            "sources": "/api/v1/sources",
        }
        for name, path in pages.items():
            c.get(path)  # warm (model load etc.)
            counting.calls = statements.statements = statements.inside_fts = 0
            assert c.get(path).status_code == 200, path
            out[name] = (
                f"{counting.calls} store calls, {statements.statements} SQL statements"
                f" (+{statements.inside_fts} inside FTS5)"
            )
    store.close()
    return out


SPARK_OBSERVER = """
new MutationObserver((_, observer) => {
  if (document.querySelector("#hot-body .spark svg")) {
    window.__tfSparkAt = performance.now();
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true });
"""


def first_load(url: str, db: Path) -> dict[str, float]:
    """监测台 first load: HTML time over HTTP, and in Chromium until the hot rows show."""
    import httpx

    from api.services.auth import create_user
    from models import Role
    from store.sqlite import SQLiteStore

    with SQLiteStore(db) as store:
        from models import User

        if store.get_record(User, "bench-monitor") is None:
            create_user(store, "bench-monitor", Role.MONITOR, "bench-pass-2026", actor="bench")
    out: dict[str, float] = {}
    with httpx.Client(base_url=url, timeout=120) as c:
        c.post("/api/v1/login", json={"username": "bench-monitor", "password": "bench-pass-2026"})
        # A running server: the rumor model has loaded (an incident page waits for it).
        hot = c.get("/api/v1/incidents?hot=true&per_page=1").json()["data"]
        if hot:
            c.get(f"/api/v1/incidents/{hot[0]['id']}")
        timings = []
        for _ in range(5):
            start = time.perf_counter()
            assert c.get("/").status_code == 200
            timings.append((time.perf_counter() - start) * 1000)
        out["html_first_ms"] = round(timings[0], 1)
        out["html_median_ms"] = round(statistics.median(timings), 1)
        cookies = [{"name": k, "value": v, "url": url} for k, v in c.cookies.items()]
    if Path("/usr/bin/chromium").exists():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            context = browser.new_context(viewport={"width": 1366, "height": 768})
            context.add_cookies(cookies)
            # The page's own clock when the first hot row's sparkline is drawn (navigation
            # start = 0): what the user waits for, without Playwright's own round trips.
            context.add_init_script(SPARK_OBSERVER)
            page = context.new_page()
            start = time.perf_counter()
            page.goto(url + "/")
            page.locator("#hot-body .spark svg").first.wait_for()
            out["browser_first_load_ms"] = round((time.perf_counter() - start) * 1000, 1)
            out["browser_in_page_sparklines_ms"] = round(page.evaluate("window.__tfSparkAt"), 1)
            timing = page.evaluate(
                "JSON.stringify(performance.getEntriesByType('navigation')[0].toJSON())"
            )
            nav = json.loads(timing)
            out["browser_html_received_ms"] = round(nav["responseEnd"] - nav["startTime"], 1)
            out["browser_dom_ready_ms"] = round(
                nav["domContentLoadedEventEnd"] - nav["startTime"], 1
            )
            out["browser_load_event_ms"] = round(nav["loadEventEnd"] - nav["startTime"], 1)
            # The same page again in the same tab (scripts and styles cached, as every
            # later visit of the day).
            start = time.perf_counter()
            page.reload()
            page.locator("#hot-body .spark svg").first.wait_for()
            out["browser_reload_ms"] = round((time.perf_counter() - start) * 1000, 1)
            out["browser_reload_in_page_ms"] = round(page.evaluate("window.__tfSparkAt"), 1)
            browser.close()
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def warm(url: str, token: str) -> None:
    """Wait until the server has loaded the rumor model (a background thread at start-up
    that would otherwise burn CPU during the first measurement)."""
    import httpx

    with httpx.Client(base_url=url, timeout=300, headers={"Authorization": f"Bearer {token}"}) as c:
        hot = c.get("/api/v1/incidents?hot=true&per_page=1").json()["data"]
        if hot:
            c.get(f"/api/v1/incidents/{hot[0]['id']}")


def _load_run(
    kind: str, server, token: str, args: argparse.Namespace, paths_file: Path | None = None
) -> dict:
    cmd = [
        sys.executable, __file__, "--load", kind, "--url", server.url, "--token", token,
        "--clients", str(args.clients), "--seconds", str(args.seconds),
        "--client", args.client,
    ]  # fmt: skip
    if paths_file is not None:
        cmd += ["--paths", str(paths_file)]
    load_before = os.getloadavg()[0]
    cpu0 = cpu_seconds(server.process.pid)
    result = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    cpu = cpu_seconds(server.process.pid) - cpu0
    # Load-independent: server CPU per answered request (the p95 above also counts time
    # spent waiting for a CPU on a shared machine).
    result["server_cpu_ms_per_request"] = round(cpu * 1000 / max(result["requests"], 1), 2)
    result["load_average"] = f"{load_before:.1f}-{os.getloadavg()[0]:.1f}"
    return result


def _report(label: str, result: dict, floor: dict | None) -> None:
    line = {k: result[k] for k in ("p50_ms", "p95_ms", "max_ms", "rps", "requests")}
    line |= {k: result[k] for k in ("server_cpu_ms_per_request", "client_cpu_ms_per_request")}
    line["errors"] = result["error_count"]
    if result.get("repeats") is not None:
        line["distinct_paths"] = result["distinct_paths"]
        line["repeated_requests"] = result["repeats"]
    line["load_average"] = result["load_average"]
    if floor is not None:
        # Same-run ratio: this request's p95 over the p95 of a trivial /healthz under the
        # same 20-client load; what the machine's load adds shows in both.
        line["p95_over_healthz_p95"] = round(result["p95_ms"] / max(floor["p95_ms"], 0.1), 2)
    print(f"{label:<34}: {json.dumps(line, ensure_ascii=False)}")
    if result["errors"]:
        print(f"{'':<34}  errors: {result['errors']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="/tmp/h-api-bench.db")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1, help="tingfeng serve --workers")
    parser.add_argument(
        "--no-uncached", action="store_true", help="skip the run with the answer caches off"
    )
    parser.add_argument(
        "--client",
        choices=["aiohttp", "httpx"],
        default="aiohttp",
        help="HTTP client of the load process (httpx: the earlier figures' client)",
    )
    parser.add_argument(
        "--vary",
        action="store_true",
        help="every request a question not asked before in the run (no cache can help)",
    )
    parser.add_argument(
        "--load", choices=["incidents", "search", "healthz"], help=argparse.SUPPRESS
    )
    parser.add_argument("--paths", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        load_main(args)
        return

    from api.services.auth import create_token
    from models import Role
    from store.sqlite import SQLiteStore
    from tests.api.live import SECRET, serve

    db = Path(args.db)
    if not db.exists():
        sys.exit(f"{db}: run bench/bench_import.py --db {db} first (imports the CED copy)")
    with SQLiteStore(db) as store:
        posts = store.count_posts()
        incidents = make_incidents(store)
        _, token = create_token(store, "bench", Role.ANALYST, secret=SECRET, actor="bench")
    print(f"store          : {posts:,} posts, {incidents:,} incidents ({db})")
    print(f"machine        : load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("queries/page   :", json.dumps(queries_per_page(db, SECRET), ensure_ascii=False))
    streams: dict[str, list[str]] | None = None
    files: dict[str, Path] = {}
    if args.vary:
        words = vocabulary(db)
        # More than 20 clients can ask in one run (a few hundred answers a second at most).
        n = int(args.seconds * 600) + 1000
        streams = {
            "incidents": vary_incident_paths(n, words),
            "search": vary_search_paths(n, words),
        }
        scratch = Path(tempfile.mkdtemp(prefix="bench-api-"))
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)
        for kind, paths in streams.items():
            files[kind] = scratch / f"{kind}.json"
            files[kind].write_text(json.dumps(paths))
        print(f"stream         : --vary, {n:,} distinct paths per route, {len(words)} words")
    sample = {k: v[:120] for k, v in streams.items()} if streams else None
    floor = store_floor(db, paths=sample)
    print("store floor    :", json.dumps(floor), "(same requests on the store, one at a time)")
    runs = [("caches on (default)", {})]
    if not args.no_uncached:
        off = {"TINGFENG_API__CACHE_SECONDS": "0", "TINGFENG_API__SEARCH_CACHE_SECONDS": "0"}
        runs.append(("caches off: every request reads the store", off))
    for title, env in runs:
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            with (
                tempfile.TemporaryDirectory() as tmp,
                serve(Path(tmp), db, workers=args.workers) as server,
            ):
                print(f"-- tingfeng serve --workers {args.workers}, {title}, {args.client} clients")
                warm(server.url, token)
                if not env:
                    print("监测台 load    :", json.dumps(first_load(server.url, db)))
                healthz = _load_run("healthz", server, token, args)
                _report(f"healthz (floor), {args.clients} clients", healthz, None)
                for kind in ("incidents", "search"):
                    result = _load_run(kind, server, token, args, files.get(kind))
                    _report(f"{kind}, {args.clients} clients", result, healthz)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


if __name__ == "__main__":
    main()
