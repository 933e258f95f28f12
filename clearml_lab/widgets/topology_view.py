"""TopologyView: the project's picture, kept current by watches while it is open."""

from __future__ import annotations

from html import escape

import ipywidgets as widgets

from ..topology import STATE_COLOURS, STATE_LABELS, STATES, LiveTopology, Topology, to_svg, to_text
from ._html import TextPlain, pre

# Names for the colours the picture draws (topology.STATE_COLOURS), so text about the picture uses the same palette.
COLOUR_NAMES = {
    "#0066cc": "blue",
    "#8bc1f7": "light blue",
    "#7d1007": "dark red",
    "#c9190b": "red",
    "#3c3f42": "dark grey",
    "#d2d2d2": "light grey",
}
KIND_BADGES = (("D", "#004080", "Deployment"), ("SS", "#009596", "StatefulSet"))  # as topology.render draws them


def colour_sentence() -> str:
    """'blue running, light blue pending, …': the ring's colours in the words of the palette the view uses."""
    return ", ".join(f"{COLOUR_NAMES[STATE_COLOURS[state]]} {STATE_LABELS[state]}" for state in STATES)


def legend_html() -> str:
    """Every mark of the picture, explained: ring colours, kind badges, the centre count, decorators, captions."""
    swatch = (
        '<span style="display:inline-block;width:11px;height:11px;border-radius:2px;background:{};'
        'vertical-align:middle;margin:0 4px 0 10px"></span>'
    )
    pill = (
        '<span style="background:{};color:#fff;border-radius:9px;padding:0 6px;font-size:11px;'
        'font-weight:bold;margin:0 4px 0 10px">{}</span>'
    )
    ring = "".join(
        swatch.format(STATE_COLOURS[s]) + escape(f"{STATE_LABELS[s]} ({COLOUR_NAMES[STATE_COLOURS[s]]})")
        for s in STATES
    )
    kinds = "".join(pill.format(colour, badge) + escape(kind) for badge, colour, kind in KIND_BADGES)
    return (
        '<div class="topology-legend" style="font-size:12px;color:#3c3f42;line-height:1.8">'
        f"<div><b>Ring</b> (one arc per pod):{ring}</div>"
        f"<div><b>Badge</b> before the name:{kinds}</div>"
        "<div><b>Centre</b>: ready pods / pods wanted · <b>under the name</b>: the SCC the pods were admitted "
        'with · <span style="color:#fff;background:#c9190b;border-radius:50%;padding:0 6px">!</span> a problem '
        '(hover it for the reason, e.g. the SCC refusal) · <span style="color:#0066cc">↗</span> its Route '
        "(click to open) · hover a workload for its full name and count</div></div>"
    )


class TopologyView(TextPlain, widgets.VBox):
    """The topology SVG and its text summary. Built from one snapshot; ``start()`` keeps it live by watch streams
    (no refresh calls), ``close()`` stops every stream and closes the widget."""

    def __init__(self, lab):
        self.lab = lab
        self.picture = widgets.HTML()
        self.legend = widgets.HTML(legend_html())
        self.summary = widgets.HTML()
        self.live = LiveTopology(lab.kube(), lab.namespace, on_change=self._show)
        self._show(self.live.topology)
        super().__init__([self.picture, self.legend, self.summary])

    @property
    def topology(self) -> Topology:
        return self.live.topology

    @property
    def svg(self) -> str:
        return self._svg

    @property
    def text(self) -> str:
        return self._text

    def _show(self, topology: Topology) -> None:
        self._svg, self._text = to_svg(topology), to_text(topology)
        self.picture.value = self._svg
        self.summary.value = pre(self._text.splitlines())

    def start(self) -> TopologyView:
        if not self.live.running:
            self.live.start()
            # When the front end closes the widget's comm (the notebook is closed), stop watching too.
            if self.comm is not None and hasattr(self.comm, "on_close"):
                self.comm.on_close(lambda _msg: self.live.close())
        return self

    @property
    def watching(self) -> bool:
        return self.live.running

    def close(self) -> None:
        try:
            self.live.close()
        finally:
            for part in (self.picture, self.legend, self.summary):
                part.close()
            super().close()
