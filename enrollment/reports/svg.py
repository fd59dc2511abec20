"""Charts of the completion dashboard as inline SVG drawn on the server: pure functions that
return markup, every text escaped by markupsafe. No script, no style attribute (the CSP
forbids both): presentation attributes and classes styled in static/css/app.css."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup

TARGET = Decimal(100)


def _num(value: float | Decimal) -> str:
    """A coordinate: at most two decimals, no trailing zeros, never "-0"."""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _share(rate: Decimal | None) -> Decimal:
    if rate is None:
        return Decimal(0)
    return max(Decimal(0), min(rate, TARGET)) / TARGET


def rate_bar(rate: Decimal | None, *, label: str, target_text: str = "100%",
             width: int = 320, height: int = 36, css_class: str = "rate-bar") -> Markup:
    """A horizontal bar from 0 to 100% filled up to `rate` (empty when None), with the target
    line at 100% and its label above it. `label` names the bar, its value included, for
    screen readers (<title> and aria-label); the page prints the value as text too."""
    top = 14
    bar_height = height - top - 2
    inner = width - 3
    filled = _share(rate) * inner
    return Markup(
        '<svg class="{cls}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        'aria-label="{label}" xmlns="http://www.w3.org/2000/svg">'
        "<title>{label}</title>"
        '<rect class="track" x="1" y="{top}" width="{inner}" height="{bh}" fill="#e8e8e8"/>'
        '<rect class="done" x="1" y="{top}" width="{filled}" height="{bh}" fill="#1e8e3e"/>'
        '<line class="target" x1="{tx}" y1="{ly}" x2="{tx}" y2="{h}" stroke="#a5161a" '
        'stroke-width="2"/>'
        '<text class="target-label" x="{tx}" y="10" font-size="10" text-anchor="end" '
        'fill="#a5161a">{target}</text>'
        "</svg>").format(
        cls=css_class, w=width, h=height, label=label, top=top, inner=_num(inner),
        bh=bar_height, filled=_num(filled), tx=_num(width - 2), ly=top - 2, target=target_text)


@dataclass(frozen=True)
class TrendPoint:
    label: str  # the x-axis label: "05/2026"
    rate: Decimal | None  # None: nobody expected, no point drawn
    value_text: str  # "97,3%"
    live: bool = False  # the current, not yet locked figures


def trend_chart(points: Sequence[TrendPoint], *, label: str, width: int = 640,
                height: int = 240) -> Markup:
    """A line of the completion rate per month, 0–100% on the y axis (the target is the top
    line), month labels on the x axis. Points without a rate are left out of the line."""
    left, right, top, bottom = 44, 12, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    inset = 28  # room for the first and last month labels
    parts = [Markup(
        '<svg class="trend" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        'aria-label="{label}" xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
    ).format(w=width, h=height, label=label)]
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - tick / 100)
        parts.append(Markup(
            '<line class="grid{target}" x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{stroke}" '
            'stroke-width="1"/><text class="axis" x="{tx}" y="{ty}" font-size="11" '
            'text-anchor="end" fill="#555">{tick}%</text>').format(
            target=" target" if tick == 100 else "", x1=left, x2=width - right, y=_num(y),
            stroke="#a5161a" if tick == 100 else "#ddd", tx=left - 6, ty=_num(y + 4),
            tick=tick))
    step = (plot_w - 2 * inset) / max(len(points) - 1, 1)
    coords: list[tuple[float, float]] = []
    every = max(1, math.ceil(len(points) * 52 / plot_w))  # labels that do not overlap
    for index, point in enumerate(points):
        x = left + (inset + step * index if len(points) > 1 else plot_w / 2)
        if index % every == 0 or index == len(points) - 1:
            parts.append(Markup(
                '<text class="axis" x="{x}" y="{y}" font-size="11" text-anchor="middle" '
                'fill="#555">{text}</text>').format(x=_num(x), y=height - bottom + 18,
                                                     text=point.label))
        if point.rate is None:
            continue
        y = top + plot_h * (1 - float(_share(point.rate)))
        coords.append((x, y))
    if len(coords) > 1:
        parts.append(Markup(
            '<polyline class="line" points="{points}" fill="none" stroke="#0b57d0" '
            'stroke-width="2"/>').format(
            points=" ".join(f"{_num(x)},{_num(y)}" for x, y in coords)))
    drawn = iter(coords)
    for point in points:
        if point.rate is None:
            continue
        x, y = next(drawn)
        parts.append(Markup(
            '<circle class="point{live}" cx="{x}" cy="{y}" r="{r}" fill="{fill}" stroke="#0b57d0" '
            'stroke-width="2">'
            "<title>{label}: {value}</title></circle>").format(
            live=" live" if point.live else "", x=_num(x), y=_num(y),
            r=5 if point.live else 4, fill="#fff" if point.live else "#0b57d0",
            label=point.label, value=point.value_text))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
