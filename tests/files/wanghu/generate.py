"""Write ``evening.json``: one evening of 澜州市 (Lanzhou, fictional), for clustering checks.

Several unrelated stories happen in the same street and around the same landmarks at the
same time (湖滨区 望湖街道, 18:00-24:00 on Friday 2026-11-20), each told by several people
on a forum, Weibo, a news portal and the city's message board, with reposts, copies and
doubts:

* ``heating``  锦绣小区 (望湖街道) radiators cold: board messages, a forum thread, Weibo
  posts, the heating company's answer (a 民生诉求 complaint);
* ``smell``    the rumor that 望湖化工园 leaks toxic gas: forum, Weibo copies, doubts,
  reposts that only say "望湖化工园那事", and the environment bureau's 情况通报;
* ``crash``    an electric scooter and a muck truck collide at 望湖路 / 滨湖大道;
* ``school``   望湖中学 notice: winter timetable and a parents' meeting;
* ``chatter``  one-off posts that mention the landmarks (a hotpot shop on 望湖路, night
  photos of 望湖公园, a lost cat in 望湖街道, a flat for rent): each its own story
  (``chatter-<n>``).

Never used to tune the detector (it was written before the clustering change). Edit this
file and run it again rather than editing the JSON: ``python tests/files/wanghu/generate.py``.
Each post carries ``story`` (the gold label); ``root``/``parent`` are native ids.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

DAY = datetime.fromisoformat("2026-11-20T00:00:00+08:00")
GAZETTEER = {
    "湖滨区": ["望湖街道", "望湖化工园", "望湖路", "望湖中学", "望湖公园", "锦绣小区", "滨湖大道"],
    "东关区": ["东关", "东关街道", "市人民医院", "东关菜市场"],
    "北山县": ["北山", "北山镇", "石湖水库"],
}
POSTS: list[dict] = []
_n = 0


def at(hhmm: str) -> str:
    h, m = (int(x) for x in hhmm.split(":"))
    return (DAY + timedelta(hours=h, minutes=m)).isoformat()


def post(source: str, kind: str, when: str, author: str, text: str, story: str,
         title: str | None = None, root: str | None = None, parent: str | None = None,
         native_id: str | None = None) -> str:  # fmt: skip
    global _n
    _n += 1
    nid = native_id or f"{source.split('-')[1]}{_n:04d}"
    POSTS.append({
        "source": source, "native_id": nid, "kind": kind, "created_at": at(when),
        "author": author, "title": title, "text": text, "story": story,
        "root": root, "parent": parent or root,
    })  # fmt: skip
    return nid


def minutes(start: str, step: tuple[int, int], count: int, rng: random.Random) -> list[str]:
    h, m = (int(x) for x in start.split(":"))
    t = h * 60 + m
    out = []
    for _ in range(count):
        t += rng.randint(*step)
        out.append(f"{min(t, 23 * 60 + 59) // 60:02d}:{min(t, 23 * 60 + 59) % 60:02d}")
    return out


def thread(source: str, when: str, author: str, title: str | None, text: str, story: str,
           replies: list[str], rng: random.Random, step: tuple[int, int] = (2, 9),
           kind: str = "thread", reply_kind: str = "reply") -> str:  # fmt: skip
    root = post(source, kind, when, author, text, story, title=title)
    for when2, reply in zip(minutes(when, step, len(replies), rng), replies, strict=True):
        post(source, reply_kind, when2, f"{source}-u{rng.randrange(90)}", reply, story, root=root)
    return root


def main() -> None:
    rng = random.Random(20261120)
    # -- heating: 锦绣小区 radiators cold (民生诉求) -----------------------------------------
    thread("wh-board", "18:05", "锦绣小区住户", "望湖街道锦绣小区暖气不热",
           "望湖街道锦绣小区8栋暖气片一直是温的，室内只有15度，老人孩子都冻感冒了。"
           "供暖都开始一周了，给热力公司打电话说排查，一直没人来。", "heating", [],
           rng, kind="message")  # fmt: skip
    post("wh-board", "reply", "21:40", "澜州热力公司",
         "您好，经排查锦绣小区8栋供暖管道存在气堵，已安排维修人员明日上午入户排气，"
         "请保持电话畅通。", "heating", root=POSTS[-1]["native_id"])  # fmt: skip
    thread("wh-bbs", "18:32", "望湖老住户", "锦绣小区暖气又不热了，有一样的吗",
           "今年供暖又是这样，家里暖气摸着冰凉，温度计才14度。望湖街道这片老小区每年都这样，"
           "物业说是热力公司的事，热力公司说是楼里管道的事。", "heating",
           ["我家也是，暖气片上热下凉", "12345打了没用，说转给街道了", "建议大家一起去热力公司反映",
            "我们楼还行，可能是管道气堵", "暖气费一分没少交，屋里穿羽绒服",
            "同楼的，今晚又降温了冻死了",
            "锦绣小区的暖气十年了没改造过"], rng)  # fmt: skip
    thread("wh-weibo", "19:02", "湖滨小棉袄", None,
           "#澜州供暖# 望湖街道锦绣小区的暖气到底什么时候能热？室温15度，娃冻得发烧了。"
           "@澜州热力 请给个说法", "heating",
           ["转发微博", "同问，我们小区也不热", "//@冬天怕冷星人: 暖气不热真的受罪",
            "热力公司电话根本打不进去", "转发微博", "求关注，老人在家冻得不行"],
           rng, step=(3, 12), kind="post", reply_kind="repost")  # fmt: skip
    thread("wh-board", "19:48", "市民王女士", "锦绣小区供暖温度不达标",
           "锦绣小区（望湖化工园对面）3栋暖气温度只有十几度，按规定室温应不低于18度，请相关部门督促热力公司尽快解决。",
           "heating", [], rng, kind="message")  # fmt: skip
    thread("wh-weibo", "20:26", "望湖吃瓜群众", None,
           "锦绣小区暖气不热的事有人管吗，热力公司说明天上门，一晚上怎么熬，供暖费交了个寂寞",
           "heating", ["真的冷", "//@湖滨小棉袄: 同样不热", "开空调电费顶不住"],
           rng, step=(4, 15), kind="post", reply_kind="repost")  # fmt: skip
    thread("wh-weibo", "22:10", "澜州身边事", None,
           "【网友反映望湖街道锦绣小区暖气不热】多位居民反映室温仅14至15度，热力公司回应称系管道气堵，"
           "明日上午入户排气维修。", "heating",
           ["希望尽快修好", "转发微博", "每年都气堵，该改造管网了"],
           rng, step=(3, 10), kind="post", reply_kind="repost")  # fmt: skip
    post(
        "wh-weibo",
        "post",
        "20:50",
        "怕冷的小陈",
        "望湖街道的暖气是不是全停了？家里冷得跟冰窖一样，打热力公司电话一直占线",
        "heating",
    )
    post(
        "wh-weibo",
        "post",
        "21:25",
        "湖滨老李",
        "住望湖街道十几年了，每年供暖都不达标，今晚家里又只有十四度",
        "heating",
    )
    # -- smell: the 望湖化工园 gas leak rumor (环境 / rumor) -------------------------------
    thread("wh-bbs", "19:15", "望湖夜猫子", "望湖化工园是不是泄漏了？？一股刺鼻的味道",
                "刚才在望湖街道散步，闻到一股很冲的化学品味道，像烂鸡蛋又像油漆，听说是化工园那边泄漏了，"
                "有毒气体飘过来了，大家赶紧关窗！", "smell",
                ["我家也闻到了，嗓子很难受", "真的假的？别乱传", "化工园晚上经常排放，老问题了",
                 "有没有人去现场看看", "已经关窗了，开了空气净化器", "我朋友在园区上班说没听说泄漏",
                 "求官方辟谣或者证实", "听说有人被熏晕送医院了", "别传谣，等通报",
                 "味道确实很大，孩子一直咳嗽",
                 "望湖化工园那事有消息了吗"], rng, step=(2, 7))  # fmt: skip
    thread("wh-weibo", "19:26", "湖滨热心市民", None,
           "紧急扩散！望湖化工园发生毒气泄漏，刺鼻气味已经飘到望湖街道，大家关好门窗不要出门！"
           "据说已经有人中毒送医！", "smell",
           ["天哪，我就住附近", "转发微博", "//@望湖夜猫子: 我也闻到了，好臭", "求证，是真的吗",
            "转发微博", "已关窗", "//@湖滨小棉袄: 扩散", "别吓人啊，有官方消息吗", "转发微博",
            "望湖化工园那事到底怎么回事", "家里有孕妇，要不要去亲戚家住", "转发微博",
            "味道现在淡一点了", "化工园每次出事都瞒着", "转发微博", "坐等通报"],
           rng, step=(1, 5), kind="post", reply_kind="repost")  # fmt: skip
    thread("wh-weibo", "19:41", "北山小林", None,
           "有人说望湖化工园泄漏毒气，有人中毒了？有没有在化工园附近的说说情况，真的闻到刺鼻气味了吗",
           "smell", ["我在望湖路，确实有股怪味", "转发微博", "应该是谣言吧",
                     "//@湖滨热心市民: 紧急扩散"], rng, step=(2, 8), kind="post",
           reply_kind="repost")  # fmt: skip
    thread("wh-weibo", "19:58", "澜州碎碎念", None,
           "望湖化工园那事，到底泄漏没有？", "smell",
           ["转发微博", "不知道，等通报吧", "转发微博"], rng, step=(3, 9), kind="post",
           reply_kind="repost")  # fmt: skip
    thread("wh-bbs", "20:05", "化工园隔壁", "化工园的毒气到底有没有事，家里孩子咳嗽",
           "望湖化工园那边的气味从七点多一直到现在，孩子一直咳嗽。网上说泄漏了有毒，"
           "有没有懂行的说说这种刺鼻气味对人有没有害？", "smell",
           ["最好先去亲戚家住一晚", "化工厂的气味肯定有害", "环保局电话打了，说在核实",
            "我们这边也有味道", "不要恐慌，等官方消息"], rng, step=(3, 10))  # fmt: skip
    post(
        "wh-weibo",
        "post",
        "20:12",
        "湖滨热心市民的小号",
        "紧急扩散！望湖化工园发生毒气泄漏，刺鼻气味已经飘到望湖街道，大家关好门窗不要出门！"
        "据说已经有人中毒送医！",
        "smell",
    )  # a copy
    post(
        "wh-weibo",
        "post",
        "20:20",
        "小区群搬运工",
        "转自小区群：望湖化工园毒气泄漏，已经有人中毒送医，大家关好门窗不要出门！",
        "smell",
    )
    thread("wh-board", "20:30", "望湖街道居民", "望湖化工园夜间异味扰民",
           "每到晚上望湖化工园方向就飘来刺鼻气味，今晚尤其严重，网上传言泄漏中毒，"
           "请环保部门查明情况并公开说明。", "smell", [], rng, kind="message")  # fmt: skip
    post("wh-board", "reply", "22:35", "澜州市生态环境局",
         "经现场核查，望湖化工园内企业生产正常，未发生泄漏，异味系园区污水处理站检修所致，"
         "已督促企业整改。", "smell", root=POSTS[-1]["native_id"])  # fmt: skip
    thread("wh-weibo", "22:05", "澜州生态环境", None,
           "【情况通报】11月20日晚，有网民反映望湖街道一带有刺鼻异味，称望湖化工园发生泄漏。"
           "经我局现场核查，园区企业生产正常，未发生泄漏，无人员中毒，异味系园区污水处理站检修产生。"
           "网传“化工园毒气泄漏有人中毒”不实。", "smell",
           ["辟谣了就好", "转发微博", "污水处理站检修能这么臭？", "转发微博", "希望彻底整改",
            "//@澜州发布: 不信谣不传谣", "转发微博", "那味道是真的大"],
           rng, step=(2, 9), kind="post", reply_kind="repost")  # fmt: skip
    post("wh-news", "article", "22:20", "澜州日报",
         "生态环境局：望湖化工园未发生泄漏\n11月20日晚，望湖街道部分居民闻到刺鼻异味，"
         "网上传言望湖化工园发生毒气泄漏。市生态环境局现场核查后通报，园区企业生产正常，"
         "未发生泄漏，异味系污水处理站检修产生，已督促整改。", "smell",
         title="生态环境局：望湖化工园未发生泄漏")  # fmt: skip
    post("wh-weibo", "post", "23:05", "望湖吃瓜群众", "望湖化工园那事辟谣了，是污水站检修", "smell")
    # -- crash: scooter and muck truck at 望湖路 / 滨湖大道 (交通) ---------------------------
    thread("wh-weibo", "19:33", "湖滨路况", None,
           "望湖路与滨湖大道路口，一辆电动车和渣土车相撞，骑车人倒地，交警和120已到现场，"
           "望湖路往东方向严重拥堵，请绕行。", "crash",
           ["转发微博", "渣土车晚上开太快了", "希望人没事", "转发微博", "//@澜州交警: 请绕行",
            "刚路过，堵了两公里", "那个路口早该装红绿灯了", "转发微博"],
           rng, step=(2, 8), kind="post", reply_kind="repost")  # fmt: skip
    thread("wh-bbs", "19:50", "开车的老胡", "望湖路口渣土车撞电动车了",
           "滨湖大道和望湖路交叉口，渣土车右转把电动车带倒了，骑车的小伙子腿受伤了，"
           "救护车刚拉走，现在望湖路堵死了。", "crash",
           ["渣土车右转盲区太大", "这路口出过好几次事故", "还堵吗？准备回家",
            "交警在处理了，一条道放行"], rng, step=(3, 10))  # fmt: skip
    post(
        "wh-weibo",
        "post",
        "20:15",
        "上班族阿杰",
        "望湖路怎么堵成这样，听说前面渣土车和电动车撞了，堵了半小时没动",
        "crash",
    )
    thread("wh-weibo", "21:05", "澜州交警", None,
           "【警情通报】今晚19时25分许，湖滨区望湖路与滨湖大道交叉口发生一起渣土车与电动自行车碰撞"
           "的交通事故，电动车驾驶人腿部受伤，已送医救治，无生命危险。事故原因正在调查中。",
           "crash", ["转发微博", "渣土车要好好管管", "转发微博", "希望早日康复"],
           rng, step=(3, 10), kind="post", reply_kind="repost")  # fmt: skip
    post("wh-news", "article", "21:30", "澜州日报",
         "望湖路口渣土车与电动车相撞 一人受伤\n今晚19时25分许，湖滨区望湖路与滨湖大道交叉口，"
         "一辆渣土车右转时与电动自行车发生碰撞，电动车驾驶人腿部受伤，已送医救治。"
         "交警部门提醒，渣土车右转存在视线盲区，非机动车请注意避让。", "crash",
         title="望湖路口渣土车与电动车相撞 一人受伤")  # fmt: skip
    # -- school: 望湖中学 winter timetable and parents' meeting (教育) ---------------------
    post("wh-news", "article", "18:20", "湖滨区教育局",
         "望湖中学调整冬季作息时间\n自11月23日起，望湖中学实行冬季作息，上午8时到校，下午5时放学；"
         "11月28日下午召开期中考试家长会，请家长准时参加。", "school",
         title="望湖中学调整冬季作息时间")  # fmt: skip
    thread("wh-bbs", "20:40", "初二家长", "望湖中学冬季作息改了，下周一开始八点到校",
           "学校群里发通知了，望湖中学下周一起冬季作息，早上八点到校，下午五点放学，"
           "下周五还有期中家长会。", "school",
           ["终于可以多睡半小时了", "家长会是几点？", "下午两点，群里有", "放学早了接孩子更难了"],
           rng, step=(4, 15))  # fmt: skip
    thread("wh-weibo", "21:15", "望湖中学家委会", None,
           "望湖中学通知：下周一起执行冬季作息时间，八点到校五点放学，28日下午期中考试家长会。",
           "school", ["收到", "转发微博", "收到，谢谢"], rng, step=(3, 12), kind="post",
           reply_kind="repost")  # fmt: skip
    thread("wh-board", "21:50", "家长李先生", "望湖中学放学时间调整后接送困难",
           "望湖中学冬季作息五点放学，双职工家庭来不及接孩子，建议学校开设课后托管。",
           "school", [], rng, kind="message")  # fmt: skip
    # -- chatter: one-off posts that mention the landmarks ------------------------------
    chatter = [
        (
            "wh-weibo",
            "18:40",
            "吃遍澜州",
            None,
            "望湖路新开的重庆火锅店排队两小时，牛油锅底很香，就是太辣了",
            ["在望湖路哪个位置？", "人均多少"],
        ),
        (
            "wh-weibo",
            "19:10",
            "爱拍照的小周",
            None,
            "望湖公园的夜景真美，湖边灯光秀今晚最后一场，拍了几张分享一下",
            ["好看", "在哪个门进"],
        ),
        (
            "wh-bbs",
            "19:20",
            "找猫的姑娘",
            "望湖街道走失一只橘猫，求扩散",
            "昨天傍晚在望湖街道锦绣小区附近走失一只橘猫，戴红色项圈，有线索请联系，必有重谢。",
            ["帮顶", "在小区门口好像见过一只橘猫"],
        ),
        (
            "wh-bbs",
            "20:10",
            "房东张姐",
            "望湖路两室一厅出租，近望湖中学",
            "望湖路两室一厅出租，精装修，拎包入住，近望湖中学和望湖公园，月租两千五。",
            ["还在吗"],
        ),
        (
            "wh-weibo",
            "20:45",
            "夜跑的阿伟",
            None,
            "今晚在望湖公园夜跑了十公里，风有点大，环湖步道人不多",
            [],
        ),
        (
            "wh-weibo",
            "21:20",
            "湖滨生活圈",
            None,
            "望湖街道的周末市集明天上午开，有手工、花草和小吃，欢迎来逛",
            ["几点结束", "去年去过挺好玩"],
        ),
        (
            "wh-bbs",
            "21:35",
            "北山钓友",
            "石湖水库这周末还能钓鱼吗",
            "北山石湖水库天冷了，周末准备去夜钓，有没有一起的？",
            ["太冷了", "注意安全"],
        ),
        (
            "wh-weibo",
            "22:30",
            "东关老街坊",
            None,
            "东关菜市场今天的白菜一块钱一斤，囤了二十斤准备腌酸菜",
            ["这么便宜", "东北人的快乐"],
        ),
        (
            "wh-bbs",
            "22:45",
            "望湖路的修车师傅",
            "望湖路上那家修车铺搬到滨湖大道了",
            "在望湖路开了八年的修车铺，下个月搬到滨湖大道，老客户别跑错地方。",
            ["祝生意兴隆"],
        ),
    ]
    for n, (source, when, author, title, text, replies) in enumerate(chatter, 1):
        thread(source, when, author, title, text, f"chatter-{n}", replies, rng,
               step=(4, 20), kind="post" if source == "wh-weibo" else "thread",
               reply_kind="comment" if source == "wh-weibo" else "reply")  # fmt: skip
    POSTS.sort(key=lambda p: (p["created_at"], p["native_id"]))
    out = {"city": "澜州市", "day": DAY.date().isoformat(), "gazetteer": GAZETTEER, "posts": POSTS}
    path = Path(__file__).with_name("evening.json")
    path.write_text(json.dumps(out, ensure_ascii=False, indent=0) + "\n", "utf-8")
    print(f"{path}: {len(POSTS)} posts")


if __name__ == "__main__":
    main()
