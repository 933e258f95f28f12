"""The status the SCC review APIs answer (scc-subject-review, scc-review)."""

from fixtures.scc.builders import can_use, container, namespace

from clearml_lab.scc import Subject, load_sccs, review, self_subject_review, subject_review

REF = {"kind": "SecurityContextConstraints", "apiVersion": "security.openshift.io/v1"}


def template(sa=None, sc=None):
    spec = {"containers": [container(sc=sc)]}
    if sa:
        spec["serviceAccountName"] = sa
    return {"metadata": {"labels": {"app": "web"}}, "spec": spec}


def test_subject_review_for_an_authenticated_user_is_restricted_v2_with_the_defaults_filled_in():
    status = subject_review(
        template(), namespace(), load_sccs(), user="alice", groups=["system:authenticated"], can_use=can_use()
    )
    assert status["allowedBy"] == dict(REF, name="restricted-v2")
    assert status["template"]["spec"]["containers"][0]["securityContext"]["runAsUser"] == 1000680000
    assert status["template"]["metadata"] == {"labels": {"app": "web"}}


def test_subject_review_without_any_usable_scc_has_no_allowed_by():
    status = subject_review(template(), namespace(), load_sccs(), user="bob", groups=[], can_use=can_use())
    assert "allowedBy" not in status


def test_subject_review_counts_the_templates_service_account():
    fixed = template(sa="db", sc={"runAsUser": 1001})
    assert "allowedBy" not in subject_review(
        fixed, namespace(), load_sccs(), user="alice", groups=["system:authenticated"], can_use=can_use()
    )
    granted = can_use(grants=[("nonroot-v2", "db")])
    status = subject_review(
        fixed, namespace(), load_sccs(), user="alice", groups=["system:authenticated"], can_use=granted
    )
    assert status["allowedBy"]["name"] == "nonroot-v2"


def test_self_subject_review_uses_the_requester():
    admin = Subject("system:admin", ())
    privileged = template(sc={"privileged": True})
    assert (
        self_subject_review(privileged, namespace(), load_sccs(), requester=admin)["allowedBy"]["name"] == "privileged"
    )


def test_review_lists_only_the_service_accounts_some_scc_admits():
    root = template(sc={"runAsUser": 0})
    status = review(
        root,
        namespace(),
        load_sccs(),
        service_account_names=["plain", "trusted"],
        can_use=can_use(grants=[("anyuid", "trusted")]),
    )
    assert [entry["name"] for entry in status["allowedServiceAccounts"]] == ["trusted"]
    entry = status["allowedServiceAccounts"][0]
    assert entry["allowedBy"] == dict(REF, name="anyuid")
    assert entry["template"]["spec"]["serviceAccountName"] == "trusted"


def test_review_defaults_to_the_templates_service_account_then_default():
    status = review(template(), namespace(), load_sccs(), can_use=can_use(grants=[("anyuid", "default")]))
    assert [e["name"] for e in status["allowedServiceAccounts"]] == ["default"]
    status = review(template(sa="web"), namespace(), load_sccs(), can_use=can_use(grants=[("anyuid", "default")]))
    assert status["allowedServiceAccounts"] == []


def test_a_namespace_without_annotations_raises_openshifts_text():
    import pytest

    from clearml_lab.scc import NamespaceNotReady

    with pytest.raises(NamespaceNotReady, match="unable to find annotation openshift.io/sa.scc.uid-range"):
        subject_review(template(), namespace(**{"openshift.io/sa.scc.uid-range": None}), load_sccs(), user="a")


def test_request_objects_for_a_real_cluster():
    from clearml_lab.scc import review_request, self_subject_review_request, subject_review_request

    t = template()
    assert subject_review_request(t, user="alice", groups=["g"]) == {
        "apiVersion": "security.openshift.io/v1",
        "kind": "PodSecurityPolicySubjectReview",
        "spec": {"template": t, "user": "alice", "groups": ["g"]},
    }
    assert self_subject_review_request(t)["kind"] == "PodSecurityPolicySelfSubjectReview"
    assert review_request(t, ["a", "b"])["spec"] == {"template": t, "serviceAccountNames": ["a", "b"]}
    assert "serviceAccountNames" not in review_request(t)["spec"]
