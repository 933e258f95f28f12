"""Driving JupyterLab the way a learner does — menus, buttons, looking at outputs — over a Playwright page.

Every wait has a timeout, and every failed wait raises an AssertionError that says what was awaited, what the
notebook showed instead, and where the screenshot of that moment is."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

TRACEBACK = "Traceback (most recent call last)"
ERROR_OUTPUTS = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


# Kept in the page per notebook panel from the moment it opens: every distinct picture of the topology view's nodes
# ({"deployment/web": ready?}), recorded on each DOM change, so a test sees states too brief for polling to catch.
RECORD_TOPOLOGY = """id => {
    window.__topology = window.__topology || {};
    if (window.__topology[id]) return;
    const panel = document.getElementById(id);
    const picture = () => JSON.stringify(Object.fromEntries(
        [...panel.querySelectorAll('.jp-OutputArea-output svg g[data-workload]')]
            .map(g => [g.dataset.workload, g.dataset.ready === 'true'])));
    const history = window.__topology[id] = [picture()];
    new MutationObserver(() => {
        const now = picture();
        if (now !== history[history.length - 1]) history.push(now);
    }).observe(panel, {subtree: true, childList: true, attributes: true, characterData: true});
}"""


def _exactly(label: str) -> re.Pattern:
    """A whole label, so "Run" does not also match "Run All Cells"."""
    return re.compile(f"^\\s*{re.escape(label)}\\s*$")


def screenshot_prefix(text: str) -> str:
    """``text`` (a test's name, say) made safe for a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:80] or "page"


class LabPage:
    """One browser tab on a JupyterLabServer. ``artifacts`` is where screenshots go, each named ``<prefix>-<label>``."""

    def __init__(self, page: Page, server, artifacts: Path, prefix: str):
        self.page = page
        self.server = server
        self.artifacts = Path(artifacts)
        self.prefix = screenshot_prefix(prefix)
        self.failures = 0
        self._panel_id: str | None = None
        self.workspace = f"{self.prefix[:40]}-{uuid.uuid4().hex[:8]}"

    # ---- what is on screen ---------------------------------------------------------------------------------------
    @property
    def notebook(self) -> Locator:
        """The panel of the notebook last opened with ``open_notebook`` (else whichever notebook is in front)."""
        if self._panel_id:
            return self.page.locator(f"#{self._panel_id}")
        return self.page.locator(".jp-NotebookPanel:visible")

    def cell(self, which: int | str) -> Locator:
        """A cell by position (0-based) or the first whose source contains ``which``."""
        cells = self.notebook.locator(".jp-Notebook-cell")
        if isinstance(which, int):
            return cells.nth(which)
        return cells.filter(has=self.page.locator(".jp-InputArea-editor", has_text=which)).first

    def in_outputs(self, css: str, *, cell: int | str | None = None) -> Locator:
        """Elements matching ``css`` inside cell outputs (the page around them has SVG of its own)."""
        return (self.notebook if cell is None else self.cell(cell)).locator(".jp-OutputArea-output").locator(css)

    def outputs_text(self, limit: int = 1500) -> str:
        """What the outputs of the notebook in front say, shortened, for failure messages."""
        try:
            texts = self.notebook.locator(".jp-OutputArea-output").all_inner_texts()
        except PlaywrightError as err:
            return f"(cannot read the page: {err.__class__.__name__})"
        text = "\n---\n".join(t.strip() for t in texts if t.strip()) or "(no outputs)"
        return text if len(text) <= limit else "…" + text[-limit:]

    def screenshot(self, label: str, *, of: Locator | None = None) -> Path:
        """Save the page — or just the element ``of`` (say one cell, scrolled into view) — as
        ``<artifacts>/<prefix>-<label>.png``."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{self.prefix}-{screenshot_prefix(label)}.png"
        if of is None:
            self.page.screenshot(path=str(path), full_page=True)
        else:
            of.screenshot(path=str(path))
        return path

    def fail(self, what: str) -> AssertionError:
        """An AssertionError naming ``what`` went wrong, with the outputs on screen and a screenshot of the moment."""
        self.failures += 1
        try:
            shot = f"screenshot: {self.screenshot(f'failure-{self.failures}')}"
        except Exception as err:  # a crashed page cannot be photographed; say so rather than hide the first error
            shot = f"no screenshot ({err.__class__.__name__})"
        try:  # an open dialog (say "Select Kernel" for a kernelspec this machine lacks) explains many a timeout
            dialogs = self.page.locator(".jp-Dialog:visible").all_inner_texts()
        except PlaywrightError:
            dialogs = []
        dialog = "".join(f"\na dialog is open: {' '.join(text.split())}" for text in dialogs)
        return AssertionError(f"{what}\n{shot}{dialog}\nnotebook outputs:\n{self.outputs_text()}")

    # ---- opening and running -------------------------------------------------------------------------------------
    def open_notebook(self, path: str, timeout: float = 60) -> LabPage:
        """Open ``path`` (relative to the server root) and wait until its kernel is connected and idle. The first
        call loads JupyterLab on it; later ones use File › Open from Path…, as a learner would, in the same tab."""
        if self.page.locator("#jp-main-dock-panel").count() == 0:
            # A workspace of its own, so tabs another test left open on this server are not restored here.
            url = f"{self.server.url}/lab/workspaces/{self.workspace}/tree/{quote(path)}"
            self.page.goto(url, timeout=timeout * 1000)
        else:
            self.menu("File", "Open from Path…")
            self.page.locator(".jp-Dialog input").fill(path)
            self.page.locator(".jp-Dialog input").press("Enter")
        # The tab in front names the file by its path; its data-id is the id of the panel that shows it.
        current_tab = """path => {
            const tab = document.querySelector('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current');
            const shown = tab && tab.title.split('\\n').includes('Path: ' + path);
            return shown && document.getElementById(tab.dataset.id) ? tab.dataset.id : null;
        }"""
        try:
            self._panel_id = self.page.wait_for_function(current_tab, arg=path, timeout=timeout * 1000).json_value()
            self.notebook.locator(".jp-Notebook").wait_for(timeout=timeout * 1000)
        except PlaywrightTimeout:
            raise self.fail(f"JupyterLab did not show the notebook {path} within {timeout:.0f} s") from None
        self.page.evaluate(RECORD_TOPOLOGY, self._panel_id)
        self.wait_for_kernel_idle(path, timeout=timeout)
        return self

    def wait_for_kernel_idle(self, path: str, timeout: float = 60) -> None:
        """Idle both at the server (a session for ``path`` whose kernel is idle) and in the page (the notebook's
        execution indicator). The page alone is not enough: its indicator says idle before any kernel exists."""
        deadline = time.monotonic() + timeout
        state = "no session"
        while time.monotonic() < deadline:
            sessions = [s for s in self.server.api("/api/sessions") if s.get("path") == path]
            state = sessions[0]["kernel"]["execution_state"] if sessions else "no session"
            if state == "idle":
                break
            time.sleep(0.2)
        else:
            raise self.fail(f"the kernel of {path} was not idle within {timeout:.0f} s (server says: {state})")
        indicator = self.notebook.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
        try:
            indicator.wait_for(timeout=max(deadline - time.monotonic(), 1) * 1000)
        except PlaywrightTimeout:
            raise self.fail(f"the page never showed the kernel of {path} as idle within {timeout:.0f} s") from None

    def run_notebook(self, path: str, timeout: float = 120) -> LabPage:
        """Open ``path`` and run all its cells, as a learner catching up does."""
        self.open_notebook(path)
        self.run_all_cells(timeout=timeout)
        return self

    def menu(self, *labels: str) -> None:
        """Click through the menu bar: ``menu("Run", "Run All Cells")``."""
        top, *items = labels
        self.page.locator("#jp-menu-panel .lm-MenuBar-itemLabel").filter(has_text=_exactly(top)).click()
        for label in items:
            self.page.locator(".lm-Menu:visible .lm-Menu-itemLabel").filter(has_text=_exactly(label)).click()

    def run_all_cells(self, timeout: float = 120, *, above: int | str | None = None) -> None:
        """Clear every output (so no stored execution count can pass for a fresh one), run all cells from the Run
        menu — or, with ``above``, only the cells above that one (say, up to the cell that would press a button the
        test means to click itself) — and wait until each of them has run and the kernel is idle. A traceback fails
        at once, naming it."""
        self.menu("Edit", "Clear Outputs of All Cells")
        limit = None
        if above is None:
            self.menu("Run", "Run All Cells")
        else:
            cell = self.cell(above)
            limit = cell.evaluate(
                "c => [...c.closest('.jp-Notebook').querySelectorAll('.jp-Notebook-cell')].indexOf(c)"
            )
            cell.locator(".jp-InputPrompt").first.click()  # selects the cell without entering its editor
            self.menu("Run", "Run All Above Selected Cell")
        finished = """([done, traceback, id, limit]) => {
            const panel = id ? document.getElementById(id)
                : [...document.querySelectorAll('.jp-NotebookPanel')].find(p => p.offsetParent !== null);
            if (!panel) return false;
            const errors = [...panel.querySelectorAll(traceback)].some(e => e.innerText.includes(done));
            const cells = [...panel.querySelectorAll('.jp-Notebook-cell')].slice(0, limit ?? undefined);
            const prompts = cells.filter(c => c.classList.contains('jp-CodeCell'))
                .map(c => c.querySelector('.jp-InputPrompt').innerText.trim());
            return errors || prompts.every(p => /^\\[\\d+\\]:$/.test(p));
        }"""
        try:
            self.page.wait_for_function(
                finished, arg=[TRACEBACK, ERROR_OUTPUTS, self._panel_id, limit], timeout=timeout * 1000
            )
        except PlaywrightTimeout:
            raise self.fail(f"running the cells did not finish within {timeout:.0f} s") from None
        tracebacks = [t for t in self.notebook.locator(ERROR_OUTPUTS).all_inner_texts() if TRACEBACK in t]
        if tracebacks:
            last_line = tracebacks[0].strip().splitlines()[-1]
            raise self.fail(f"a cell raised while running the cells: {last_line}")
        indicator = self.notebook.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
        try:
            indicator.wait_for(timeout=timeout * 1000)
        except PlaywrightTimeout:
            raise self.fail(f"the kernel stayed busy after running the cells ({timeout:.0f} s)") from None

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = 30, every: float = 0.25) -> None:
        """Poll ``condition`` (say, no topology node left unready) until it holds; else fail saying ``what``."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise self.fail(f"{what} did not happen within {timeout:.0f} s")
            time.sleep(every)

    # ---- widgets and outputs -------------------------------------------------------------------------------------
    def button(self, description: str, *, cell: int | str | None = None) -> Locator:
        """The ipywidgets Button whose description is exactly ``description`` (in one cell's outputs if given)."""
        scope = self.notebook if cell is None else self.cell(cell)
        return scope.locator(".jp-OutputArea-output .widget-button").filter(has_text=_exactly(description))

    def click_button(self, description: str, *, cell: int | str | None = None, timeout: float = 30) -> None:
        """Click the button once it is shown and enabled (a step card disables its buttons while an action runs)."""
        button = self.button(description, cell=cell)
        try:
            count = button.count()
            if count > 1:
                raise self.fail(
                    f"{count} buttons are labelled {description!r}; name the cell that holds the one to click"
                )
            button.click(timeout=timeout * 1000)
        except PlaywrightTimeout:
            raise self.fail(f"no enabled button labelled {description!r} appeared within {timeout:.0f} s") from None

    def wait_for_output(
        self,
        *,
        text: str | re.Pattern | None = None,
        css: str | None = None,
        cell: int | str | None = None,
        timeout: float = 30,
    ) -> Locator:
        """Wait until an output shows ``text`` (a substring or a regex) and/or holds an element matching ``css``
        (e.g. ``'svg g[data-ready="true"]'``); return that element."""
        if text is None and css is None:
            raise ValueError("wait_for_output needs text, css or both")
        target = self.in_outputs(css or ":scope", cell=cell)
        if text is not None:
            target = target.filter(has_text=text)
        target = target.first
        try:
            target.wait_for(state="visible", timeout=timeout * 1000)
        except PlaywrightTimeout:
            parts = (css and f"an element {css!r}", text is not None and f"the text {text!r}")
            wanted = " and ".join(part for part in parts if part)
            where = "the outputs" if cell is None else f"the outputs of cell {cell!r}"
            raise self.fail(f"{wanted} did not appear in {where} within {timeout:.0f} s") from None
        return target

    # ---- the topology view ---------------------------------------------------------------------------------------
    def topology_nodes(self, *, cell: int | str | None = None) -> dict[str, bool]:
        """The topology SVG's workload nodes as shown in the page now: ``{"deployment/web": True, ...}`` (ready or
        not), read from the ``data-workload`` / ``data-ready`` attributes clearml_lab.topology puts on each node."""
        return {
            node.get_attribute("data-workload"): node.get_attribute("data-ready") == "true"
            for node in self.in_outputs("svg g[data-workload]", cell=cell).all()
        }

    def topology_history(self) -> list[dict[str, bool]]:
        """Every distinct picture of the nodes the open notebook has shown since it was opened, oldest first."""
        return [
            json.loads(picture)
            for picture in self.page.evaluate("id => (window.__topology || {})[id] || []", self._panel_id)
        ]

    def wait_for_topology_ready(
        self, workloads: list[str] | None = None, timeout: float = 120
    ) -> list[dict[str, bool]]:
        """Wait until the open notebook shows each of ``workloads`` (default: every node, at least one) as ready.
        Returns ``topology_history()``, so a test can tell that nodes *turned* ready rather than were."""
        ready = """([id, wanted]) => {
            const history = (window.__topology || {})[id] || [];
            const nodes = JSON.parse(history[history.length - 1] || '{}');
            const names = wanted || Object.keys(nodes);
            return names.length > 0 && names.every(name => nodes[name] === true);
        }"""
        try:
            self.page.wait_for_function(ready, arg=[self._panel_id, workloads], timeout=timeout * 1000)
        except PlaywrightTimeout:
            wanted = ", ".join(workloads) if workloads else "every node"
            raise self.fail(
                f"the topology view did not show {wanted} ready within {timeout:.0f} s; pictures seen, "
                f"oldest first: {self.topology_history()}"
            ) from None
        return self.topology_history()
