"""Authored Markdown → safe HTML: Python-Markdown renders, nh3 (ammonia) keeps only a small
set of tags and attributes, https/mailto links and the package's own images."""

from __future__ import annotations

import markdown
import nh3

TAGS = {"h2", "h3", "h4", "p", "br", "hr", "ul", "ol", "li", "strong", "em", "b", "i", "u",
        "blockquote", "code", "pre", "table", "thead", "tbody", "tr", "th", "td", "caption",
        "a", "img", "figure", "figcaption", "abbr", "sub", "sup", "mark", "small"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
              "th": {"scope", "colspan", "rowspan"}, "td": {"colspan", "rowspan"},
              "abbr": {"title"}, "ol": {"start"}}
SCHEMES = {"https", "mailto"}


def render(source: str, asset_url: str) -> str:
    """Markdown to sanitised HTML. Relative image paths point under `asset_url`; everything
    else that could run code or fetch from elsewhere is dropped (script, style, link, event
    handlers, javascript:/data: URLs, external images)."""
    html = markdown.markdown(source, extensions=["tables", "sane_lists"],
                             output_format="html")

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            if value.startswith("images/") and ".." not in value:
                return f"{asset_url}/{value}"
            return None  # external or data: images are dropped
        return value

    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=SCHEMES,
                     attribute_filter=keep, link_rel="noopener noreferrer nofollow",
                     strip_comments=True)
