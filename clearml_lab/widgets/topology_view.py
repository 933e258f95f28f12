"""TopologyView: the project's picture, kept current by watches while it is open."""
from __future__ import annotations

import ipywidgets as widgets

from ..topology import LiveTopology, Topology
from ._html import TextPlain, pre


class TopologyView(TextPlain, widgets.VBox):
    """The topology SVG and its text summary. Built from one snapshot; ``start()`` keeps it live by watch streams
    (no refresh calls), ``close()`` stops every stream and closes the widget."""

    def __init__(self, lab):
        self.lab = lab
        self.picture = widgets.HTML()
        self.summary = widgets.HTML()
        self.live = LiveTopology(lab.api_client, lab.namespace, on_change=self._show)
        self._show(self.live.topology)
        super().__init__([self.picture, self.summary])

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
        self._svg, self._text = topology.to_svg(), topology.to_text()
        self.picture.value = self._svg
        self.summary.value = pre(self._text.splitlines())

    def start(self) -> "TopologyView":
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
            for part in (self.picture, self.summary):
                part.close()
            super().close()
