"""A fictional city, 岚州市, with a rumor incident and a complaint incident in a real store.

北塘区, evening of 2026-06-10: a vendor dispute at 东门菜市场 becomes the claim that four
城管 beat an old vendor to death. Residents repost and doubt it; the city account answers
at 22:10 with a 情况通报; afterwards the posts turn to rebuttal. A 2025 rebuttal of a similar
rumor is on record. 云溪区: residents complain on the message board about night-time
construction noise; two of three complaints get an official reply.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from models import SHANGHAI, Author, Post

T0 = datetime(2026, 6, 10, 20, 5, tzinfo=SHANGHAI)
ANSWER_AT = datetime(2026, 6, 10, 22, 10, tzinfo=SHANGHAI)
NOW = datetime(2026, 6, 11, 2, 0, tzinfo=SHANGHAI)
GOV = "lz_gov"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def post(
    nid: str,
    text: str,
    minutes: float,
    *,
    kind: str = "post",
    source: str = "weibo",
    author: str | None = None,
    incident: str = "inc-lz-1",
    **kw,
) -> Post:
    return Post(
        source=source,
        native_id=nid,
        kind=kind,
        text=text,
        created_at=at(minutes),
        fetched_at=at(minutes + 3),
        author=Author(id=author or f"u{nid}", name=author or f"网友{nid}"),
        incident_id=incident,
        url=f"https://weibo.example/{nid}"
        if source == "weibo"
        else f"https://{source}.example/{nid}",
        region_tags=kw.pop("region_tags", ["北塘区"]),
        **kw,
    )


def rumor_posts() -> list[Post]:
    p1 = post(
        "1001",
        "刚刚北塘区东门菜市场，四个城管把一个卖菜的老人活活打死了！太惨了，扩散！"
        "#岚州# http://t.cn/AbC123",
        0,
        reposts=40,
    )
    posts = [
        p1,
        post(
            "1002", "北塘区东门菜市场城管打死卖菜老人，现场视频都传开了，太过分了", 12, reposts=15
        ),
        post(
            "1003",
            "听说北塘区东门菜市场城管把卖菜老人打死了，四个人围着打",
            26,
            source="lzbbs",
            kind="thread",
            title="东门菜市场城管打人致死？",
            reposts=0,
        ),
        post("1004", "东门菜市场那边城管还打伤了两个围观群众，有人被送去医院了", 35, reposts=6),
        post("1005", "城管打伤围观群众的事谁知道，北塘区东门菜市场还打伤了围观的人", 50),
        post("1006", "今晚北塘区东门菜市场人很多，警车也来了，路口堵住了。", 40),
    ]
    for n in range(30):  # reposts before the answer
        posts.append(
            post(f"r{n}", "转发微博", 5 + n * 4, kind="repost", parent_id=p1.id, root_id=p1.id)
        )
    doubts = [
        "真的吗？求证",
        "这是真的假的？？",
        "有没有人知道具体情况，靠谱吗",
        "太吓人了，求证！",
        "不会吧，真打死了？",
        "城管太过分了",
        "官方怎么还不出来说明",
    ]
    for n, text in enumerate(doubts):
        posts.append(
            post(f"c{n}", text, 20 + n * 10, kind="comment", parent_id=p1.id, root_id=p1.id)
        )
    posts.append(
        post(
            "9001",
            "【情况通报】6月10日20时许，北塘区东门菜市场一名摊贩与城管执法人员发生肢体冲突。"
            "网传“四个城管打死卖菜老人”与事实不符，当事人经医院检查无生命危险。具体原因正在调查中。",
            125,
            author=GOV,
            reposts=300,
            incident="inc-lz-1",
        )
    )
    after = [
        "官方通报了，是假的，别信",
        "辟谣了，当事人没事",
        "原来是谣言，造谣的该查",
        "官方通报说不实",
        "还是要等官方消息",
    ]
    for n, text in enumerate(after):
        posts.append(
            post(f"a{n}", text, 135 + n * 20, kind="comment", parent_id=p1.id, root_id=p1.id)
        )
    for n in range(6):
        posts.append(
            post(f"ra{n}", "转发微博", 130 + n * 40, kind="repost", parent_id=p1.id, root_id=p1.id)
        )
    return posts


def complaint_posts() -> list[Post]:
    base = dict(source="lz-board", kind="message", incident="inc-lz-2", region_tags=["云溪区"])
    msgs = [
        post(
            "M1",
            "云溪区滨河路工地每天夜里十二点还在打桩，吵得孩子睡不着，请管一管！",
            -600,
            title="滨河路工地夜间施工扰民",
            **base,
        ),
        post(
            "M2",
            "滨河路工地夜间施工噪音太大，投诉多次没有人管，云溪区住建局能否处理？",
            -300,
            title="夜间施工噪音投诉",
            **base,
        ),
        post(
            "M3",
            "云溪区滨河路施工晚上不停，咨询一下夜间施工许可是谁批的？",
            -120,
            title="夜间施工许可咨询",
            **base,
        ),
    ]
    replies = [
        post(
            "M1-r",
            "您好！经查，该工地未办理夜间施工许可，已责令停止夜间施工。",
            -400,
            source="lz-board",
            kind="reply",
            author="云溪区住房和城乡建设局",
            parent_id=msgs[0].id,
            root_id=msgs[0].id,
            incident="inc-lz-2",
            region_tags=["云溪区"],
        ),
        post(
            "M2-r",
            "您好！已联合城管部门夜间巡查，对违规施工依法处罚。",
            -60,
            source="lz-board",
            kind="reply",
            author="云溪区住房和城乡建设局",
            parent_id=msgs[1].id,
            root_id=msgs[1].id,
            incident="inc-lz-2",
            region_tags=["云溪区"],
        ),
    ]
    return msgs + replies
