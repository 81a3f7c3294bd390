"""Self-contained HTML pages for the reports: inline CSS, relative image links, no scripts and
no network, so they open offline straight from the file system."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import markdown as _markdown
import pandas as pd

STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0;
       color: #1f2328; background: #fff; line-height: 1.45; }
header { background: #0b3d62; color: #fff; padding: 14px 24px; }
header a { color: #cfe3f5; margin-right: 14px; text-decoration: none; }
main { max-width: 1180px; margin: 0 auto; padding: 12px 24px 48px; }
h1 { font-size: 1.5rem; margin: 4px 0; } h2 { border-bottom: 1px solid #d0d7de;
     padding-bottom: 4px; margin-top: 32px; } h3 { margin-top: 20px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.88rem; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { display: inline-block; margin: 8px 16px 16px 0; vertical-align: top; max-width: 100%; }
figure img { max-width: 100%; height: auto; border: 1px solid #d0d7de; }
figcaption { font-size: 0.85rem; color: #57606a; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.card .value { font-size: 1.35rem; font-weight: 600; } .card .label { color: #57606a;
     font-size: 0.85rem; }
.flag { color: #b42318; font-weight: 600; } .ok { color: #1a7f37; font-weight: 600; }
.note { color: #57606a; font-style: italic; }
"""


def page(title: str, body: str, *, nav: Sequence[tuple[str, str]] = ()) -> str:
    """A complete HTML document with the shared style and an optional navigation bar."""
    links = "".join(f'<a href="{html.escape(href)}">{html.escape(text)}</a>' for text, href in nav)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{html.escape(title)}</h1>{f'<nav>{links}</nav>' if links else ''}</header>\n"
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def esc(value: Any) -> str:
    return html.escape(str(value))


def section(heading: str, *parts: str, anchor: str | None = None) -> str:
    ident = f' id="{esc(anchor)}"' if anchor else ""
    return f"<section{ident}>\n<h2>{esc(heading)}</h2>\n" + "\n".join(parts) + "\n</section>"


def paragraph(text: str, css: str | None = None) -> str:
    return f"<p{f' class={chr(34)}{css}{chr(34)}' if css else ''}>{esc(text)}</p>"


def figure(src: str, caption: str) -> str:
    """An image by relative path with a caption."""
    return (
        f'<figure><img src="{esc(src)}" alt="{esc(caption)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def cards(items: Iterable[tuple[str, str]]) -> str:
    """Headline numbers as cards: (label, value)."""
    inner = "".join(
        f'<div class="card"><div class="value">{esc(v)}</div>'
        f'<div class="label">{esc(k)}</div></div>'
        for k, v in items
    )
    return f'<div class="cards">{inner}</div>'


def table(rows: pd.DataFrame | Sequence[Mapping[str, Any]], *, digits: int = 4) -> str:
    """A table from a frame or records; numbers right-aligned and rounded."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    body = []
    for record in frame.itertuples(index=False):
        cells = []
        for value in record:
            if isinstance(value, bool) or value is None or (not isinstance(value, int | float)):
                cells.append(f"<td>{esc('' if value is None else value)}</td>")
            elif pd.isna(value):
                cells.append("<td></td>")
            elif isinstance(value, int) or float(value).is_integer():
                cells.append(f'<td class="num">{int(value):,}</td>')
            else:
                cells.append(f'<td class="num">{value:.{digits}g}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def from_markdown(text: str, *, demote: int = 0) -> str:
    """Markdown (headings, tables, lists) as HTML, headings moved `demote` levels down so an
    embedded document sits under the page's own section headings."""
    out = _markdown.markdown(text, extensions=["tables"], output_format="html")
    for level in range(6 - demote, 0, -1):
        target = min(level + demote, 6)
        out = out.replace(f"<h{level}>", f"<h{target}>").replace(f"</h{level}>", f"</h{target}>")
    return out
