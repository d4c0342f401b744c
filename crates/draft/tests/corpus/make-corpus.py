"""Writes the layout corpus (issue 21): each of the project's own example 细则 (docs/examples/*.docx,
written for this project) rendered in the layouts offices receive 细则 in, so that every reader is
measured on the same facts (the reference rubrics in rubrics/examples/). Run from the repository root:

    python3 crates/draft/tests/corpus/make-corpus.py

Layouts: `cells` (Word's "save as text": a cell a line, led by a tab), `tsv` (a row a line, cells
between tabs), `pipe` (a row a line, cells between `|`, as pasted from a web page), `aligned` (columns
aligned with spaces), `numbered` (no table: "一、项目（20分）" headings and numbered paragraphs), and
`articles` (a 考核办法 in chapters and articles: "第三条 安全生产责任落实（20分）。", the notes an
article of their own), and `pdf` (the .docx printed to PDF by LibreOffice, when it is installed: a PDF with a text layer and no
table structure, its columns only positions).
"""
import shutil
import subprocess
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
OUT = Path("crates/draft/tests/corpus")
NUMERALS = "一二三四五六七八九十"


def read(docx):
    """(paragraphs before the table, the table's rows as lists of cells of paragraphs, after)."""
    body = ET.fromstring(zipfile.ZipFile(docx).read("word/document.xml")).find(W + "body")
    before, rows, after, seen = [], [], [], False
    for el in body:
        if el.tag == W + "p":
            t = "".join(n.text or "" for n in el.iter(W + "t"))
            (after if seen else before).append(t)
        elif el.tag == W + "tbl" and not seen:
            seen = True
            for tr in el.findall(W + "tr"):
                rows.append([["".join(n.text or "" for n in p.iter(W + "t")) for p in tc.findall(W + "p")]
                             for tc in tr.findall(W + "tc")])
    return before, rows, after


def chinese(n):
    """3 → 三, 12 → 十二."""
    tens, units = divmod(n, 10)
    return ("" if tens == 0 else ("十" if tens == 1 else NUMERALS[tens - 1] + "十")) + ("" if units == 0 else NUMERALS[units - 1])


def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def pad(s, n):
    return s + " " * max(0, n - width(s))


def one_line(cell):
    return "".join(p.strip() for p in cell if p.strip())


def render(name, before, rows, after):
    head = [p for p in before if p.strip()]
    tail = [p for p in after if p.strip()]
    out = {}
    # cells: a cell a line led by a tab; a cell's later paragraphs on lines of their own.
    lines = head + [""]
    for r in rows:
        for c in r:
            paras = [p for p in c if p.strip()] or [""]
            lines.append("\t" + paras[0])
            lines.extend(paras[1:])
    out["cells"] = lines + [""] + tail
    # tsv and pipe: a row a line.
    out["tsv"] = head + [""] + ["\t".join(one_line(c) for c in r) for r in rows] + [""] + tail
    pipe = ["| " + " | ".join(one_line(c) for c in r) + " |" for r in rows]
    pipe.insert(1, "|" + "|".join("---" for _ in rows[0]) + "|")
    out["pipe"] = head + [""] + pipe + [""] + tail
    # aligned: every column but the last padded to its widest first line; a cell's later paragraphs
    # continue under the last column.
    n = len(rows[0])
    widths = [max(width(([p for p in r[i] if p.strip()] or [""])[0]) for r in rows if i < len(r)) + 2
              for i in range(n - 1)]
    lines = head + [""]
    for r in rows:
        cells = [[p for p in c if p.strip()] or [""] for c in r]
        depth = max(len(c) for c in cells)
        for k in range(depth):
            parts = [pad(cells[i][k] if k < len(cells[i]) else "", widths[i]) for i in range(n - 1)]
            last = cells[n - 1][k] if n - 1 < len(cells) and k < len(cells[n - 1]) else ""
            lines.append(("".join(parts) + last).rstrip())
    out["aligned"] = lines + [""] + tail
    # numbered: no table. A two-level table: "一、" for its first level, "（一）…（N分）" for its second.
    header = [one_line(c) for c in rows[0]]
    two_level = "二级指标" in header
    lines, first, second = head + [""], 0, 0
    for r in rows[1:]:
        cells = {h: c for h, c in zip(header, r)}
        maxc = one_line(cells.get("分值", []))
        at_most = f"（{maxc if maxc.endswith('分') else maxc + '分'}）" if maxc and maxc not in ("—", "-") else ""
        if two_level:
            top = one_line(cells.get("一级指标", []))
            if top:
                lines.append(f"{NUMERALS[first]}、{top}")
                first, second = first + 1, 0
            lines.append(f"（{NUMERALS[second]}）{one_line(cells.get('二级指标', []))}{at_most}")
            second += 1
        else:
            lines.append(f"{NUMERALS[first]}、{one_line(cells.get('考核项目', cells.get(header[1], [])))}{at_most}")
            first += 1
        detail = cells.get(header[-1], [])
        lines.extend(p.strip() for p in detail if p.strip())
    out["numbered"] = lines + [""] + tail
    # articles: a 考核办法 — chapters, articles; an item's article starts with its name and maximum,
    # the notes are articles of their own.
    articles = [head[-1] if head else "", "第一章 总则",
                "第一条 为推动安全生产责任落实，根据有关规定，制定本办法。",
                "第二条 本办法适用于本级安全生产委员会成员单位。", "第二章 考核内容与评分"]
    n = 3
    for line in lines[len(head) + 1:]:
        if line and line[0] in NUMERALS and "、" in line[:3]:
            articles.append(f"第{chinese(n)}条 {line.split('、', 1)[1]}。")
            n += 1
        elif line:
            articles.append(line)
    notes = "".join(tail).replace("备注：", "", 1)
    articles += ["第三章 考核结果", f"第{chinese(n)}条 {notes}"]
    out["articles"] = articles
    for layout, text in out.items():
        (OUT / f"{name}.{layout}.txt").write_text("\n".join(text) + "\n", encoding="utf-8")


for docx in sorted(Path("docs/examples").glob("*.docx")):
    before, rows, after = read(docx)
    if rows and len(rows[0]) == 4:
        render(docx.stem, before, rows, after)
        soffice = shutil.which("soffice")
        if soffice:
            with tempfile.TemporaryDirectory() as tmp:
                subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless",
                                "--convert-to", "pdf", "--outdir", tmp, str(docx)], check=True,
                               capture_output=True)
                shutil.copy(Path(tmp) / f"{docx.stem}.pdf", OUT / f"{docx.stem}.pdf")
