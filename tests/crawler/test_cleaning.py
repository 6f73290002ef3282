"""Normalise, boilerplate, near-duplicates and region tagging as plain functions."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.boilerplate import BoilerplateStripper, is_ad_line
from crawler.gazetteer import RegionTagger
from crawler.minhash import NearDuplicateIndex, features, signature, similarity
from crawler.text import emoticons, html_to_text, normalise_text
from store.base import PostFilter
from store.sqlite import SQLiteStore
from tests.crawler.conftest import GAZETTEER, WWW, forum_settings, run_crawl, write_config

WEIBO_HTML = (
    "<a href='/n/青川发布'>@青川发布</a>：滨江路积水"
    '<span class="url-icon"><img alt="[泪]" src="d_lei.png"></span>'
    '<a data-url="http://t.cn/A6qcJx7Y" href="https://m.weibo.cn/search?q=x">'
    '<span class="surl-text">网页链接</span></a>'
)


def clean(markup: str) -> str:
    return normalise_text(html_to_text(markup))


def test_html_becomes_text_with_line_breaks() -> None:
    assert clean("<p>第一段</p><p>第二段<br>第二行</p>") == "第一段\n第二段\n第二行"


def test_scripts_styles_and_comments_are_dropped() -> None:
    assert clean("<p>正文<script>var a=1;</script><style>p{}</style><!-- x --></p>") == "正文"


def test_emoticon_images_become_codes() -> None:
    assert "[泪]" in clean(WEIBO_HTML)
    assert emoticons("[泪][泪]不要[doge]") == ["[泪]", "[doge]"]


def test_short_links_are_kept_as_urls() -> None:
    text = clean(WEIBO_HTML)
    assert "http://t.cn/A6qcJx7Y" in text
    assert "网页链接" not in text


def test_mentions_keep_their_text() -> None:
    assert clean(WEIBO_HTML).startswith("@青川发布：")


def test_full_width_letters_digits_become_half_width_but_punctuation_stays() -> None:
    assert normalise_text("Ｈｅｌｌｏ　１２３，青川！") == "Hello 123，青川！"


def test_whitespace_is_collapsed() -> None:
    assert normalise_text("  a \t b\u00a0c \n\n\n d  ") == "a b c\nd"


def test_broken_markup_still_gives_text() -> None:
    assert clean("<p>未闭合<b>加粗<div>块</p></i>") == "未闭合加粗\n块"


def test_realty_ad_lines_are_recognised() -> None:
    assert is_ad_line("【广告】首付15万买地铁三室！青川·江悦府 售楼热线：0838-6123456")
    assert is_ad_line("急用钱？无抵押信用贷款 当天到账 加微信 qcdai8888 详询")
    assert not is_ad_line("市住建局：今年首付比例政策保持不变，青川房价稳中有降。")


def test_article_tail_ad_related_block_and_footer_are_stripped() -> None:
    html = (WWW / "news/2026/1001.html").read_text("utf-8")
    text = clean(html)
    stripped, fired = BoilerplateStripper().clean(text)
    assert "首付" not in stripped
    assert "相关阅读" not in stripped
    assert "ICP备" not in stripped and "版权所有" not in stripped
    assert "消防救援支队" in stripped
    assert {"ad", "tail_block"} <= set(fired)


def test_related_marker_at_the_very_start_is_not_a_tail() -> None:
    text, fired = BoilerplateStripper().clean(
        "相关新闻：青川市召开防汛会议\n会议要求各区县做好准备。"
    )
    assert "会议要求" in text
    assert "tail_block" not in fired


def test_source_patterns_remove_matching_lines() -> None:
    stripper = BoilerplateStripper(extra_patterns=[r"^本报讯"])
    assert stripper.clean("本报讯（记者 李明）\n正文内容在这里。")[0] == "正文内容在这里。"


RAIN = "青川市西江区滨江路昨晚发生严重内涝，多辆汽车被淹，消防部门连夜排水，目前交通已经恢复。"


def test_near_copies_are_similar_and_topics_are_not() -> None:
    a = signature(features(RAIN))
    b = signature(features(RAIN.replace("已经恢复。", "已恢复正常。")))
    c = signature(features("西江区滨江路昨晚发生内涝，目前交通已经恢复。"))
    assert similarity(a, b) >= 0.7
    assert similarity(a, c) < 0.7


def test_index_links_to_the_first_copy() -> None:
    index = NearDuplicateIndex(threshold=0.7)
    index.add("news:1", signature(features(RAIN)))
    index.add("news:2", signature(features(RAIN + "（来源：青川日报）")))
    found = index.find(signature(features(RAIN.replace("昨晚", "昨天晚上"))))
    assert found is not None and found[0] == "news:1"


def test_index_state_round_trips_and_stays_bounded() -> None:
    index = NearDuplicateIndex(capacity=2)
    for i, text in enumerate(
        [RAIN, "南山县白石镇脐橙大丰收，果农笑开颜，收购价比去年高两成", RAIN + "!"]
    ):
        index.add(f"p{i}", signature(features(text)))
    assert len(index) == 2
    copy = NearDuplicateIndex()
    copy.load(index.dump())
    assert copy.find(signature(features(RAIN)))[0] == "p2"


def test_region_tags_use_tokens_not_substrings() -> None:
    tagger = RegionTagger(GAZETTEER)
    assert tagger.tag("昨晚西江大桥附近滨江路积水") == ["西江区"]
    assert tagger.tag("广东城市发展论坛") == []
    assert tagger.tag("东城区人民广场", "白石镇") == ["东城区", "南山县"]


# -- ad blocks appended to posts --------------------------------------------------------
_BODY = "鼓楼广场夜市今晚开业，摊位200个，营业到凌晨一点。市场监管部门提醒市民注意食品安全。"


@pytest.mark.parametrize(
    "block",
    [
        # a real-estate ad whose lines, one by one, mostly look harmless
        "首付12万买地铁三室，鹭川·湖畔壹号\n精装现房，地铁口200米\n售楼热线：0879-6543210",
        # a label, a development's name (no ad word at all), the offer, the number
        "【推广】\n鹭川·湖畔壹号\n地铁口精装三房 首付10万起\n咨询电话：0879-8765432",
        # a site's own furniture ending in its URL
        "本网新闻热线：0879-2233445\n投稿邮箱：news@luchuan.example\n鹭川新闻网 http://news.luchuan.example/",
    ],
)
def test_an_appended_ad_block_goes_as_a_whole(block: str) -> None:
    text, fired = BoilerplateStripper().clean(f"{_BODY}\n{block}")
    assert text == _BODY and "ad_block" in fired


@pytest.mark.parametrize(
    "text",
    [
        "小区门口的排水沟堵了半个月，下雨就漫到楼道里。\n多次拨打物业电话和12345热线都没人管\n"
        "物业电话：0879-6667788",
        "本人投诉：江南大道二手车行卖给我的车是泡水车。\n拨打市场监管投诉电话0879-12315也没有回音。\n"
        "商家电话13812345678",
        "详见通知原文\nhttp://www.luchuan.gov.example/zwgk/1.html",
    ],
)
def test_a_complaint_citing_a_phone_number_is_kept(text: str) -> None:
    assert BoilerplateStripper().clean(text) == (text, [])


def test_canonical_url() -> None:
    from crawler.text import canonical_url

    url = "HTTP://News.Example:80/a/1.html?utm_source=rss&b=2&a=1&from=atom#top"
    assert canonical_url(url) == "http://news.example/a/1.html?a=1&b=2"
    assert canonical_url("http://m.example/n/1.html", "http://news.example/a/1.html") == (
        "http://news.example/a/1.html"
    )
    assert canonical_url("http://x.example/p?id=3", "javascript:void(0)") == (
        "http://x.example/p?id=3"
    )


# -- forum furniture (Discuz! and the like) ---------------------------------------------
_OWN = "今天去看了，滨江路积水已经退了。"


def strip(text: str) -> tuple[str, list[str]]:
    return BoilerplateStripper().clean(text)


@pytest.mark.parametrize(
    "stamp",
    ["本帖最后由 望湖老张 于 2026-12-3 21:05 编辑", "[ 本帖最后由 xx 于 2026-12-03 21:05 编辑 ]"],
)
def test_the_edit_stamp_is_removed(stamp: str) -> None:
    assert strip(f"{stamp}\n{_OWN}") == (_OWN, ["edit_stamp"])


def test_the_edit_stamp_from_markup_is_removed() -> None:
    html = '<i class="pstatus"> 本帖最后由 望湖老张 于 2026-12-3 21:05 编辑 </i><br />' + _OWN
    assert strip(clean(html))[0] == _OWN


def test_an_ad_block_under_a_dash_rule_goes_as_a_whole() -> None:
    text = f"{_OWN}\n--------------------\n本地装修找老王，十年口碑\n电话：139 0000 1234"
    assert strip(text) == (_OWN, ["ad_block"])


def test_an_ad_block_under_an_equals_rule_ending_in_a_url_goes() -> None:
    text = f"{_OWN}\n==========\n专业开锁 换锁芯 24小时上门\n欢迎访问 http://kaisuo.example.com"
    assert strip(text) == (_OWN, ["ad_block"])


@pytest.mark.parametrize(
    "signature",
    [
        "来自 iPhone 客户端",
        "发自我的 iPhone",
        "—— 来自 掌上岑江 Android 版",
        "来自: 手机版",
        "来自小米手机",
    ],
)
def test_a_mobile_client_signature_is_removed(signature: str) -> None:
    assert strip(f"{_OWN}\n{signature}") == (_OWN, ["signature"])


def test_a_signature_after_a_space_on_the_last_line_is_removed() -> None:
    assert strip(f"{_OWN} 来自 iPhone 客户端") == (_OWN, ["signature"])


def test_a_quoted_post_is_not_the_reply_s_own_text() -> None:
    text = (
        "山里人 发表于 2026-12-3 20:11\n龙潭水库今晚开闸，白石镇要淹了...\n"
        "别信谣，南山县已经辟谣了。"
    )
    assert strip(text) == ("别信谣，南山县已经辟谣了。", ["quote"])


def test_a_quoted_post_in_markup_is_dropped_whole() -> None:
    html = (
        '<div class="quote"><blockquote><font size="2"><a href="forum.php?mod=redirect">'
        '<font color="#999999">山里人 发表于 2026-12-3 20:11</font></a></font><br />'
        "龙潭水库今晚开闸<br />白石镇要淹了</blockquote></div><br />别信谣，南山县已经辟谣了。"
    )
    assert clean(html) == "别信谣，南山县已经辟谣了。"


def test_a_blockquote_without_a_post_header_is_kept() -> None:
    html = "<p>转一下通知：</p><blockquote>龙潭水库水位正常，无泄洪计划。</blockquote>"
    assert "无泄洪计划" in clean(html)


@pytest.mark.parametrize("reply", ["回复 3# 张三\n你说的不对。", "回复 3# 张三 你说的不对。"])
def test_the_reply_prefix_is_removed(reply: str) -> None:
    assert strip(reply) == ("你说的不对。", ["reply_prefix"])


def test_attachment_captions_are_removed() -> None:
    text = f"{_OWN}\nIMG_0528.jpg (52.3 KB, 下载次数: 0)\n下载附件\n2026-5-28 20:05 上传"
    assert strip(text) == (_OWN, ["attachment"])


@pytest.mark.parametrize(
    "notice",
    [
        "提示: 作者被禁止或删除 内容自动屏蔽",
        "提示: 该帖被管理员或版主屏蔽",
        "该帖被管理员或版主屏蔽",
    ],
)
def test_a_masked_post_is_reported_as_masked(notice: str) -> None:
    assert strip(notice) == ("", ["masked"])


@pytest.mark.parametrize(
    "text",
    [
        "我打了 12345 电话反映，还没人回。",
        "水务局的通知原文：http://www.qingchuan.gov.example/swj/tz/20260528.html",
        # a citizen's addendum under a rule, ending in a number, is the post's own text
        f"{_OWN}\n--------------------\n我打了 12345 电话反映\n物业电话：0879-6667788",
        f"{_OWN}\n-----\n详见通知原文\nhttp://www.luchuan.gov.example/zwgk/1.html",
        "来自江北的朋友说他们那边也停水了",
        # an article's own date line is not a quote header; an image URL is a citation
        "本文发表于 2026-12-03\n滨江路排水改造工程今天开工。",
        f"{_OWN}\n现场照片：\nhttp://img.example.com/2026/binjiang.jpg",
        "回复一下楼主，这事我也遇到过。",
    ],
)
def test_forum_rules_keep_the_author_s_own_words(text: str) -> None:
    assert strip(text) == (text, [])


def test_a_discuz_thread_crawled_through_scrapy_is_stored_clean(
    server: str, tmp_path: Path
) -> None:
    """GBK Discuz! page on 127.0.0.1 with every kind of furniture (generate.py, 2007)."""
    settings = {**forum_settings(server), "start_urls": [f"{server}/bbs/forum-7-1.html"]}
    # Discuz shows a masked floor's notice in div.locked instead of td.t_f (docs/sources.md)
    settings["thread"] = {**settings["thread"], "content": "td.t_f, div.locked"}
    config = write_config(tmp_path, [{"name": "qc-bbs", "kind": "site", "settings": settings}])
    done, _ = run_crawl(config)
    store = SQLiteStore(tmp_path / "tingfeng.db")
    try:
        posts = {p.native_id: p for p in store.iter_posts(PostFilter(sources=["qc-bbs"]))}
    finally:
        store.close()
    assert posts["thread-2007"].text == (
        "群里有人说龙潭水库明天上午开闸放水，白石镇河边的住户要提前搬东西，是真的吗？"
    )
    assert posts["post-30702"].text == "南山县发布刚刚辟谣了，水库水位正常，没有放水计划。"
    assert posts["post-30703"].text == "谢谢，我也看到辟谣了。"
    assert posts["post-30705"].text == (
        "我打了 12345 电话反映，工作人员说已经转给水务局核实。\n"
        "水务局的通知原文：http://www.qingchuan.gov.example/swj/tz/20260528.html"
    )
    assert posts["post-30706"].text == "转发辟谣，大家别再传了。"
    assert "post-30704" not in posts and "post-30707" not in posts  # masked by moderators
    assert done[0]["dropped"] == {"masked_post": 2}
    assert done[0]["problems"] == {}
