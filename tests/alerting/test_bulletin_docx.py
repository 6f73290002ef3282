"""The .docx of a bulletin, opened again with python-docx: GB/T 9704 layout."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from tests.alerting.city import ANSWER_AT
from tingfeng.services import bulletins as svc


@pytest.fixture
def docx_path(tmp_path, city_store, city_config):
    b = svc.draft(
        city_store,
        city_config,
        "inc-lz-1",
        now=ANSWER_AT - timedelta(minutes=20),
        by="王编辑",
        kind="rebuttal",
    )
    path = tmp_path / "bulletin.docx"
    svc.export_docx(b, city_config, path)
    return b, path


def _east_asia(run) -> str | None:
    return run._element.rPr.rFonts.get(qn("w:eastAsia"))


def test_margins_page_and_grid(docx_path):
    _, path = docx_path
    doc = Document(str(path))
    s = doc.sections[0]
    assert abs(s.page_width - Mm(210)) < Mm(0.1) and abs(s.page_height - Mm(297)) < Mm(0.1)
    for side, mm in (("top", 37), ("bottom", 35), ("left", 28), ("right", 26)):
        assert abs(getattr(s, f"{side}_margin") - Mm(mm)) < Mm(0.1), side
    grid = s._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines"  # a character grid renders 14 a line in LibreOffice
    assert grid.get(qn("w:linePitch")) == "578"  # 28.9 pt
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    rpr = defaults.find(qn("w:rPr"))
    assert rpr.find(qn("w:sz")).get(qn("w:val")) == "32"
    assert rpr.find(qn("w:spacing")).get(qn("w:val")) == "-5"  # 15.75 pt x 28 fits 156 mm


def test_title_body_fonts_with_east_asian_slot(docx_path):
    b, path = docx_path
    doc = Document(str(path))
    paragraphs = [p for p in doc.paragraphs if p.text.strip()]
    title = paragraphs[0]
    assert title.text == b.title
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    for run in title.runs:
        assert run.font.size == Pt(22)
        assert run.font.name == "方正小标宋简体" and _east_asia(run) == "方正小标宋简体"
    body = paragraphs[1 : 1 + len([p for p in b.body.split("\n\n") if p.strip()])]
    assert [p.text for p in body] == [p.strip() for p in b.body.split("\n\n") if p.strip()]
    for p in body:
        assert p.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
        assert p.paragraph_format.line_spacing == Pt(28.9)
        assert p.paragraph_format.first_line_indent == Pt(32)
        for run in p.runs:
            assert run.font.size == Pt(16)
            assert _east_asia(run) == "仿宋_GB2312" and run.font.name == "仿宋_GB2312"
    # gaps stay visible: highlighted runs
    gaps = [r for p in body for r in p.runs if r.text.startswith("[待核实")]
    assert len(gaps) == len(b.placeholders) and all(r.font.highlight_color for r in gaps)
    normal = doc.styles["Normal"]
    assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"


def test_issuer_date_and_page_numbers(docx_path):
    _, path = docx_path
    doc = Document(str(path))
    texts = [p for p in doc.paragraphs if p.text.strip()]
    issuer, dated = texts[-2], texts[-1]
    assert issuer.text == "岚州市委网信办" and dated.text == "2026年6月10日"
    assert dated.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert dated.paragraph_format.right_indent == Pt(64)  # four characters in
    assert doc.settings.odd_and_even_pages_header_footer
    section = doc.sections[0]
    for footer, align in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        p = footer.paragraphs[0]
        assert p.alignment == align
        xml = p._p.xml
        assert "PAGE" in xml and 'w:fldCharType="begin"' in xml
        assert p.text.startswith("— ") and p.text.endswith(" —")
        assert all(r.font.size == Pt(14) and _east_asia(r) == "宋体" for r in p.runs)


def _render(docx: Path, out: Path) -> list[str]:
    """The PDF LibreOffice makes of ``docx``, as the text of each page (poppler's layout)."""
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(out), str(docx)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = out / (docx.stem + ".pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info.stdout), info.stdout
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return text.split("\f")[:-1]


_RENDER = pytest.mark.skipif(
    not (shutil.which("soffice") and shutil.which("pdftotext")),
    reason="LibreOffice (soffice) or poppler (pdftotext) not installed; .ci/run installs both",
)


def _cjk(line: str) -> int:
    return sum(1 for ch in line if "\u4e00" <= ch <= "\u9fff" or ch in "，。、；：“”（）《》")


@_RENDER
def test_renders_as_a_gbt9704_page(docx_path, city_config, tmp_path):
    """Rendered by LibreOffice, a long bulletin keeps the layout GB/T 9704 asks for: A4,
    at most 28 characters a line and 22 lines a page of body text, the page number
    "— N —" at the foot of every page, the draft mark at the head."""
    b, _ = docx_path
    paragraph = (
        "经向北塘区公安分局和区城市管理综合执法局核实，东门菜市场当晚发生的是摊主与执法队员"
        "之间的推搡，摔倒的摊主已送医救治，生命体征平稳，不存在网传的殴打致死情况。"
    )
    # one paragraph longer than a page (widow and orphan control keep whole short paragraphs
    # together, so a page of three-line paragraphs holds 21 lines), then a short one
    body = "\n\n".join([b.body, paragraph * 20, paragraph])
    long = b.model_copy(update={"body": body})
    path = tmp_path / "long.docx"
    svc.export_docx(long, city_config, path)
    pages = _render(path, tmp_path / "pdf")
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        assert lines[0] == "草稿·未经审核，不得对外发布", lines[:2]
        assert re.fullmatch(rf"—\s*{number}\s*—", lines[-1]), lines[-1]
        text_lines = lines[1:-1]
        assert all(_cjk(line) <= 28 for line in text_lines), max(text_lines, key=_cjk)
        assert len(text_lines) <= 22, len(text_lines)
    # a full page of body text is exactly 22 lines of 28 characters
    middle = [line.strip() for line in pages[1].splitlines() if line.strip()][1:-1]
    assert len(middle) == 22
    assert sum(_cjk(line) == 28 for line in middle) >= 18
    assert lines[1:-1], "the last page has text"


def test_draft_is_marked_on_every_page_and_approved_is_not(
    docx_path, city_store, city_config, tmp_path
):
    b, path = docx_path
    doc = Document(str(path))
    for header in (doc.sections[0].header, doc.sections[0].even_page_header):
        assert header.paragraphs[0].text == "草稿·未经审核，不得对外发布"
    body = b.body
    for gap in b.placeholders:
        body = body.replace(gap, "已核实")
    svc.edit(city_store, b.id, by="王编辑", now=ANSWER_AT, body=body)
    svc.submit(city_store, b.id, by="王编辑", now=ANSWER_AT)
    approved = svc.approve(city_store, b.id, by="赵主任", now=ANSWER_AT)
    clean = tmp_path / "approved.docx"
    svc.export_docx(approved, city_config, clean)
    assert not "".join(p.text for p in Document(str(clean)).sections[0].header.paragraphs)
