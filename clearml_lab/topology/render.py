"""The topology drawn: one status line per workload, a text summary, and an SVG picture in the console's style.
Each rendering is a pure function of the model: the same model always gives the same bytes."""

from __future__ import annotations

import math
from html import escape

from .model import STATE_COLOURS, STATE_LABELS, STATES, Node, PodCounts, Topology


def _state_summary(counts: PodCounts) -> str:
    parts = [f"{count} {STATE_LABELS[state]}" for state, count in counts.items() if count and state != "running"]
    return f" ({', '.join(parts)})" if parts else ""


def status_lines(topology: Topology) -> list[str]:
    """One line per workload: ``KIND/NAME READY/TOTAL SCC``, then the pods that are not running, if any."""
    return [f"{n.ref} {n.counts.running}/{n.desired} {n.scc_label}{_state_summary(n.counts)}" for n in topology.nodes]


def to_text(topology: Topology) -> str:
    nodes = topology.nodes
    ready = sum(n.ready for n in nodes)
    lines = [f"namespace {topology.namespace}: {ready} of {len(nodes)} workloads ready"]
    if not nodes:
        lines.append("  no Deployments or StatefulSets")
    line_of = dict(zip(nodes, status_lines(topology), strict=True))
    for group in topology.groups:
        lines.append(f"{group.title}:")
        for node in group.nodes:
            lines.append(f"  {line_of[node]}")
            lines += [f"    pvc {c.name} {c.phase}" for c in node.claims]
            if node.rollout:
                lines.append(f"    {node.rollout}")
            if node.problem:
                lines.append(f"    {node.problem}")
    if topology.routes:
        lines.append("routes:")
        for route in topology.routes:
            target = ", ".join(route.workloads) or "no workload"
            lines.append(f"  {route.name} {route.url or '(no host yet)'} -> service {route.service} -> {target}")
    return "\n".join(lines)


# SVG layout, in pixels.
CELL_W, CELL_H, COLUMNS = 200, 190, 4
RING_R, RING_W, NODE_R = 42.0, 10.0, 34.0
GROUP_PAD, GROUP_TITLE_H, MARGIN, HEADER_H, LEGEND_H = 12, 30, 16, 34, 40


def _f(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ring(cx: float, cy: float, counts: PodCounts) -> list[str]:
    circumference = 2 * math.pi * RING_R
    common = f'cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(RING_R)}" fill="none" stroke-width="{_f(RING_W)}"'
    if counts.total == 0:
        return [
            f'<circle {common} stroke="#ededed" data-state="none" data-count="0"><title>scaled to zero</title></circle>'
        ]
    out, offset = [], 0.0
    for state, count in counts.items():
        if not count:
            continue
        length = circumference * count / counts.total
        out.append(
            f'<circle {common} stroke="{STATE_COLOURS[state]}" '
            f'stroke-dasharray="{_f(length)} {_f(circumference - length)}" '
            f'stroke-dashoffset="{_f(-offset)}" transform="rotate(-90 {_f(cx)} {_f(cy)})" '
            f'data-state="{state}" data-count="{count}"><title>{count} {STATE_LABELS[state]}</title>'
            f"</circle>"
        )
        offset += length
    return out


def _scc_caption(node: Node) -> str:
    if node.sccs:
        return f"scc {node.scc_label}"
    return "scc unknown" if node.pods else "no pod admitted"


def _node_svg(node: Node, x: float, y: float) -> list[str]:
    cx, cy = x + CELL_W / 2, y + 62
    out = [
        f'<g data-workload="{escape(node.ref)}" data-ready="{str(node.ready).lower()}">',
        f"<title>{escape(node.ref)}: {node.counts.running} of {node.desired} ready</title>",
    ]
    out += _ring(cx, cy, node.counts)
    out.append(
        f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(NODE_R)}" fill="#ffffff" stroke="#8a8d90" stroke-width="1"/>'
    )
    out.append(
        f'<text x="{_f(cx)}" y="{_f(cy + 6)}" text-anchor="middle" font-size="17" font-weight="bold" '
        f'fill="#151515">{node.counts.running}/{node.desired}</text>'
    )
    # Label: the kind badge, then the name, as the console shows it.
    name = escape(_clip(node.name, 22))
    badge_w = 12 + 8 * len(node.badge)
    label_w = badge_w + 6 + 7 * len(_clip(node.name, 22))
    lx, ly = cx - label_w / 2, cy + RING_R + 26
    out.append(
        f'<rect x="{_f(lx)}" y="{_f(ly - 13)}" width="{_f(badge_w)}" height="18" rx="9" '
        f'fill="{"#004080" if node.kind == "Deployment" else "#009596"}"/>'
    )
    out.append(
        f'<text x="{_f(lx + badge_w / 2)}" y="{_f(ly)}" text-anchor="middle" font-size="11" '
        f'font-weight="bold" fill="#ffffff">{node.badge}</text>'
    )
    out.append(f'<text x="{_f(lx + badge_w + 6)}" y="{_f(ly)}" font-size="13" fill="#151515">{name}</text>')
    out.append(
        f'<text x="{_f(cx)}" y="{_f(ly + 18)}" text-anchor="middle" font-size="11" fill="#6a6e73">'
        f"{escape(_scc_caption(node))}</text>"
    )
    if node.rollout:  # a rollout decorator at the lower right, its text on hover
        rx, ry = cx + NODE_R + 6, cy + NODE_R - 2
        out.append(
            f'<g data-decorator="rollout"><title>{escape(node.rollout)}</title>'
            f'<circle cx="{_f(rx)}" cy="{_f(ry)}" r="10" fill="#ffffff" stroke="#0066cc"/>'
            f'<text x="{_f(rx)}" y="{_f(ry + 5)}" text-anchor="middle" font-size="14" '
            f'fill="#0066cc">⟳</text></g>'
        )
    if node.problem:  # a warning decorator at the lower left, its text on hover
        px, py = cx - NODE_R - 6, cy + NODE_R - 2
        out.append(
            f'<g data-decorator="problem"><title>{escape(node.problem)}</title>'
            f'<circle cx="{_f(px)}" cy="{_f(py)}" r="10" fill="#c9190b"/>'
            f'<text x="{_f(px)}" y="{_f(py + 5)}" text-anchor="middle" font-size="14" font-weight="bold" '
            f'fill="#ffffff">!</text></g>'
        )
    for i, route in enumerate(node.routes[:2]):  # the route decorator at the upper right, and the link below
        if not route.url:
            continue
        url = escape(route.url, quote=True)
        dx, dy = cx + NODE_R + 4, cy - NODE_R + 2
        if i == 0:
            out.append(
                f'<a href="{url}" xlink:href="{url}" target="_blank" data-decorator="route">'
                f"<title>route {escape(route.name)}: {url}</title>"
                f'<circle cx="{_f(dx)}" cy="{_f(dy)}" r="11" fill="#ffffff" stroke="#8a8d90"/>'
                f'<path d="M{_f(dx - 4)} {_f(dy + 4)} L{_f(dx + 4)} {_f(dy - 4)} M{_f(dx - 1)} {_f(dy - 4)} '
                f'L{_f(dx + 4)} {_f(dy - 4)} L{_f(dx + 4)} {_f(dy + 1)}" stroke="#0066cc" '
                f'stroke-width="1.6" fill="none"/></a>'
            )
        out.append(
            f'<a href="{url}" xlink:href="{url}" target="_blank"><text x="{_f(cx)}" '
            f'y="{_f(ly + 34 + 14 * i)}" text-anchor="middle" font-size="11" fill="#0066cc">'
            f"↗ {escape(_clip(route.host, 30))}</text></a>"
        )
    out.append("</g>")
    return out


def to_svg(topology: Topology) -> str:
    """A self-contained SVG picture of the topology; the same model always gives the same bytes."""
    columns = max([min(len(g.nodes), COLUMNS) for g in topology.groups] or [1])
    width = max(2 * MARGIN + columns * CELL_W + 2 * GROUP_PAD, 2 * MARGIN + 6 * 110)
    body, y = [], MARGIN + HEADER_H
    for group in topology.groups:
        rows = math.ceil(len(group.nodes) / COLUMNS)
        height = GROUP_TITLE_H + rows * CELL_H + GROUP_PAD
        body.append(f'<g data-group="{escape(group.release or "")}">')
        body.append(
            f'<rect x="{MARGIN}" y="{y}" width="{width - 2 * MARGIN}" height="{height}" rx="12" '
            f'fill="#f5f5f5" stroke="#b8bbbe" stroke-dasharray="{"" if group.release else "6 4"}"/>'
        )
        body.append(
            f'<text x="{MARGIN + GROUP_PAD}" y="{y + 20}" font-size="13" font-weight="bold" '
            f'fill="#3c3f42">{escape(group.title)}</text>'
        )
        for i, node in enumerate(group.nodes):
            row, col = divmod(i, COLUMNS)
            body += _node_svg(node, MARGIN + GROUP_PAD + col * CELL_W, y + GROUP_TITLE_H + row * CELL_H)
        body.append("</g>")
        y += height + GROUP_PAD
    if not topology.groups:
        body.append(
            f'<text x="{MARGIN}" y="{y + 20}" font-size="13" fill="#6a6e73">no Deployments or '
            f"StatefulSets in namespace {escape(topology.namespace)}</text>"
        )
        y += 40
    legend_y, lx = y + 14, MARGIN
    for state in STATES:
        body.append(
            f'<rect x="{lx}" y="{legend_y - 10}" width="12" height="12" rx="2" '
            f'fill="{STATE_COLOURS[state]}" data-legend="{state}"/>'
        )
        body.append(f'<text x="{lx + 17}" y="{legend_y}" font-size="12" fill="#3c3f42">{STATE_LABELS[state]}</text>')
        lx += 40 + 7 * len(STATE_LABELS[state])
    height = legend_y + LEGEND_H - 14
    nodes = topology.nodes
    ready = sum(n.ready for n in nodes)
    header = f"namespace {topology.namespace}: {ready} of {len(nodes)} workloads ready"
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" '
        f'role="img" aria-label="{escape(header, quote=True)}">',
        f"<title>{escape(header)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 16}" font-size="15" font-weight="bold" '
        f'fill="{"#3e8635" if topology.ready else "#151515"}">{escape(header)}</text>',
    ]
    return "\n".join(head + body + ["</svg>"]) + "\n"
