"""Write the recorded pages of 鹭川市 (Luchuan), a fictional city the crawler was not built on.

Run ``python generate.py`` here: it rewrites ``www/`` and ``routes.json``. The pages were
"recorded" on Friday 12 June 2026 at 22:30 (+08:00): every answer carries that HTTP
``Date``, and relative dates on the pages ("3 小时前", "5分钟前", "昨天 22:10") count from it.
Absolute links to the server itself are written ``http://__HOST__/``; the fixture server
fills in its address. ``EXPECTED`` (written to ``expected.json``) is what a crawl that
misses nothing must store; the end-to-end test reads it.

The evening's story: at 19:40 a forum thread and a Weibo post claim that 城管 beat an
elderly vegetable seller to death at 鼓楼广场; it is copied, reposted, doubted, and at
21:50 城关区 publishes a 情况通报 (the vendor fainted from heat stroke and is in 市二医院).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WWW = HERE / "www"
DATE = "Fri, 12 Jun 2026 14:30:00 GMT"  # 22:30 in Luchuan
ROUTES: dict[str, Any] = {"date": DATE, "exact": {}, "prefix": {}}
EXPECTED: dict[str, Any] = {}

AD_LINES = [
    "【推广】",
    "鹭川·湖畔壹号",
    "首付12万买地铁三室，白鹭湖畔精装现房",
    "售楼热线：0879-6543210",
]


def write(path: str, text: str, encoding: str = "utf-8") -> None:
    file = WWW / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(text.encode(encoding))


def dump(path: str, data: Any) -> None:
    write(path, json.dumps(data, ensure_ascii=False, indent=1))


# -- 鹭川论坛: Discuz! X3.4, GBK -------------------------------------------------------------
def floor(pid: int, uid: int, author: str, when: str, body: str) -> str:
    return (
        f'<div id="post_{pid}"><table id="pid{pid}" class="plhin"><tr>'
        f'<td class="pls"><div class="authi"><a href="space-uid-{uid}.html" class="xw1">'
        f"{author}</a></div></td>"
        f'<td class="plc"><div class="pti"><div class="authi">'
        f'<em id="authorposton{pid}">{when}</em></div></div>'
        f'<div class="pct"><table><tr><td class="t_f" id="postmessage_{pid}">\n{body}\n'
        "</td></tr></table></div></td></tr></table></div>\n"
    )


def recent(title: str, shown: str) -> str:
    """How Discuz prints a recent post: relative text, exact time in the title."""
    return f'发表于 <span title="{title}">{shown}</span>'


THREADS: dict[int, dict[str, Any]] = {
    8801: {
        "title": "鼓楼广场城管把卖菜的老人打死了？？现场好多人",
        "pages": [
            [
                (90001, 41001, "南门老街坊", recent("2026-6-12 19:42:10", "2&nbsp;小时前"),
                 "刚从鼓楼广场回来，好多人围着，说城管把一个卖菜的老人打死了，救护车都来了！<br />"
                 "有没有人知道怎么回事？"),
                (90002, 41002, "鹭川小灰", recent("2026-6-12 19:50:03", "2&nbsp;小时前"),
                 "我也听说了，太过分了"),
                (90003, 41003, "理性围观", recent("2026-6-12 20:05:40", "2&nbsp;小时前"),
                 "别乱传，我在现场，老人是自己晕倒的，没看到有人动手。"),
            ],
            [
                (90004, 41004, "江南大道的风", recent("2026-6-12 21:55:00", "35&nbsp;分钟前"),
                 "城关区发通报了：老人是中暑晕倒，已送市二医院，生命体征平稳。"),
                (90005, 41001, "南门老街坊", recent("2026-6-12 22:10:00", "20&nbsp;分钟前"),
                 "看到通报了，是我传错了，向大家道歉。"),
            ],
        ],
    },
    8802: {
        "title": "江南大道晚高峰堵成停车场了",
        "pages": [[
            (90011, 41005, "开车的老刘", recent("2026-6-11 22:10:00", "昨天&nbsp;22:10"),
             "江南大道新港镇路段修路，晚高峰堵了四十分钟。"),
            (90012, 41006, "滨湖街道居民", recent("2026-6-12 08:15:00", "14&nbsp;小时前"),
             "绕白鹭湖走会好一点。"),
        ]],
    },
    8803: {
        "title": "白鹭湖边新开的楼盘怎么样",
        "pages": [[
            (90021, 41007, "想买房的小周", "发表于 2026-6-10 09:12",
             "白鹭湖边那个新楼盘有人去看过吗？周边配套怎么样？<br />" + "<br />".join(AD_LINES)),
            (90022, 41008, "老鹭川", "发表于 2026-6-10 10:30",
             "去看过，离地铁还远，别听销售吹。"),
        ]],
    },
    8804: {
        "title": "小区停水三天了，物业电话打不通",
        "pages": [[
            (90031, 41009, "溪口乡的阿梅", recent("2026-6-12 17:20:00", "5&nbsp;小时前"),
             "滨湖街道翠湖小区停水三天了，楼里还有老人。<br />"
             "多次拨打物业电话和12345热线都没人管<br />物业电话：0879-6667788"),
        ]],
    },
    8805: {
        "title": "云台山周末开放了吗",
        "pages": [[
            (90041, 41010, "爬山的小吴", "发表于 2026-6-9 20:00", "松岭县云台山景区这周末开放吗？"),
            (90042, 41011, "松岭人", "发表于 2026-6-9 21:03", "开放的，石门水库那边在修栈道。"),
        ]],
    },
    8806: {
        "title": "鹭川东站出租车绕路",
        "pages": [[
            (90051, 41012, "出差的老孙", recent("2026-6-12 21:00:00", "1&nbsp;小时前"),
             "从鹭川东站打车到市二医院，司机绕了一大圈。"),
        ]],
    },
}


def thread_page(tid: int, page: int) -> str:
    info = THREADS[tid]
    floors = "".join(floor(*f) for f in info["pages"][page - 1])
    pager = ""
    if page < len(info["pages"]):
        pager = f'<div class="pg"><a href="thread-{tid}-{page + 1}-1.html" class="nxt">下一页</a></div>'
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk" />'
        f'<title>{info["title"]} - 鹭川茶馆 - 鹭川论坛</title></head><body>'
        f'<h1 class="ts"><span id="thread_subject">{info["title"]}</span></h1>'
        f'<div id="postlist">\n{floors}</div>{pager}'
        '<div id="ft">Powered by Discuz! X3.4 鹭川论坛 滇ICP备00000000号</div></body></html>'
    )


def forum_list(tids: list[int], next_page: str | None) -> str:
    rows = ""
    for tid in tids:
        replies = sum(len(p) for p in THREADS[tid]["pages"]) - 1
        rows += (
            f'<tbody id="normalthread_{tid}"><tr><th><a href="thread-{tid}-1-1.html" '
            f'class="s xst">{THREADS[tid]["title"]}</a></th>'
            f'<td class="num"><a href="thread-{tid}-1-1.html" class="xi2">{replies}</a>'
            f"<em>{100 + tid % 100}</em></td>"
            # the last-post column: relative only, no title (the list is not a source of dates)
            '<td class="by"><em><span>3 小时前</span></em></td></tr></tbody>\n'
        )
    nxt = f'<div class="pg"><a href="{next_page}" class="nxt">下一页</a></div>' if next_page else ""
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk" />'
        "<title>鹭川茶馆 - 鹭川论坛</title></head><body>"
        f'<table id="threadlisttableid">{rows}</table>{nxt}</body></html>'
    )


def forum() -> None:
    write("bbs/forum-12-1.html", forum_list([8801, 8802, 8803, 8804], "forum-12-2.html"), "gbk")
    write("bbs/forum-12-2.html", forum_list([8805, 8806], None), "gbk")
    for tid, info in THREADS.items():
        for page in range(1, len(info["pages"]) + 1):
            write(f"bbs/thread-{tid}-{page}-1.html", thread_page(tid, page), "gbk")
    # The members-only board: Discuz's "no permission" page, served with status 200.
    write(
        "bbs/forum-15-1.html",
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk" />'
        "<title>提示信息 - 鹭川论坛</title></head><body><div id=\"messagetext\" class=\"alert_error\">"
        "<p>抱歉，您尚未登录，没有权限访问该版块</p></div>"
        '<form id="loginform" action="member.php?mod=logging&amp;action=login"></form></body></html>',
        "gbk",
    )
    EXPECTED["bbs"] = {
        "threads": sorted(f"thread-{t}" for t in THREADS),
        "replies": sorted(
            f"post-{f[0]}"
            for info in THREADS.values()
            for n, page in enumerate(info["pages"])
            for i, f in enumerate(page)
            if n or i
        ),
    }


# -- 鹭川新闻网: a portal with two article templates, list pages, RSS and Atom ------------------
ARTICLES: list[dict[str, Any]] = [
    {"id": 5101, "tpl": "a", "title": "城关区发布鼓楼广场老人晕倒情况通报",
     "time": "2026-06-12 21:58", "source": "鹭川日报",
     "body": ["6月12日19时30分许，一名在鼓楼广场摆摊的老人突然晕倒。",
              "经医院诊断为中暑，目前生命体征平稳。网传“城管打死老人”不实。"]},
    {"id": 5102, "tpl": "a", "title": "江南大道新港镇路段夜间施工",
     "time": "2026-06-12 18:05", "source": "江南区融媒体中心",
     "body": ["江南大道新港镇路段6月12日起夜间施工，请车辆绕行白鹭湖路。",
              "施工预计持续两周，每晚22时至次日6时。"]},
    {"id": 5103, "tpl": "a", "title": "市二医院发热门诊搬迁",
     "time": "2026-06-11 09:00", "source": "鹭川日报",
     "body": ["市二医院发热门诊6月15日起搬至门诊楼北侧。", "搬迁期间服务不停。"]},
    {"id": 5104, "tpl": "a", "title": "鹭川东站出租车整治行动启动",
     "time": "2026-06-12 16:40", "source": "鹭川日报",
     "body": ["市交通运输局即日起在鹭川东站开展出租车绕路整治。", "乘客可拨打12328投诉。"]},
    {"id": 5201, "tpl": "b", "title": "专题：松岭县防汛准备就绪",
     "time": "3 小时前", "source": "松岭县融媒体中心",
     "body": ["松岭县石门水库水位正常，防汛物资已全部到位。", "溪口乡转移预案已演练完毕。"]},
    {"id": 5202, "tpl": "b", "title": "专题：鹭川夏季消夏夜市开市",
     "time": "昨天 20:00", "source": "城关区商务局",
     "body": ["鼓楼广场消夏夜市6月11日开市，营业至23时。", "市场监管部门每日巡查食品安全。"]},
]


def article_url(a: dict[str, Any]) -> str:
    if a["tpl"] == "a":
        return f"/news/2026-06/12/content_{a['id']}.html"
    return f"/news/zt/{a['id']}.shtml"


def article_page(a: dict[str, Any]) -> str:
    paras = "".join(f"<p>{p}</p>" for p in a["body"])
    ad = "".join(f"<p>{line}</p>" for line in AD_LINES)
    canonical = f'<link rel="canonical" href="http://__HOST__{article_url(a)}" />'
    head = f'<html><head><meta charset="utf-8"><title>{a["title"]}</title>{canonical}</head><body>'
    nav = '<div class="nav"><a href="/news/">首页</a><a href="/news/zt/">专题</a></div>'
    foot = '<div class="footer">版权所有 鹭川新闻网 滇ICP备11111111号</div></body></html>'
    if a["tpl"] == "a":
        return (
            f'{head}{nav}<div class="article"><h1 class="arti-title">{a["title"]}</h1>'
            f'<div class="arti-meta"><span class="pubtime">{a["time"]}</span>'
            f'<span class="src">来源：{a["source"]}</span></div>'
            f'<div class="arti-content">{paras}{ad}'
            '<div class="related"><h3>相关阅读</h3><ul><li><a href="#">其他</a></li></ul></div>'
            f"</div></div>{foot}"
        )
    return (
        f'{head}{nav}<div class="detail"><div class="d-title">{a["title"]}</div>'
        f'<div class="d-info">发布时间：{a["time"]}　来源：{a["source"]}</div>'
        f'<div id="zoom">{paras}<p>本网新闻热线：0879-2233445</p>'
        "<p>投稿邮箱：news@luchuan.example</p><p>鹭川新闻网 http://news.luchuan.example/</p>"
        f"</div></div>{foot}"
    )


def portal() -> None:
    for a in ARTICLES:
        write(article_url(a).lstrip("/"), article_page(a))
    pages = [ARTICLES[:3], ARTICLES[3:]]
    for n, chunk in enumerate(pages, 1):
        items = "".join(
            f'<li><a href="{article_url(a)}" target="_blank">{a["title"]}</a>'
            f"<span>{a['time']}</span></li>"
            for a in chunk
        )
        nxt = f'<a class="next" href="list_{n + 1}.html">下一页</a>' if n < len(pages) else ""
        write(
            f"news/list_{n}.html",
            f'<html><head><meta charset="utf-8"><title>新闻</title></head><body>'
            f'<ul class="list">{items}</ul><div class="page">{nxt}</div></body></html>',
        )
    # RSS: four articles, summaries only, links with a tracking parameter.
    rss_items = "".join(
        f"<item><title>{a['title']}</title>"
        f"<link>http://__HOST__{article_url(a)}?from=rss</link>"
        f"<guid isPermaLink=\"false\">lcnews-{a['id']}</guid>"
        f"<description>{a['body'][0]}</description>"
        f"<pubDate>Fri, 12 Jun 2026 21:58:00 +0800</pubDate></item>"
        for a in ARTICLES
        if a["id"] in (5101, 5102, 5201, 5103)
    )
    write(
        "news/rss.xml",
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>鹭川新闻网</title><link>http://__HOST__/news/</link>{rss_items}</channel></rss>",
    )
    atom_entries = "".join(
        f"<entry><title>{a['title']}</title>"
        f'<link rel="alternate" href="{article_url(a)}?utm_source=atom"/>'
        f"<id>tag:news.luchuan.example,2026:{a['id']}</id>"
        f"<updated>2026-06-12T21:58:00+08:00</updated><summary>{a['body'][0]}</summary></entry>"
        for a in ARTICLES
        if a["id"] in (5101, 5104, 5202)
    )
    write(
        "news/atom.xml",
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>鹭川新闻网</title><id>tag:news.luchuan.example,2026:feed</id>{atom_entries}</feed>",
    )
    EXPECTED["news"] = {
        "ids": [str(a["id"]) for a in ARTICLES],
        "body": {str(a["id"]): a["body"] for a in ARTICLES},
    }


# -- 城关区人民政府: an RSS feed whose pages no site source describes -----------------------------
GOV = [
    (7001, "城关区关于鼓楼广场网传信息的情况通报",
     ["6月12日19时30分许，鼓楼广场一名摆摊老人因中暑晕倒，城管队员现场拨打120。",
      "老人已送市二医院救治，生命体征平稳。请广大市民不信谣、不传谣。"]),
    (7002, "城关区开展夏季食品安全检查",
     ["城关区市场监管局6月起对夜市摊点开展食品安全检查。", "检查结果将在区政府网站公布。"]),
]


def gov() -> None:
    items = ""
    for gid, title, body in GOV:
        paras = "".join(f"<p>{p}</p>" for p in body)
        write(
            f"gov/art/{gid}.html",
            f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>'
            '<div class="top"><a href="/gov/">首页</a> <a href="/gov/zwgk/">政务公开</a></div>'
            f'<div class="zw"><h2>{title}</h2><div class="zw-text">{paras}</div></div>'
            '<div class="bottom">主办：城关区人民政府办公室</div></body></html>',
        )
        items += (
            f"<item><title>{title}</title><link>http://__HOST__/gov/art/{gid}.html</link>"
            f"<description>{body[0][:12]}……</description>"
            "<pubDate>Fri, 12 Jun 2026 21:50:00 +0800</pubDate></item>"
        )
    # The portal's article 5102, reached through its mobile mirror (another URL, the same
    # canonical page): the feed source would store it a second time.
    mirror = next(a for a in ARTICLES if a["id"] == 5102)
    page = article_page(mirror).replace('class="article"', 'class="m-article"')
    write("m/news/5102.html", page)
    items += (
        f"<item><title>{mirror['title']}</title>"
        "<link>http://__HOST__/m/news/5102.html</link>"
        f"<description>{mirror['body'][0]}</description>"
        "<pubDate>Fri, 12 Jun 2026 18:05:00 +0800</pubDate></item>"
    )
    write(
        "gov/rss.xml",
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>城关区人民政府</title>{items}</channel></rss>",
    )
    EXPECTED["gov"] = {str(g): body for g, _, body in GOV}


# -- m.weibo.cn-shaped API ---------------------------------------------------------------------
def user(uid: int, name: str, followers: int, verified_type: int = -1) -> dict[str, Any]:
    return {"id": uid, "screen_name": name, "followers_count": followers, "follow_count": 80,
            "statuses_count": 900, "verified": verified_type >= 0, "verified_type": verified_type}


RUMOR = 5100000000000001
OFFICIAL = 5100000000000010
CITIZENS = [user(7000 + i, f"鹭川网友{i:02d}", 50 + i) for i in range(40)]


def blog(mid: int, text: str, when: str, who: dict[str, Any], reposts: int = 0,
         comments: int = 0) -> dict[str, Any]:
    return {"id": str(mid), "mid": str(mid), "text": text, "created_at": when, "user": who,
            "reposts_count": reposts, "comments_count": comments, "attitudes_count": 3,
            "source": "iPhone客户端"}


def weibo() -> None:
    rumor = blog(RUMOR, "鼓楼广场城管把卖菜的老人打死了！！太嚣张了 #鹭川#",
                 "Fri Jun 12 19:40:00 +0800 2026", CITIZENS[0], reposts=25, comments=6)
    official = blog(OFFICIAL, "【情况通报】6月12日19时30分许，鼓楼广场一名摆摊老人中暑晕倒，"
                    "城管队员现场拨打120，老人已送市二医院，生命体征平稳。网传不实。",
                    "Fri Jun 12 21:50:00 +0800 2026", user(6001001, "城关发布", 210000, 1),
                    reposts=3, comments=2)
    search1 = [
        rumor,
        blog(5100000000000002, "鼓楼广场今天城管好多，听说出事了", "3小时前", CITIZENS[1]),
        blog(5100000000000003, "辟谣了，老人是中暑", "5分钟前", CITIZENS[2]),
    ]
    search2 = [
        blog(5100000000000004, "看了通报放心了", "刚刚", CITIZENS[3]),
        blog(5100000000000005, "昨晚江南大道又堵了", "昨天 22:10", CITIZENS[4]),
    ]

    def cards(blogs: list[dict[str, Any]]) -> dict[str, Any]:
        return {"ok": 1, "data": {"cards": [{"card_type": 11, "card_group": [
            {"card_type": 9, "mblog": b} for b in blogs]}]}}

    q = "/weibo/api/container/getIndex?containerid=100103type=1&q=鹭川&page={}&page_type=searchall"
    for n, page in enumerate([cards(search1), cards(search2),
                              {"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}], 1):
        dump(f"weibo/search-{n}.json", page)
        ROUTES["exact"][q.format(n)] = {"file": f"weibo/search-{n}.json"}
    t = ("/weibo/api/container/getIndex?containerid=1076036001001&page={}"
         "&type=uid&value=6001001")
    dump("weibo/user-1.json", {"ok": 1, "data": {"cards": [{"card_type": 9, "mblog": official}]}})
    dump("weibo/user-2.json", {"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}})
    ROUTES["exact"][t.format(1)] = {"file": "weibo/user-1.json"}
    ROUTES["exact"][t.format(2)] = {"file": "weibo/user-2.json"}

    def reposts(mid: int, count: int, size: int) -> list[int]:
        ids = [mid + 1000 * (1 + mid % 100) + i for i in range(count)]
        pages = [ids[i:i + size] for i in range(0, count, size)]
        for n, chunk in enumerate(pages, 1):
            rows = [blog(r, "转发微博" if r % 3 else f"//@鹭川网友00: 真的假的 {r % 100}",
                         "Fri Jun 12 20:%02d:00 +0800 2026" % (r % 60), CITIZENS[r % 40])
                    for r in chunk]
            # total_number says how many there are; no "max": the page count is derived.
            dump(f"weibo/reposts-{mid}-{n}.json",
                 {"ok": 1, "data": {"data": rows, "total_number": count, "hot_total_number": 0}})
            ROUTES["exact"][f"/weibo/api/statuses/repostTimeline?id={mid}&page={n}"] = {
                "file": f"weibo/reposts-{mid}-{n}.json"}
        return ids

    def comments(mid: int, pages: list[list[tuple[int, str, list[tuple[int, str]]]]]) -> list[int]:
        ids: list[int] = []
        max_ids = [0] + [mid + 900 + n for n in range(1, len(pages))]
        for n, page in enumerate(pages):
            rows = []
            for cid, text, subs in page:
                ids.append(cid)
                row: dict[str, Any] = {"id": cid, "text": text, "like_count": 2, "user": CITIZENS[cid % 40],
                                       "created_at": "Fri Jun 12 20:%02d:00 +0800 2026" % (cid % 60),
                                       "total_number": len(subs), "comments": False}
                if subs:
                    row["comments"] = [{"id": sid, "text": st, "like_count": 0,
                                        "user": CITIZENS[sid % 40],
                                        "created_at": "Fri Jun 12 21:%02d:00 +0800 2026" % (sid % 60)}
                                       for sid, st in subs]
                    ids += [sid for sid, _ in subs]
                rows.append(row)
            next_id = max_ids[n + 1] if n + 1 < len(pages) else 0
            name = f"weibo/hotflow-{mid}-{n + 1}.json"
            dump(name, {"ok": 1, "data": {"data": rows, "total_number": 99, "max_id": next_id,
                                           "max_id_type": 0}})
            key = f"/weibo/comments/hotflow?id={mid}" + (
                f"&max_id={max_ids[n]}" if n else "") + f"&max_id_type=0&mid={mid}"
            ROUTES["exact"][key] = {"file": name}
        return ids

    rumor_reposts = reposts(RUMOR, 25, 10)
    official_reposts = reposts(OFFICIAL, 3, 10)
    rumor_comments = comments(RUMOR, [
        [(4100000000000001, "真的吗？太可怕了", [(4100000000000101, "别信，等通报")]),
         (4100000000000002, "城管太过分了", [])],
        [(4100000000000003, "我在现场，是老人自己晕倒的", []),
         (4100000000000004, "有视频吗", [(4100000000000102, "没有视频就别乱说")])],
        [(4100000000000005, "通报出来了，是中暑", [])],
    ])
    official_comments = comments(OFFICIAL, [[(4100000000000011, "谢谢通报，老人早日康复", [])]])
    EXPECTED["weibo"] = {
        "posts": sorted(str(b["mid"]) for b in [*search1, *search2, official]),
        "reposts": sorted(str(r) for r in rumor_reposts + official_reposts),
        "comments": sorted(f"comment-{c}" for c in rumor_comments + official_comments),
        "rumor": str(RUMOR),
        "rumor_repost_pages": 3,
        "rumor_comment_pages": 3,
    }


# -- 鹭川市民留言板: JSON with official replies ----------------------------------------------------
MESSAGES = [
    ("LC202606120005", "鼓楼广场晚上摊贩占道", "鼓楼广场晚上摊贩把人行道全占了，老人推车过不去。",
     "2026-06-12 20:30:00", None),
    ("LC202606120004", "网传城管打人是真的吗", "晚上看到群里说城管在鼓楼广场打死人了，请政府说明情况。",
     "2026-06-12 20:02:00",
     ("城关区综合行政执法局", "2026-06-12 22:05:00", "经核实，老人系中暑晕倒，已送医，网传不实。")),
    ("LC202606120003", "翠湖小区停水三天",
     "滨湖街道翠湖小区停水三天，物业电话0879-6667788一直打不通，12345也说在协调。",
     "2026-06-12 17:40:00",
     ("江南区住建局", "2026-06-12 19:10:00", "已联系供水公司抢修，预计今晚恢复供水。")),
    ("LC202606110002", "江南大道施工噪音", "江南大道夜间施工噪音太大，影响休息。",
     "2026-06-11 23:10:00",
     ("江南区交通运输局", "2026-06-12 09:30:00", "已要求施工单位22时后停止高噪音作业。")),
    ("LC202606100001", "云台山门票咨询", "请问云台山景区对本市老人免票吗？",
     "2026-06-10 10:00:00",
     ("松岭县文旅局", "2026-06-10 16:00:00", "本市65周岁以上老人凭身份证免票。")),
]


def board() -> None:
    rows = [
        {"id": mid, "title": title, "content": text, "createDate": when,
         "userName": "市民", "state": "已回复" if reply else "办理中",
         "answer": ({"deptName": reply[0], "answerDate": reply[1], "answerContent": reply[2]}
                    if reply else None)}
        for mid, title, text, when, reply in MESSAGES
    ]
    for n, chunk in enumerate([rows[:3], rows[3:], []], 1):
        dump(f"board/list-{n}.json", {"code": 200, "msg": "success",
                                      "result": {"records": chunk, "total": len(rows)}})
        ROUTES["exact"][f"/board/api/list?pageNo={n}&pageSize=3"] = {
            "file": f"board/list-{n}.json"}
    EXPECTED["board"] = {
        "messages": sorted(m[0] for m in MESSAGES),
        "replies": sorted(f"{m[0]}-reply-1" for m in MESSAGES if m[4]),
    }


def main() -> None:
    shutil.rmtree(WWW, ignore_errors=True)
    write("robots.txt", "User-agent: *\nDisallow: /bbs/admin.php\n")
    forum()
    portal()
    gov()
    weibo()
    board()
    (HERE / "routes.json").write_text(json.dumps(ROUTES, ensure_ascii=False, indent=1) + "\n")
    (HERE / "expected.json").write_text(json.dumps(EXPECTED, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
