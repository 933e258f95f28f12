"""The workshop's pure parts, without a cluster: learner names and their projects, the progress table's layout and
who counts as stuck, and which SCCs open the node (read from the SCC objects' fields)."""

import pytest

from clearml_lab.errors import UsageError
from clearml_lab.scc import load_sccs
from clearml_lab.workshop import Cause, Progress, Row, host_access, learner_names, natural_key, project_for

STEPS = ("prerequisites", "helm-repo", "install")


def test_e_mail_style_names_get_dns_safe_projects():
    assert project_for("ada") == "ada-clearml"
    assert project_for("ana.lopez") == "ana-lopez-clearml"
    assert project_for("ana.lopez+ws@uni.edu") == "ana-lopez-ws-uni-edu-clearml"
    long = "a" * 60 + ".x@example.org"
    assert len(project_for(long)) <= 63 and project_for(long) != project_for("a" * 60 + ".y@example.org")
    assert learner_names(names="ana.lopez, grace@uni.edu") == ["ana.lopez", "grace@uni.edu"]
    for bad in ("Ana", "ana..", ".ana", "ana/b", "ana lopez"):
        with pytest.raises(UsageError, match="not a valid name"):
            learner_names(names=bad)
    with pytest.raises(UsageError, match="would share project ana-lopez-clearml"):
        learner_names(names="ana.lopez,ana_lopez")


def _row(learner, cells, causes=(), waiting=None, grace=60.0):
    return Row(learner, project_for(learner), dict(zip(STEPS, cells, strict=True)), {}, tuple(causes), waiting, grace)


def test_the_table_is_aligned_sorted_naturally_and_says_who_is_stuck():
    slow = Cause("Pod/x: x waits for its volume claims to be bound.", "see why the claim is Pending.", "learner")
    grant = Cause(
        "1 SCC grant(s) you provisioned are missing: anyuid to a.",
        "`clearml-lab workshop provision --names learner10` restores them.",
        "instructor",
        "scc",
    )
    rows = sorted(
        [
            _row("learner10", ["FAIL", "-", "-"], [grant], waiting=1),
            _row("learner2", ["pass", "pass", "FAIL"], [slow], waiting=10),  # within the grace period
            _row("learner1", ["pass", "pass", "FAIL"], [slow], waiting=600),
            _row("ana.lopez@uni.edu", ["pass", "pass", "pass"]),
        ],
        key=lambda r: natural_key(r.learner),
    )
    progress = Progress(STEPS, tuple(rows), "08:00:00 UTC", "the cluster at https://example:6443")
    table, _, rest = progress.render_text().partition("\n\n")
    lines = table.splitlines()
    assert [line.split()[0] for line in lines] == [
        "LEARNER",
        "ana.lopez@uni.edu",
        "learner1",
        "learner2",
        "learner10",
        "passed",
    ]
    assert lines[1].split()[1:] == ["done", "pass", "pass", "pass"]
    assert lines[4].split()[1:] == ["prerequisites", "FAIL", "-", "-"]
    assert lines[-1].split() == ["passed", "3/4", "3/4", "1/4"]
    columns = {
        line.index(word) for line, word in zip(lines[1:5], ("done", "install", "install", "prerequisites"), strict=True)
    }
    assert len(columns) == 1  # the AT column starts at one place in every row
    assert rest.splitlines() == [
        "refreshed 08:00:00 UTC from the cluster at https://example:6443: 4 learner(s), 1 done, 2 stuck",
        "STUCK learner1 is stuck at install: Pod/x: x waits for its volume claims to be bound. Fix (learner): see "
        "why the claim is Pending.",
        "STUCK learner10 is stuck at scc: 1 SCC grant(s) you provisioned are missing: anyuid to a. Fix "
        "(instructor): `clearml-lab workshop provision --names learner10` restores them.",
    ]
    assert Progress(STEPS, (), "08:00:00 UTC", "x").render_text().startswith("no learners")


def test_an_scc_opens_the_node_by_its_fields_not_its_name():
    opening = {scc["metadata"]["name"] for scc in load_sccs("4.19") if host_access(scc)}
    assert {"privileged", "hostaccess", "hostmount-anyuid", "hostnetwork", "hostnetwork-v2"} <= opening
    assert not opening & {"restricted-v2", "restricted", "anyuid", "nonroot", "nonroot-v2"}
    custom = {"metadata": {"name": "my-own"}, "allowHostPID": True, "volumes": ["configMap"]}
    assert host_access(custom) == ["the node's processes (hostPID)"]
    assert host_access({"metadata": {"name": "vols"}, "volumes": ["*"]}) == ["hostPath volumes (the node's files)"]
