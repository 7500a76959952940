"""Small charts drawn as inline SVG on the server: no script, no fetch, readable without JavaScript."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from markupsafe import Markup

from foundation.clock import VN_TZ
from reports.labels import percent


def throughput(per_minute: list[tuple[datetime, int, int]], *, width: int = 720, height: int = 140) -> Markup:
    """Stacked bars per minute: succeeded or in flight (green) under failed (red)."""
    if not per_minute:
        return Markup("")
    top = max((ok + bad for _, ok, bad in per_minute), default=0) or 1
    bar = width / len(per_minute)
    body = []
    for i, (minute, ok, bad) in enumerate(per_minute):
        x = i * bar
        h_ok = (height - 20) * ok / top
        h_bad = (height - 20) * bad / top
        label = f"{minute.astimezone(VN_TZ):%H:%M}: {ok} / {bad}"
        body.append(
            f"<g><title>{escape(label)}</title>"
            f'<rect x="{x:.1f}" y="{height - 20 - h_ok:.1f}" width="{max(bar - 1, 1):.1f}" height="{h_ok:.1f}" '
            f'class="ok"/>'
            f'<rect x="{x:.1f}" y="{height - 20 - h_ok - h_bad:.1f}" width="{max(bar - 1, 1):.1f}" '
            f'height="{h_bad:.1f}" class="bad"/></g>'
        )
    for i in range(0, len(per_minute), 15):
        minute = per_minute[i][0].astimezone(VN_TZ)
        body.append(f'<text x="{i * bar:.1f}" y="{height - 5}">{minute:%H:%M}</text>')
    body.append(f'<text x="{width - 4}" y="12" text-anchor="end">max {top}</text>')
    # Safe: every interpolated text is a number or escaped above.
    return Markup(  # noqa: S704
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="throughput">{"".join(body)}</svg>'
    )


def bars(items: list[tuple[str, int]], *, width: int = 720, row: int = 22) -> Markup:
    """Horizontal bars with their labels and counts, largest first."""
    if not items:
        return Markup("")
    top = max(v for _, v in items) or 1
    label_w = 260
    body = []
    for i, (label, value) in enumerate(items):
        y = i * row
        w = (width - label_w - 60) * value / top
        body.append(
            f'<text x="0" y="{y + 15}">{escape(label[:40])}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" class="bad"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}">{value}</text>'
        )
    return Markup(  # noqa: S704  (labels are escaped above; the rest are numbers)
        f'<svg class="chart" viewBox="0 0 {width} {row * len(items)}" role="img" aria-label="bars">'
        f"{''.join(body)}</svg>"
    )


def paired_bars(items: list[tuple[str, float | None, float | None]], *, width: int = 720, row: int = 30) -> Markup:
    """Two bars per label, the period before (grey) above this period (green), on a 0–100 % scale."""
    if not items:
        return Markup("")
    label_w = 260
    scale = (width - label_w - 60) / 100
    body = []
    for i, (label, before, now) in enumerate(items):
        y = i * row
        body.append(f'<text x="0" y="{y + 18}">{escape(label[:40])}</text>')
        for j, (value, css) in enumerate(((before, "prev"), (now, "ok"))):
            w = (value or 0) * scale
            top = y + 3 + j * (row - 6) / 2
            shown = percent(value)
            body.append(
                f'<rect x="{label_w}" y="{top:.1f}" width="{w:.1f}" height="{(row - 8) / 2:.1f}" class="{css}"/>'
                f'<text x="{label_w + w + 6:.1f}" y="{top + 10:.1f}">{shown}</text>'
            )
    return Markup(  # noqa: S704  (labels are escaped above; the rest are numbers)
        f'<svg class="chart" viewBox="0 0 {width} {row * len(items)}" role="img" aria-label="paired bars">'
        f"{''.join(body)}</svg>"
    )


def sparkline(points: Sequence[tuple[str, float | None]], *, width: int = 120, height: int = 24) -> Markup:
    """One small bar per month on a 0–100 % scale, its month and value in the tooltip; a month without data is a
    gap, not a zero."""
    if not points:
        return Markup("")
    bar = width / len(points)
    body = []
    for i, (label, value) in enumerate(points):
        h = (height - 2) * (value or 0) / 100
        body.append(
            f"<g><title>{escape(label)}: {percent(value)}</title>"
            f'<rect x="{i * bar:.1f}" y="{height - h:.1f}" width="{max(bar - 1, 1):.1f}" height="{h:.1f}" '
            f'class="ok"/></g>'
        )
    return Markup(  # noqa: S704  (labels are escaped above; the rest are numbers)
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="12 tháng">{"".join(body)}</svg>'
    )
