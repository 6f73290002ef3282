"""Write the recorded pages of the fictional city of 青川市 (Qingchuan) under www/.

青川市 has three districts: 东城区 (the old town, station and hospital), 西江区 (the river
district: 滨江路, 西江大桥, 江北街道, 沙湾镇) and 南山县 (mountain county: 白石镇, 南山古镇,
龙潭水库). The pages imitate what the city's sources serve: a UTF-8 news site whose
articles end with property ads, "相关阅读" lists and footers; a GBK Discuz! forum; the
government RSS/Atom feeds; the m.weibo.cn JSON API; and a JSON message board with official
replies. Some pages are broken on purpose (see routes.json for 500s, timeouts, login walls).

Run ``python tests/files/crawler/generate.py`` after editing; the output is committed so
tests and the demo never depend on this script.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).parent / "www"

HEADER = """<div class="header"><a href="/">青川新闻网</a> | <a href="/news/list_1.html">本地</a> |
<a href="/news/list_1.html">民生</a> | <a href="/login.html">登录</a> | <a href="/reg.html">注册</a></div>"""
FOOTER = """<div class="footer"><p>关于我们 | 联系我们 | 免责声明 | 网站地图</p>
<p>版权所有 © 2012-2026 青川新闻网 青川日报社主办 蜀ICP备12345678号-1 川公网安备 51060202000123号</p>
<p>违法和不良信息举报电话：0838-6200110</p></div>"""
AD_HOUSE = "<p>【广告】首付15万买地铁三室！青川·江悦府 滨江路旁 南北通透 精装现房 售楼热线：0838-6123456</p>"
AD_LOAN = "<p>急用钱？无抵押信用贷款 当天到账 日息低至万分之二 加微信 qcdai8888 详询</p>"
RELATED = """<div class="related"><h3>相关阅读</h3><ul>
<li><a href="/news/2026/0520/0990.html">青川市2026年防汛工作会议召开</a></li>
<li><a href="/news/2026/0518/0985.html">西江区启动城市内涝点位排查</a></li>
<li><a href="/news/2026/0515/0978.html">南山县白石镇脐橙种植户迎来好收成</a></li></ul></div>"""
SHARE = "<p>分享到：微信 微博 QQ空间</p>"

ARTICLES = [
    {
        "id": "1001", "date": "2026-05-28 07:30", "source": "青川日报", "author": "李明",
        "title": "强降雨致西江区滨江路多处积水 消防连夜排涝",
        "body": [
            "5月27日晚，青川市遭遇今年入汛以来最强降雨，西江区滨江路、江北街道一带部分路段积水超过半米，多辆汽车被困。",
            "市消防救援支队接警后迅速出动，会同西江区城管、排水部门连夜组织排涝，共转移被困群众23人。",
            "截至28日早上6时，滨江路交通已基本恢复，西江大桥双向通行正常，未造成人员伤亡。",
            "市气象台提醒，未来三天仍有阵雨，请市民注意出行安全，不要在低洼路段停车。",
        ],
        "tail": [AD_HOUSE, RELATED, SHARE],
    },
    {
        "id": "1002", "date": "2026年5月27日 16:05", "source": "青川新闻网", "author": "张丽",
        "title": "东城区人民广场夜市将于6月1日起试运行",
        "body": [
            "记者从东城区商务局获悉，人民广场夜市经过两个月的筹备，将于6月1日起试运行，营业时间为每天18时至次日0时。",
            "夜市共设摊位120个，以青川本地小吃和非遗手工艺品为主，优先安排辖区内就业困难人员。",
            "东城区城管局表示，将安排专人维护秩序，严禁占道经营，夜市周边新增临时停车位300个。",
        ],
        "tail": [AD_LOAN, RELATED],
    },
    {
        "id": "1003", "date": "2026-05-26 10:20", "source": "南山县融媒体中心", "author": "王强",
        "title": "南山县龙潭水库除险加固工程完工 汛期蓄水安全有保障",
        "body": [
            "历时八个月，南山县龙潭水库除险加固工程日前通过竣工验收。",
            "工程对大坝坝体进行了防渗处理，新建溢洪道一座，下游白石镇、桃源乡约4万名群众的防洪安全得到进一步保障。",
            "县水利局负责人介绍，汛期将实行24小时值守，水库水位信息每日向社会公布。",
        ],
        "tail": [AD_HOUSE, RELATED],
    },
    {
        # Broken markup: unclosed tags, a stray </div>, an unterminated attribute.
        "id": "1004", "date": "2026-05-25 09:00", "source": "青川日报", "author": "陈晨",
        "title": "市人民医院新院区门诊楼封顶",
        "broken": True,
        "body": [
            "青川市人民医院新院区门诊楼近日顺利封顶，新院区位于东城区青龙镇，设计床位1200张",
            "预计2027年投入使用，届时将缓解东城区看病难问题。<b>医院表示<i>将同步开通至青川火车站的公交专线",
        ],
        "tail": [RELATED],
    },
    {
        # Missing date and author.
        "id": "1005", "date": "", "source": "", "author": "",
        "title": "西江湿地公园二期向市民开放",
        "body": [
            "西江湿地公园二期工程已完工，即日起免费向市民开放，新增步道5公里、观鸟台3处。",
            "公园管理处提醒游客文明游园，不要投喂野生鸟类，雨天注意防滑。",
        ],
        "tail": [AD_HOUSE, SHARE],
    },
    {
        # An absurd date printed by a broken CMS.
        "id": "1006", "date": "1970-01-01 08:00", "source": "青川新闻网", "author": "刘洋",
        "title": "沙湾镇举办第五届龙舟邀请赛",
        "body": [
            "端午节前夕，西江区沙湾镇举办第五届龙舟邀请赛，来自全市的16支队伍参赛，吸引近万名群众观赛。",
            "最终沙湾镇代表队夺得冠军，东城区青龙镇代表队获得亚军。",
        ],
        "tail": [RELATED],
    },
    {
        # A date in the future.
        "id": "1007", "date": "2099-12-31 23:59", "source": "青川新闻网", "author": "刘洋",
        "title": "青川火车站改造期间部分出入口临时封闭",
        "body": [
            "因青川火车站站前广场改造施工，自6月5日起东侧出入口临时封闭，旅客请从西侧出入口进出站。",
            "东城区交警大队已在周边路口设置引导标识，并增派警力疏导交通。",
        ],
        "tail": [AD_LOAN],
    },
    {
        # Served with 500 first, then the page (routes.json).
        "id": "1008", "date": "2026-05-24 15:45", "source": "青川日报", "author": "李明",
        "title": "南山古镇旅游季开幕 首周接待游客8万人次",
        "body": [
            "南山县南山古镇2026旅游季日前开幕，首周共接待游客8万人次，同比增长35%。",
            "古镇新增汉服体验、夜游灯会等项目，县文旅局提醒游客错峰出行。",
        ],
        "tail": [AD_HOUSE, RELATED, SHARE],
    },
    {
        # Never answers in time (routes.json: delay).
        "id": "1009", "date": "2026-05-23 08:00", "source": "青川日报", "author": "张丽",
        "title": "这一篇会超时",
        "body": ["服务器响应太慢。"],
        "tail": [],
    },
]
LIST_PAGES = [["1001", "1002", "1003", "1004", "1005"], ["1006", "1007", "1008", "1009"]]
PRIVATE_LINK = '<li><a href="/private/internal-notice.html">内部通知（不公开）</a><span>2026-05-20</span></li>'


def article_html(a: dict) -> str:
    paras = "\n".join(f"<p>{p}</p>" for p in a["body"])
    if a.get("broken"):
        paras = paras.replace("</p>", "", 1) + '</div><p class="x>'
    info = ""
    if a["date"]:
        info += f'<span class="time">{a["date"]}</span> '
    if a["source"]:
        info += f'<span class="source">来源：{a["source"]}</span> '
    if a["author"]:
        info += f'<span class="author">作者：{a["author"]}</span>'
    tail = "\n".join(a["tail"])
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{a['title']}_青川新闻网</title>
<meta name="keywords" content="青川,新闻"></head>
<body>
{HEADER}
<div class="main"><div class="article">
<h1 class="title">{a['title']}</h1>
<div class="info">{info}</div>
<div class="content" id="content">
{paras}
{tail}
</div>
<p class="editor">（责任编辑：王晓燕）</p>
</div></div>
{FOOTER}
<script>var _hmt = _hmt || [];</script>
</body></html>
"""


def list_html(page: int, ids: list[str]) -> str:
    items = []
    for aid in ids:
        a = next(x for x in ARTICLES if x["id"] == aid)
        items.append(
            f'<li><a href="/news/2026/{aid}.html">{a["title"]}</a><span>{a["date"][:10]}</span></li>'
        )
    if page == 1:
        items.append(PRIVATE_LINK)
    nxt = f'<a class="next" href="/news/list_{page + 1}.html">下一页</a>' if page < len(LIST_PAGES) else ""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>本地新闻_青川新闻网</title></head><body>
{HEADER}
<div class="list"><ul class="news-list">
{chr(10).join(items)}
</ul><div class="pages"><span>第{page}页</span> {nxt}</div></div>
{FOOTER}
</body></html>
"""


# -- the forum (Discuz! X3.4, GBK) -----------------------------------------------------
THREADS = [
    {
        "tid": "2001", "title": "西江大桥上的裂缝是不是越来越大了？有没有懂行的来看看", "author": "江北老王",
        "uid": "30011", "date": "2026-5-28 09:12", "views": "3521", "replies": "6",
        "body": "每天上班都要经过西江大桥，最近发现南侧人行道旁边的裂缝好像比上个月宽了不少，"
                "拍了几张照片。有没有懂桥梁的朋友说说这正常吗？该找哪个部门反映？",
        "floors": [
            ("30102", "沙湾小李", "2026-5-28 09:30", "我也注意到了，下雨天还往下渗水。"),
            ("30103", "青川老司机", "2026-5-28 09:41", "这种是伸缩缝吧，正常的，别自己吓自己。"),
            ("30104", "江北老王", "2026-5-28 10:02", "不是伸缩缝，是桥面上斜着的一条，照片里很清楚。"),
            ("30105", "西江区融媒体", "2026-5-28 11:15",
             "您好，已将情况转交西江区住建局，工作人员今天下午到现场核查，结果会在本帖回复。"),
        ],
        "page2": [
            ("30106", "热心市民", "2026-5-28 12:20", "点赞区里的速度，希望早点出结果。"),
            ("30107", "桥梁工程师老周", "2026-5-28 13:05", "看照片是铺装层开裂，不是主体结构问题，但要尽快修补防止进水。"),
        ],
    },
    {
        "tid": "2002", "title": "【转帖】听说南山县龙潭水库要放水，下游白石镇要淹了？", "author": "山里人",
        "uid": "30022", "date": "2026-5-27 22:40", "views": "8890", "replies": "4",
        "body": "群里都在传龙潭水库今晚要开闸泄洪，白石镇和桃源乡的人赶紧往高处转移！！！"
                "大家转起来，宁可信其有。",
        "floors": [
            ("30202", "白石镇居民", "2026-5-27 22:51", "真的假的？我家就在河边，吓死了。"),
            ("30203", "南山县发布", "2026-5-27 23:30",
             "网传龙潭水库开闸泄洪淹没白石镇系谣言。龙潭水库除险加固已完工，目前水位正常，请勿信谣传谣。"),
            ("30204", "桃源乡小张", "2026-5-27 23:45", "官方辟谣了，大家放心吧。"),
        ],
    },
    {
        "tid": "2003", "title": "东城区人民广场夜市摊位怎么申请？", "author": "想摆摊的阿强",
        "uid": "30033", "date": "昨天 12:30", "views": "1203", "replies": "2",
        "body": "听说人民广场夜市6月1日开业，想问问摊位在哪里报名，要交多少钱？",
        "floors": [
            ("30302", "东城小灵通", "今天 08:01", "去东城区商务局三楼报名，带身份证，摊位费前三个月免。"),
            ("30303", "想摆摊的阿强", "5 分钟前", "谢谢楼上！"),
        ],
    },
    {
        "tid": "2004", "title": "青龙镇到市人民医院新院区的公交什么时候开通", "author": "青龙镇李姐",
        "uid": "30044", "date": "2026-5-26 18:20", "views": "640", "replies": "1",
        "body": "新院区封顶了，老人看病要跑很远，希望公交专线早点开通。",
        "floors": [
            ("30402", "公交迷", "2026-5-26 19:02", "据说要等2027年新院区启用才开。"),
        ],
    },
    {
        "tid": "2005", "title": "沙湾镇龙舟赛太精彩了，附上现场图", "author": "龙舟爱好者",
        "uid": "30055", "date": "2026-5-25 17:00", "views": "2200", "replies": "1",
        "body": "今年沙湾镇的龙舟邀请赛比往年都热闹，沙湾队最后五十米反超，现场掌声雷动！",
        "floors": [
            ("30502", "沙湾小李", "2026-5-25 17:35", "我们沙湾的骄傲！"),
        ],
    },
    {
        # Listed with a wrong charset header (utf-8) while the page is GBK: routes.json.
        "tid": "2006", "title": "滨江路积水太深了，车都泡了，保险能赔吗", "author": "滨江车主",
        "uid": "30066", "date": "2026-5-28 07:50", "views": "4100", "replies": "1",
        "body": "昨晚停在滨江路的车被水泡到了座椅，今天打电话给保险公司说要看条款，有没有人知道涉水险怎么赔？",
        "floors": [
            ("30602", "保险从业者", "2026-5-28 08:20", "有涉水险或者新版车损险都能赔，千万别二次点火。"),
        ],
    },
]
FORUM_PAGES = [["2001", "2002", "2003"], ["2004", "2005", "2006"]]


# A board no other page links to: one thread whose floors carry what real Discuz! posts
# add around the author's words (tests/crawler/test_cleaning.py crawls it).
FURNITURE_THREAD = {
    "tid": "2007", "title": "听说龙潭水库明天要开闸放水？", "author": "望湖老张",
    "uid": "30077", "date": "2026-5-28 20:05", "views": "960", "replies": "6",
    "body": '<i class="pstatus"> 本帖最后由 望湖老张 于 2026-5-28 21:05 编辑 </i><br />\n'
            "群里有人说龙潭水库明天上午开闸放水，白石镇河边的住户要提前搬东西，是真的吗？<br />\n"
            '<ignore_js_op><img src="data/attachment/forum/202605/28/a.jpg" alt="" />'
            '<div class="tip tip_4 aimg_tip"><div class="xs0"><p><strong>IMG_0528.jpg</strong> '
            '<em class="xg1">(52.3 KB, 下载次数: 0)</em></p><p><a href="forum.php?mod=attachment&amp;aid=1">'
            '下载附件</a></p><p class="xg1 y">2026-5-28 20:05 上传</p></div></div></ignore_js_op><br />\n'
            "<br />\n来自 iPhone 客户端",
    "floors": [
        ("30702", "桃源乡小张", "2026-5-28 20:30",
         '<div class="quote"><blockquote><font size="2"><a href="forum.php?mod=redirect&amp;goto='
         'findpost&amp;pid=20070&amp;ptid=2007" target="_blank"><font color="#999999">望湖老张 发表于 '
         '2026-5-28 20:05</font></a></font><br />\n群里有人说龙潭水库明天上午开闸放水，白石镇河边的住户要提前搬东西<br />\n'
         "是真的吗？</blockquote></div><br />\n南山县发布刚刚辟谣了，水库水位正常，没有放水计划。<br />\n"
         "<br />\n—— 来自 掌上青川 Android 版"),
        ("30703", "江北老王", "2026-5-28 20:41",
         '<strong>回复 <a href="forum.php?mod=redirect&amp;goto=findpost&amp;pid=30702&amp;ptid=2007" '
         'target="_blank">2#</a> <i>桃源乡小张</i> </strong><br />\n谢谢，我也看到辟谣了。<br />\n'
         "--------------------<br />\n本地装修找老王，十年口碑<br />\n水电改造 包工包料<br />\n"
         "电话：139 0000 1234"),
        ("30704", "禁言用户", "2026-5-28 20:50",
         '<div class="locked">提示: <em>作者被禁止或删除 内容自动屏蔽</em></div>'),
        ("30705", "白石镇居民", "2026-5-28 21:02",
         "我打了 12345 电话反映，工作人员说已经转给水务局核实。<br />\n"
         "水务局的通知原文：http://www.qingchuan.gov.example/swj/tz/20260528.html"),
        ("30706", "沙湾小李", "2026-5-28 21:10",
         "[ 本帖最后由 沙湾小李 于 2026-05-28 21:12 编辑 ]<br />\n转发辟谣，大家别再传了。<br />\n发自我的 iPhone"),
        ("30707", "广告号", "2026-5-28 21:20",
         '<div class="locked">提示: <em>该帖被管理员或版主屏蔽</em></div>'),
    ],
}


def forum_list_html(page: int, tids: list[str]) -> str:
    rows = []
    for tid in tids:
        t = next(x for x in [*THREADS, FURNITURE_THREAD] if x["tid"] == tid)
        rows.append(f"""<tbody id="normalthread_{tid}"><tr>
<th class="common"><a href="thread-{tid}-1-1.html" onclick="atarget(this)" class="s xst">{t['title']}</a></th>
<td class="by"><cite><a href="space-uid-{t['uid']}.html" c="1">{t['author']}</a></cite><em><span>{t['date']}</span></em></td>
<td class="num"><a href="thread-{tid}-1-1.html" class="xi2">{t['replies']}</a><em>{t['views']}</em></td>
</tr></tbody>""")
    nxt = f'<a href="forum-2-{page + 1}.html" class="nxt">下一页</a>' if page < len(FORUM_PAGES) else ""
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head><meta http-equiv="Content-Type" content="text/html; charset=gbk" />
<title>青川生活 - 青川论坛 - Powered by Discuz!</title></head>
<body id="nv_forum" class="pg_forumdisplay">
<div id="hd"><a href="./">青川论坛</a> <a href="member.php?mod=register">立即注册</a></div>
<div id="pt"><a href="./">青川论坛</a> &rsaquo; <a href="forum-2-1.html">青川生活</a></div>
<div id="threadlist"><table summary="forum_2" id="threadlisttableid">
{chr(10).join(rows)}
</table></div>
<div class="pg"><strong>{page}</strong>{nxt}</div>
<div id="ft">Powered by <strong>Discuz!</strong> X3.4 &copy; 2001-2026 Comsenz Inc. 蜀ICP备87654321号</div>
</body></html>
"""


def floor_html(pid: str, author: str, date: str, content: str, uid: str = "39999") -> str:
    if content.startswith('<div class="locked">'):  # Discuz shows the notice instead of t_f
        body = content
    else:
        body = f"""<div class="t_fsz"><table cellspacing="0" cellpadding="0"><tr><td class="t_f" id="postmessage_{pid}">
{content}
</td></tr></table></div>"""
    return f"""<div id="post_{pid}"><table id="pid{pid}" class="plhin"><tr>
<td class="pls"><div class="pi"><div class="authi"><a href="space-uid-{uid}.html" class="xw1">{author}</a></div></div></td>
<td class="plc"><div class="pi"><div class="pti"><div class="authi"><em id="authorposton{pid}">发表于 {date}</em></div></div></div>
<div class="pct">{body}</div></td></tr></table></div>"""


def thread_html(t: dict, page: int) -> str:
    floors = []
    if page == 1:
        floors.append(floor_html(str(int(t["tid"]) * 10), t["author"], t["date"], t["body"], t["uid"]))
        floors += [floor_html(*f) for f in t["floors"]]
        nxt = f'<a href="thread-{t["tid"]}-2-1.html" class="nxt">下一页</a>' if t.get("page2") else ""
    else:
        floors += [floor_html(*f) for f in t["page2"]]
        nxt = ""
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head><meta http-equiv="Content-Type" content="text/html; charset=gbk" />
<title>{t['title']} - 青川生活 - 青川论坛</title></head>
<body id="nv_forum" class="pg_viewthread">
<div id="hd"><a href="./">青川论坛</a></div>
<div id="pt"><a href="./">青川论坛</a> &rsaquo; <a href="forum-2-1.html">青川生活</a></div>
<div id="postlist" class="pl bm">
<table cellspacing="0" cellpadding="0"><tr><td class="pls ptn pbn"><div class="hm ptn"><span class="xg1">查看:</span> <span class="xi1">{t['views']}</span><span class="pipe">|</span><span class="xg1">回复:</span> <span class="xi1">{t['replies']}</span></div></td>
<td class="plc ptm pbn vwthd"><h1 class="ts"><span id="thread_subject">{t['title']}</span></h1></td></tr></table>
{chr(10).join(floors)}
</div>
<div class="pgs mtm mbm cl"><div class="pg">{nxt}</div></div>
<div id="f_pst">您需要登录后才可以回帖 <a href="member.php?mod=logging&amp;action=login">登录</a> | <a href="member.php?mod=register">立即注册</a></div>
<div id="ft">Powered by <strong>Discuz!</strong> X3.4 蜀ICP备87654321号</div>
</body></html>
"""


# -- the government feeds -------------------------------------------------------------
RSS_ITEMS = [
    ("gov-3001", "青川市防汛抗旱指挥部关于启动防汛Ⅳ级应急响应的通知", "Wed, 27 May 2026 18:00:00 +0800",
     "<p>根据市气象台预报，5月27日夜间至28日我市有大到暴雨，局部大暴雨。市防汛抗旱指挥部决定自5月27日18时起启动防汛Ⅳ级应急响应。</p>"
     "<p>请东城区、西江区、南山县及各相关部门加强值守，做好龙潭水库等重点部位巡查。</p>"),
    ("gov-3002", "关于网传“龙潭水库开闸泄洪淹没白石镇”的情况说明", "Wed, 27 May 2026 23:20:00 +0800",
     "<p>近日，有网民在微信群、论坛散布“龙潭水库今晚开闸泄洪，白石镇将被淹”的信息。经核实，该信息不实。</p>"
     "<p>龙潭水库除险加固工程已完工，当前水位低于汛限水位，无泄洪计划。请广大群众不信谣、不传谣，以官方发布为准。</p>"),
    ("gov-3003", "强降雨致西江区滨江路多处积水 消防连夜排涝", "Thu, 28 May 2026 08:10:00 +0800",
     "<p>5月27日晚，青川市遭遇今年入汛以来最强降雨，西江区滨江路、江北街道一带部分路段积水超过半米，多辆汽车被困。</p>"
     "<p>市消防救援支队接警后迅速出动，会同西江区城管、排水部门连夜组织排涝，共转移被困群众23人。</p>"
     "<p>截至28日早上6时，滨江路交通已基本恢复，西江大桥双向通行正常，未造成人员伤亡。</p>"
     "<p>（来源：青川日报）</p>"),
    ("gov-3004", "青川市2026年第一季度12345热线办理情况通报", "Mon, 25 May 2026 10:00:00 +0800",
     "<p>一季度，12345政务服务便民热线共受理群众诉求38652件，办结率98.6%，满意率95.2%。</p>"
     "<p>诉求主要集中在城市管理、住房保障、交通出行等方面。</p>"),
]
ATOM_ENTRIES = [
    ("tag:xijiang.gov.cn,2026:4001", "西江区住建局关于西江大桥桥面裂缝的核查情况", "2026-05-28T17:30:00+08:00",
     "经现场核查，西江大桥南侧人行道附近裂缝为桥面铺装层开裂，不影响桥梁主体结构安全。区住建局已安排施工单位于5月30日前完成修补，修补期间南侧人行道临时封闭。"),
    ("tag:xijiang.gov.cn,2026:4002", "江北街道开展汛后环境整治", "2026-05-28T15:00:00+08:00",
     "江北街道组织干部群众300余人，对滨江路沿线积水退后的淤泥、垃圾进行集中清理。"),
]


def rss_xml() -> str:
    items = "\n".join(
        f"""<item><title>{t}</title><link>http://gov.example/zwgk/{g}.html</link>
<guid isPermaLink="false">{g}</guid><pubDate>{d}</pubDate><author>青川市人民政府办公室</author>
<category>政务公开</category><description><![CDATA[{b}]]></description></item>"""
        for g, t, d, b in RSS_ITEMS
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>青川市人民政府 - 政务公开</title><link>http://gov.example/</link>
<description>青川市人民政府门户网站</description><language>zh-cn</language>
{items}
</channel></rss>
"""


def atom_xml() -> str:
    entries = "\n".join(
        f"""<entry><id>{i}</id><title>{t}</title><link href="/gov/xijiang/{i.rsplit(':', 1)[1]}.html"/>
<updated>{d}</updated><published>{d}</published><author><name>西江区人民政府</name></author>
<summary type="text">{s}</summary></entry>"""
        for i, t, d, s in ATOM_ENTRIES
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>西江区人民政府 信息公开</title>
<id>tag:xijiang.gov.cn,2026:feed</id><updated>2026-05-28T17:30:00+08:00</updated>
{entries}
</feed>
"""


# -- Weibo (m.weibo.cn API) -----------------------------------------------------------
USERS = {
    "5001001": {"id": 5001001, "screen_name": "青川发布", "verified": True, "verified_type": 1,
                "followers_count": 862000, "follow_count": 320, "statuses_count": 28650},
    "5001002": {"id": 5001002, "screen_name": "西江区发布", "verified": True, "verified_type": 1,
                "followers_count": 153000, "follow_count": 210, "statuses_count": 9120},
    "6002001": {"id": 6002001, "screen_name": "青川吃喝玩乐", "verified": True, "verified_type": 0,
                "followers_count": 410000, "follow_count": 880, "statuses_count": 15230},
    "6002002": {"id": 6002002, "screen_name": "江北小王同学", "verified": False, "verified_type": -1,
                "followers_count": 356, "follow_count": 402, "statuses_count": 1280},
    "6002003": {"id": 6002003, "screen_name": "白石镇阿芳", "verified": False, "verified_type": -1,
                "followers_count": 89, "follow_count": 150, "statuses_count": 640},
}
EMO = '<span class="url-icon"><img alt="[{0}]" src="https://h5.sinaimg.cn/m/emoticon/icon/default/d_{0}.png" style="width:1em; height:1em;" /></span>'
TCN = '<a data-url="http://t.cn/A6qcJx7Y" href="https://m.weibo.cn/search?containerid=231522&q=http%3A%2F%2Ft.cn%2FA6qcJx7Y" ><span class="surl-text">网页链接</span></a>'


def blog(mid: str, uid: str, created: str, text: str, reposts: int, comments: int, likes: int,
         **extra) -> dict:
    return {"id": mid, "mid": mid, "bid": "Qc" + mid[-6:], "created_at": created, "text": text,
            "source": extra.pop("source", "iPhone客户端"), "reposts_count": reposts,
            "comments_count": comments, "attitudes_count": likes, "user": USERS[uid],
            "region_name": extra.pop("region_name", "发布于 四川"), **extra}


RUMOR = ("【扩散】龙潭水库今晚开闸泄洪，白石镇、桃源乡的亲人们赶紧往高处转移！！！"
         "宁可信其有不可信其无 " + EMO.format("泪") + EMO.format("泪"))
BLOGS_USER1_P1 = [
    blog("5023000000000001", "5001001", "Thu May 28 08:30:00 +0800 2026",
         "【#青川暴雨#最新情况】截至28日6时，<a href='/n/西江区发布'>@西江区发布</a> 滨江路交通已基本恢复，"
         "西江大桥双向通行正常，未造成人员伤亡。详情：" + TCN, 356, 128, 2045),
    blog("5023000000000002", "5001001", "Wed May 27 23:40:00 +0800 2026",
         "【辟谣】网传“龙潭水库今晚开闸泄洪，白石镇将被淹”不实！龙潭水库当前水位低于汛限水位，无泄洪计划。"
         "请不信谣、不传谣。" + EMO.format("心"), 1820, 566, 9900),
    blog("5023000000000003", "5001001", "Wed May 27 18:05:00 +0800 2026",
         "【防汛】市防汛抗旱指挥部决定自5月27日18时起启动防汛Ⅳ级应急响应，请市民减少不必要外出。", 88, 20, 310,
         isTop=1),
]
BLOGS_USER1_P2 = [
    blog("5022000000000004", "5001001", "Tue May 26 10:00:00 +0800 2026",
         "南山县龙潭水库除险加固工程完工，下游4万群众防洪安全更有保障。" + EMO.format("赞"), 40, 8, 260),
]
LONG_TEXT = ("【汛后提示】5月27日强降雨后，西江区组织住建、城管、街道对辖区道路、桥梁、地下通道开展全面排查。"
             "经排查，滨江路两处雨水井盖松动已更换，江北街道一处地下通道积水已抽排完毕。"
             "西江大桥南侧人行道裂缝经检测为桥面铺装层开裂，不影响结构安全，将于5月30日前完成修补，修补期间南侧人行道临时封闭，"
             "请市民绕行北侧人行道。如发现道路、井盖、路灯等设施损坏，请拨打12345热线或在“青川市民心声”留言。")
BLOGS_USER2_P1 = [
    blog("5023000000000101", "5001002", "Thu May 28 17:35:00 +0800 2026",
         "【情况通报】西江大桥南侧人行道附近裂缝为桥面铺装层开裂，不影响桥梁主体结构安全，将于5月30日前完成修补。",
         95, 60, 800),
    blog("5023000000000102", "5001002", "Thu May 28 18:10:00 +0800 2026",
         LONG_TEXT[:100] + '...<a href="/status/5023000000000102">全文</a>', 20, 15, 120, isLongText=True),
]
SEARCH_P1 = [
    blog("5023000000000201", "6002003", "Wed May 27 22:10:00 +0800 2026", RUMOR, 2300, 890, 1200,
         source="HUAWEI Mate 60"),
    blog("5023000000000202", "6002002", "5分钟前",
         "滨江路这水也太深了吧 " + EMO.format("吃惊") + " 车都漂起来了，青川今年雨真大", 12, 30, 66,
         source="Redmi K70"),
    blog("5023000000000203", "6002001", "昨天 21:15",
         "转发微博", 5, 1, 10,
         retweeted_status=blog("5023000000000204", "6002003", "Wed May 27 22:11:00 +0800 2026",
                               RUMOR + " 转给白石镇的朋友", 300, 50, 90)),
]
COMMENTS = [
    {"id": 4900000000000001, "created_at": "Wed May 27 22:20:00 +0800 2026",
     "text": "真的吗？我妈就住白石镇" + EMO.format("泪"), "like_count": 12, "user": USERS["6002002"]},
    {"id": 4900000000000002, "created_at": "Wed May 27 22:35:00 +0800 2026",
     "text": "已经有人辟谣了，别传了", "like_count": 88, "user": USERS["6002001"]},
    {"id": 4900000000000003, "created_at": "Wed May 27 23:50:00 +0800 2026",
     "text": "<a href='/n/青川发布'>@青川发布</a> 官方已经发了，假的", "like_count": 40,
     "reply_id": 4900000000000001, "user": USERS["5001001"]},
]
REPOSTS = [
    blog("5023000000000301", "6002002", "Wed May 27 22:30:00 +0800 2026", "//白石镇阿芳:扩散！", 0, 0, 3),
    blog("5023000000000302", "6002001", "Wed May 27 22:45:00 +0800 2026", "求证，有没有官方消息？", 2, 5, 9),
]


def container(blogs: list[dict], page: int) -> dict:
    return {"ok": 1, "data": {"cardlistInfo": {"containerid": "x", "page": page + 1, "total": 60},
                              "cards": [{"card_type": 9, "itemid": b["id"], "mblog": b} for b in blogs]}}


def search_container(blogs: list[dict]) -> dict:
    return {"ok": 1, "data": {"cardlistInfo": {"page": 2},
                              "cards": [{"card_type": 11, "card_group": [
                                  {"card_type": 9, "mblog": b} for b in blogs]}]}}


# -- the message board (青川市民心声) ---------------------------------------------------------
MESSAGES = [
    ("M20260528001", "滨江路积水点每年都淹，什么时候彻底整改？", "西江区滨江路与江北街交叉口每逢大雨必淹，今年又泡了十几辆车，希望相关部门拿出根治方案。",
     "江北居民", "2026-05-28 09:20:00", "西江区住房和城乡建设局", "2026-05-28 16:00:00",
     "您好！滨江路排水管网改造已列入2026年城市更新项目，计划7月开工，届时将新增泵站一座。感谢您的关注。"),
    ("M20260528002", "人民广场夜市噪音扰民怎么办", "夜市还没开业就在试音响，晚上十一点还很吵，东城区人民广场附近的居民怎么休息？",
     "东城区住户", "2026-05-28 08:05:00", None, None, None),
    ("M20260527003", "南山古镇停车难", "周末去南山古镇，停车场全满，路边乱停车严重，建议增加临时停车场和接驳车。",
     "自驾游客", "2026-05-27 19:40:00", "南山县文化和旅游局", "2026-05-28 10:30:00",
     "您好，我局已协调在古镇东入口新增临时停车位200个，周末开通县城至古镇的免费接驳车。"),
    ("M20260527004", "白石镇谣言让老人很恐慌", "昨晚群里传水库泄洪，白石镇好多老人连夜往山上跑，希望政府加强辟谣宣传。",
     "白石镇村民", "2026-05-27 23:55:00", "南山县人民政府办公室", "2026-05-28 07:30:00",
     "感谢反映。县政府已于27日23时30分发布辟谣信息，并组织镇村干部入户解释，对造谣者公安机关已介入调查。"),
    ("M20260526005", "青龙镇到新医院的公交", "青龙镇到市人民医院新院区没有直达公交，希望开通专线。",
     "青龙镇李姐", "2026-05-26 12:00:00", "青川市交通运输局", "2026-05-27 09:00:00",
     "您好，新院区启用时将同步开通青龙镇至新院区公交专线，具体线路届时公布。"),
    ("M20260526006", "西江大桥裂缝", "西江大桥南侧人行道有裂缝，担心安全。", "上班族", "2026-05-26 08:30:00",
     None, None, None),
]


def board_page(rows: list[tuple], page: int, total: int) -> dict:
    data = []
    for mid, title, content, author, created, dept, rtime, rtext in rows:
        entry = {"msgId": mid, "title": title, "content": content, "nickname": author,
                 "createTime": created, "area": "青川市", "status": "已回复" if dept else "办理中",
                 "views": 100 + len(content), "detailUrl": f"/board/detail/{mid}.html"}
        if dept:
            entry["reply"] = {"dept": dept, "replyTime": rtime, "content": rtext}
        data.append(entry)
    return {"code": 0, "msg": "success", "data": {"total": total, "page": page, "list": data}}


def write(path: str, text: str, encoding: str = "utf-8") -> None:
    target = ROOT / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text.encode(encoding))


def main() -> None:
    for page, ids in enumerate(LIST_PAGES, 1):
        write(f"news/list_{page}.html", list_html(page, ids))
    for a in ARTICLES:
        write(f"news/2026/{a['id']}.html", article_html(a))
    write("private/internal-notice.html", "<html><body><p>内部通知：不应被抓取。</p></body></html>")
    write("robots.txt", "User-agent: *\nDisallow: /private/\nDisallow: /bbs/admin.php\n")

    for page, tids in enumerate(FORUM_PAGES, 1):
        write(f"bbs/forum-2-{page}.html", forum_list_html(page, tids), "gbk")
    for t in THREADS:
        page = thread_html(t, 1)
        if t["tid"] == "2005":  # no charset anywhere: neither header (routes.json) nor meta
            page = page.replace('<meta http-equiv="Content-Type" content="text/html; charset=gbk" />\n', "")
        write(f"bbs/thread-{t['tid']}-1-1.html", page, "gbk")
        if t.get("page2"):
            write(f"bbs/thread-{t['tid']}-2-1.html", thread_html(t, 2), "gbk")
    write("bbs/forum-7-1.html", forum_list_html(len(FORUM_PAGES), ["2007"]), "gbk")
    write("bbs/thread-2007-1-1.html", thread_html(FURNITURE_THREAD, 1), "gbk")
    write("bbs/forum-9-1.html", forum_list_html(1, ["2001"]).replace(
        '<tbody id="normalthread_2001">', '<tbody id="normalthread_2001"><tr><th><a class="s xst" href="thread-2001-1-1.html">'
        "<b>未闭合的标签<i>").replace("</table>", "", 1), "gbk")

    write("gov/rss.xml", rss_xml())
    write("gov/atom.xml", atom_xml())
    write("gov/broken.xml", rss_xml().replace("</channel></rss>", "").replace("<item>", "<item><title>未闭合", 1))

    w = "weibo/api/container"
    write(f"{w}/user-5001001-p1.json", json.dumps(container(BLOGS_USER1_P1, 1), ensure_ascii=False))
    write(f"{w}/user-5001001-p2.json", json.dumps(container(BLOGS_USER1_P2, 2), ensure_ascii=False))
    write(f"{w}/user-5001001-p3.json", json.dumps({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}, ensure_ascii=False))
    write(f"{w}/user-5001002-p1.json", json.dumps(container(BLOGS_USER2_P1, 1), ensure_ascii=False))
    write(f"{w}/user-5001002-p2.json", json.dumps({"ok": 0, "msg": "这里还没有内容"}, ensure_ascii=False))
    write(f"{w}/search-qingchuan-p1.json", json.dumps(search_container(SEARCH_P1), ensure_ascii=False))
    write(f"{w}/search-qingchuan-p2.json", '{"ok":1,"data":{"cards":[{"card_type":9,"mblog":{"id":"50230000')
    write("weibo/api/comments/5023000000000201-p1.json", json.dumps(
        {"ok": 1, "data": {"data": COMMENTS, "total_number": 890, "max": 1}}, ensure_ascii=False))
    write("weibo/api/reposts/5023000000000201-p1.json", json.dumps(
        {"ok": 1, "data": {"data": REPOSTS, "total_number": 2, "max": 1}}, ensure_ascii=False))
    write("weibo/api/comments/5023000000000002-p1.json", json.dumps(
        {"ok": 1, "data": {"data": [COMMENTS[1]], "total_number": 566, "max": 1}}, ensure_ascii=False))
    write("weibo/api/reposts/5023000000000002-p1.json", json.dumps(
        {"ok": 1, "data": {"data": [], "total_number": 0, "max": 0}}, ensure_ascii=False))
    write("weibo/api/comments/5023000000000001-p1.json", json.dumps(
        {"ok": 1, "data": {"data": [COMMENTS[2]], "total_number": 128, "max": 1}}, ensure_ascii=False))
    write("weibo/api/reposts/5023000000000001-p1.json", json.dumps(
        {"ok": 1, "data": {"data": [], "max": 0}}, ensure_ascii=False))
    write("weibo/statuses/extend-5023000000000102.json", json.dumps(
        {"ok": 1, "data": {"ok": 1, "longTextContent": LONG_TEXT, "reposts_count": 20,
                           "comments_count": 15, "attitudes_count": 120}}, ensure_ascii=False))
    write("weibo/login-wall.json", json.dumps(
        {"ok": -100, "url": "https://passport.weibo.cn/signin/welcome?entry=mweibo&r=https%3A%2F%2Fm.weibo.cn%2F"}))
    write("weibo/visitor.html", "<!DOCTYPE html><html><head><title>Sina Visitor System</title></head>"
          "<body><script>window.location='https://passport.weibo.com/visitor/visitor';</script></body></html>")

    write("board/api/messages-p1.json", json.dumps(board_page(MESSAGES[:3], 1, 8), ensure_ascii=False))
    write("board/api/messages-p2.json", json.dumps(board_page(MESSAGES[3:], 2, 8), ensure_ascii=False))
    write("board/api/messages-p3.json", '{"code": 0, "data": {"list": [{"msgId": "M2026')


ROUTES = {
    "_doc": "Fixture server routes: exact 'path?query' (query decoded, keys sorted) or 'prefix'. "
            "Options: file, status, content_type, delay (s), fail_first (n answers of 500), redirect.",
    "exact": {
        "/news/2026/1008.html": {"fail_first": 1},
        "/news/2026/1009.html": {"delay": 4},
        "/bbs/thread-2006-1-1.html": {"content_type": "text/html; charset=utf-8"},
        "/bbs/thread-2005-1-1.html": {"content_type": "text/html"},
        "/weibo/api/container/getIndex?containerid=1076035001001&page=1&type=uid&value=5001001":
            {"file": "weibo/api/container/user-5001001-p1.json"},
        "/weibo/api/container/getIndex?containerid=1076035001001&page=2&type=uid&value=5001001":
            {"file": "weibo/api/container/user-5001001-p2.json"},
        "/weibo/api/container/getIndex?containerid=1076035001001&page=3&type=uid&value=5001001":
            {"file": "weibo/api/container/user-5001001-p3.json"},
        "/weibo/api/container/getIndex?containerid=1076035001002&page=1&type=uid&value=5001002":
            {"file": "weibo/api/container/user-5001002-p1.json"},
        "/weibo/api/container/getIndex?containerid=1076035001002&page=2&type=uid&value=5001002":
            {"file": "weibo/api/container/user-5001002-p2.json"},
        "/weibo/api/container/getIndex?containerid=100103type=1&q=青川&page=1&page_type=searchall":
            {"file": "weibo/api/container/search-qingchuan-p1.json"},
        "/weibo/api/container/getIndex?containerid=100103type=1&q=青川&page=2&page_type=searchall":
            {"file": "weibo/api/container/search-qingchuan-p2.json"},
        "/weibo/statuses/extend?id=5023000000000102":
            {"file": "weibo/statuses/extend-5023000000000102.json"},
        "/board/api/messages?page=1&size=3": {"file": "board/api/messages-p1.json"},
        "/board/api/messages?page=2&size=3": {"file": "board/api/messages-p2.json"},
        "/board/api/messages?page=3&size=3": {"file": "board/api/messages-p3.json"},
    },
    "prefix": {
        "/weibo-locked/": {"file": "weibo/login-wall.json"},
        "/weibo-432/": {"status": 432, "file": "weibo/login-wall.json"},
        "/weibo-redirect/": {"redirect": "https://passport.weibo.cn/signin/login?r=https%3A%2F%2Fm.weibo.cn%2F"},
        "/weibo-visitor/": {"file": "weibo/visitor.html"},
        "/down/": {"status": 503, "file": "robots.txt"},
    },
}
for _mid in ("5023000000000201", "5023000000000002", "5023000000000001"):
    ROUTES["exact"][f"/weibo/comments/hotflow?id={_mid}&max_id_type=0&mid={_mid}"] = {
        "file": f"weibo/api/comments/{_mid}-p1.json"}
    ROUTES["exact"][f"/weibo/api/statuses/repostTimeline?id={_mid}&page=1"] = {
        "file": f"weibo/api/reposts/{_mid}-p1.json"}


if __name__ == "__main__":
    main()
    (Path(__file__).parent / "routes.json").write_text(
        json.dumps(ROUTES, ensure_ascii=False, indent=1) + "\n", "utf-8")
