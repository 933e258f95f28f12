"""The instructor notebook as an instructor uses it, in a real Chromium: running it changes nothing; the dashboard's
form provisions the learners typed into it (a busy line shows while it works), the table lists them, a learner's
Reset takes the step chosen in their row, and teardown deletes only after a confirmation that names the cluster and
the projects. The screenshot is the dashboard as the instructor sees it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_the_instructor_runs_a_workshop_from_the_dashboard(practice_lab, open_lab):
    lab = open_lab(practice_lab)
    lab.open_notebook("workshop/instructor.ipynb")
    lab.run_all_cells()
    lab.wait_for_output(text="Not read yet: press Refresh now.")

    names = lab.in_outputs("input[placeholder^='ana.lopez']").first
    names.fill("ana.lopez, grace")
    lab.click_button("Provision")
    lab.wait_for_output(css="span.workshop-busy", text="provisioning 2 learner(s)")
    lab.wait_for_output(text="provisioned 2 learner(s)", timeout=300)
    lab.wait_for_output(text="2 learner(s), 0 done, 0 stuck", timeout=120)
    assert lab.in_outputs("span.workshop-busy").count() == 0  # the busy line goes when the work is done
    lab.screenshot("dashboard")

    selects = lab.in_outputs("select")  # the profile first, then one per learner's row: ana.lopez, grace
    assert selects.count() == 3
    selects.nth(2).select_option("install")
    lab.button("Reset").nth(1).click()
    lab.wait_for_output(text="grace reset to the start of step install", timeout=300)

    lab.click_button("Tear down…", timeout=120)
    lab.wait_for_output(text="Delete 2 project(s) of 2 learner(s) from the practice cluster at", timeout=60)
    lab.wait_for_output(text="ana-lopez-clearml, grace-clearml")
    assert "nothing of the workshop is left" not in lab.outputs_text(5000)
    lab.click_button("Yes, delete them")
    lab.wait_for_output(text="nothing of the workshop is left on the cluster.", timeout=300)
    lab.wait_for_output(text="0 learner(s), 0 done, 0 stuck", timeout=60)
