"""`make bench`: measures the lab's figures on this machine, prints a table, then one `name: value` line per figure.
Not a test: nothing here passes or fails; a figure that cannot be measured prints n/a and the table says why."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True
BIN = Path(sys.executable).parent
os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"  # the venv's helm and kubectl first

import nbval_suite  # noqa: E402
import practice_install  # noqa: E402
import scc_plan  # noqa: E402
import throughput  # noqa: E402
import topology_vs_kubectl  # noqa: E402
import workshop  # noqa: E402
from cluster import PracticeCluster  # noqa: E402
from figures import Figure, format_number  # noqa: E402

ORDER = (
    "nbval_suite_s",
    "topology_vs_kubectl_ratio",
    "snapshot_list_calls_per_kind",
    "plan_scc_ms",
    "practice_requests_per_s",
    "workshop_30_learners_s",
    "practice_install_s",
)


def attempt(names: tuple[str, ...], measure, *args) -> list[Figure]:
    """A figure whose run broke is n/a with the reason, so one broken part does not hide the others."""
    print(f"measuring {', '.join(names)} …", file=sys.stderr, flush=True)
    try:
        return measure(*args)
    except Exception as err:  # noqa: BLE001 — reported in the table, never swallowed
        return [Figure(name, None, note=f"not measured: {err.__class__.__name__}: {err}") for name in names]


def main() -> int:
    started = time.perf_counter()
    figures = attempt(("nbval_suite_s",), nbval_suite.measure)  # first: it starts its own cluster on a quiet box
    figures += attempt(("plan_scc_ms",), scc_plan.measure)
    figures += attempt(("practice_install_s",), practice_install.measure)  # its own cluster, at the default pace
    work = Path(tempfile.mkdtemp(prefix="clearml-lab-bench-"))
    cluster = PracticeCluster(work / "practice")
    try:
        cluster.start()
        figures += attempt(
            ("topology_vs_kubectl_ratio", "snapshot_list_calls_per_kind"),
            topology_vs_kubectl.measure,
            cluster,
            work / "home",
        )
        figures += attempt(("practice_requests_per_s",), throughput.measure, cluster)
        figures += attempt(("workshop_30_learners_s",), workshop.measure, cluster, work)
    finally:
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    figures.sort(key=lambda f: ORDER.index(f.name))
    print_table(figures, time.perf_counter() - started)
    return 0


def print_table(figures: list[Figure], total_s: float) -> None:
    rows = [("figure", "value", "target", "note")]
    rows += [
        (f.name, "n/a" if f.value is None else f"{format_number(f.value)} {f.unit}".strip(), f.target or "—", f.note)
        for f in figures
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[3])
        if i == 0:
            print("  ".join("-" * width for width in widths) + "  " + "-" * 4)
    print(f"\n(machine: {os.cpu_count()} cores; whole bench {total_s:.0f} s)\n")
    for figure in figures:
        print(figure.line())


if __name__ == "__main__":
    sys.exit(main())
