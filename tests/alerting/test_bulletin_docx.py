"""The .docx of a bulletin, opened again with python-docx: GB/T 9704 layout."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

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
    assert grid.get(qn("w:type")) == "linesAndChars"
    assert grid.get(qn("w:linePitch")) == "578"  # 28.9 pt
    assert grid.get(qn("w:charSpace")) == "0"  # pitch = 16 pt: Word and LibreOffice agree
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    assert defaults.find(qn("w:rPr")).find(qn("w:sz")).get(qn("w:val")) == "32"


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


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) not installed")
def test_renders_to_pdf(docx_path, tmp_path):
    _, path = docx_path
    out = tmp_path / "pdf"
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(out), str(path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pdf = out / "bulletin.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")


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
