"""A bulletin as a Word document in GB/T 9704-2012 layout (python-docx).

A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; a 22-line × 28-character
document grid; title 二号 (22 pt) 小标宋, centred; body 三号 (16 pt) 仿宋 at an exact
28.9 pt line spacing, first lines indented two characters; headings "一、" 黑体 and "（一）"
楷体; issuer and date at the end (date four characters in from the right, issuer centred
over it); page numbers "— 1 —" in 四号宋体 at the outside corner (odd right, even left).
Every run sets the East Asian font slot as well as the Latin ones, or Word shows Chinese
text in a default font. ``[待核实]`` gaps are highlighted so no reader can miss them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from alerting.bulletins.config import BulletinsConfig
from alerting.bulletins.context import date_text

TITLE_PT = 22
BODY_PT = 16
PAGE_NUMBER_PT = 14
LINE_PT = 28.9
LINES_PER_PAGE = 22
CHARS_PER_LINE = 28
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
_HEADING1 = re.compile(r"^[一二三四五六七八九十]+、")
_HEADING2 = re.compile(r"^（[一二三四五六七八九十]+）")
#: Printed at the top of every page of a bulletin that is not approved yet.
DRAFT_MARK = "草稿·未经审核，不得对外发布"
_GAP = re.compile(r"(\[待核实[^\]]*\])")

__all__ = ["add_line", "bulletin_docx", "set_font", "write_docx"]


def set_font(run_or_style: Any, name: str, size: float | None = None, bold: bool = False) -> None:
    """Set all four font slots (ascii, hAnsi, eastAsia, cs) and the size."""
    font = run_or_style.font
    font.name = name
    if size is not None:
        font.size = Pt(size)
    font.bold = bold
    element = run_or_style.element
    rpr = element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(slot), name)


def _exact(paragraph: Any, points: float = LINE_PT) -> None:
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(points)
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)


def _grid(section: Any) -> None:
    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PT * 20)))
    # 28 characters of 16 pt (448 pt) do not fit the 156 mm (442 pt) block. Word templates
    # squeeze a character grid (charSpace -849), but LibreOffice then gives each over-wide
    # character two grid cells (14 a line). A line grid only, with the characters condensed
    # by 0.25 pt (``_defaults``: 28 x 15.75 = 441 pt), renders 28 a line in both; the 22 lines
    # a page come from the line pitch.
    grid.set(qn("w:charSpace"), "0")


def _defaults(doc: Any, font: str) -> None:
    """Document defaults: 三号 (16 pt) in the body font, condensed by 0.25 pt so 28 characters
    fill the 156 mm line (see ``_grid``)."""
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_default.append(rpr)
    for tag in ("w:rFonts", "w:sz", "w:szCs"):
        for old in rpr.findall(qn(tag)):
            rpr.remove(old)
    rfonts = OxmlElement("w:rFonts")
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(slot), font)
    rpr.insert(0, rfonts)
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), "-5")
    rpr.append(spacing)
    for tag in ("w:sz", "w:szCs"):
        size = OxmlElement(tag)
        size.set(qn("w:val"), str(BODY_PT * 2))
        rpr.append(size)


def _field(paragraph: Any, instruction: str, font: str, size: float) -> None:
    """A Word field (PAGE) as fldChar begin / instrText / separate / result / end."""
    parts = [("begin", None), (None, instruction), ("separate", None), (None, None), ("end", None)]
    for char_type, text in parts:
        run = paragraph.add_run("1" if char_type is None and text is None else "")
        set_font(run, font, size)
        if char_type:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), char_type)
            run._r.append(fld)
        elif text:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = f" {instruction} "
            run._r.append(instr)


def _page_number(footer: Any, font: str, odd: bool) -> None:
    footer.is_linked_to_previous = False
    paragraph = footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    fmt = paragraph.paragraph_format
    # "一字线" sits one character in from the outside edge of the text block.
    if odd:
        fmt.right_indent = Pt(BODY_PT)
    else:
        fmt.left_indent = Pt(BODY_PT)
    run = paragraph.add_run("— ")
    set_font(run, font, PAGE_NUMBER_PT)
    _field(paragraph, "PAGE", font, PAGE_NUMBER_PT)
    run = paragraph.add_run(" —")
    set_font(run, font, PAGE_NUMBER_PT)


def _add_text(paragraph: Any, text: str, font: str, size: float, bold: bool = False) -> None:
    for part in _GAP.split(text):
        if not part:
            continue
        run = paragraph.add_run(part)
        set_font(run, font, size, bold)
        if _GAP.fullmatch(part):
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def add_line(
    doc: Any, text: str, font: str, size: float, *, indent: bool = True, centre: bool = False
) -> Any:
    """One body paragraph at the exact line spacing, first line indented two characters."""
    paragraph = doc.add_paragraph()
    _exact(paragraph)
    if centre:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    else:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(2 * BODY_PT)
    _add_text(paragraph, text, font, size)
    return paragraph


def bulletin_docx(
    title: str,
    body: str,
    *,
    issuer: str,
    issued_on: date | None,
    config: BulletinsConfig | None = None,
    before_signature: Callable[[Any], None] | None = None,
    draft_mark: str | None = None,
) -> Any:
    """The python-docx ``Document`` of one bulletin. ``draft_mark`` (for a text not yet
    approved) is printed in red at the top of every page, so a printed draft is never taken
    for the issued bulletin."""
    cfg = config or BulletinsConfig()
    doc = Document()
    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = Mm(MARGINS_MM["top"])
    section.bottom_margin = Mm(MARGINS_MM["bottom"])
    section.left_margin = Mm(MARGINS_MM["left"])
    section.right_margin = Mm(MARGINS_MM["right"])
    section.footer_distance = Mm(28 - 7)  # page number 7 mm below the text block
    _grid(section)

    _defaults(doc, cfg.body_font)
    normal = doc.styles["Normal"]
    set_font(normal, cfg.body_font, BODY_PT)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = Pt(LINE_PT)

    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer, cfg.page_number_font, odd=True)
    _page_number(section.even_page_footer, cfg.page_number_font, odd=False)

    if draft_mark:
        for header in (section.header, section.even_page_header):
            header.is_linked_to_previous = False
            mark = header.paragraphs[0]
            mark.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = mark.add_run(draft_mark)
            set_font(run, cfg.heading_font, PAGE_NUMBER_PT)
            run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)

    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _exact(heading, 35)  # a 22 pt title needs more than the body's 28.9 pt
    _add_text(heading, title, cfg.title_font, TITLE_PT)
    _exact(doc.add_paragraph())  # one empty line between title and body

    for block in [p.strip() for p in body.split("\n\n") if p.strip()]:
        for line in block.splitlines():
            font = cfg.body_font
            if _HEADING1.match(line):
                font = cfg.heading_font
            elif _HEADING2.match(line):
                font = cfg.subheading_font
            add_line(doc, line, font, BODY_PT)

    if before_signature is not None:
        before_signature(doc)
    when = date_text(issued_on) if issued_on else ""
    _exact(doc.add_paragraph())
    _exact(doc.add_paragraph())
    if issuer:
        sign = doc.add_paragraph()
        _exact(sign)
        sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        # centred over the date: its right edge sits half the length difference further in
        offset = 4 + max((len(when) - len(issuer)) / 2, 0)
        sign.paragraph_format.right_indent = Pt(offset * BODY_PT)
        _add_text(sign, issuer, cfg.body_font, BODY_PT)
    if when:
        dated = doc.add_paragraph()
        _exact(dated)
        dated.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        dated.paragraph_format.right_indent = Pt(4 * BODY_PT)
        _add_text(dated, when, cfg.body_font, BODY_PT)

    doc.core_properties.title = title
    doc.core_properties.author = issuer
    return doc


def write_docx(doc: Any, path: Path | None = None) -> bytes:
    """Save to ``path`` (if given) and return the bytes."""
    buffer = BytesIO()
    doc.save(buffer)
    data = buffer.getvalue()
    if path is not None:
        path.write_bytes(data)
    return data
