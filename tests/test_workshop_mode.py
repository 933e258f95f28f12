"""What a learner's lab makes of a workshop project, without a cluster: the seat read from the project's
annotations, the banner, and the values check's warning when the learner strays from what was prepared."""

from pathlib import Path

from clearml_lab.lab import Lab, Settings, Target
from clearml_lab.steps.values import workshop_fit
from clearml_lab.workshop_mode import CHART_VERSION, LEARNER, PROFILE, Seat, seat_of


def _project(**annotations):
    return {"metadata": {"name": "ada-clearml", "annotations": annotations}}


def test_a_project_is_a_workshop_project_only_when_it_names_its_learner():
    assert seat_of(None) is None
    assert seat_of(_project()) is None
    assert seat_of(_project(**{"openshift.io/requester": "ada"})) is None
    seat = seat_of(_project(**{LEARNER: "ada", CHART_VERSION: "7.14.4", PROFILE: "hardened"}))
    assert seat == Seat("ada", "ada-clearml", "7.14.4", "hardened")
    assert "learner ada" in seat.banner() and "chart 7.14.4, profile hardened" in seat.banner()
    bare = seat_of(_project(**{LEARNER: "ada"}))
    assert bare.chart_version is None and " for " not in bare.banner()


def _lab(seat, **settings):
    target = Target("kubeconfig", "https://example:6443", kubeconfig="k", context="ada")
    return Lab(target, Settings(namespace="ada-clearml", **settings), None, Path("/nonexistent"), True, seat)


def test_values_warn_when_the_learner_strays_from_what_the_workshop_prepared():
    seat = Seat("ada", "ada-clearml", "7.14.4", "hardened")
    assert workshop_fit(_lab(seat, profile="hardened")) == []
    assert workshop_fit(_lab(None, profile="seed")) == []
    (warning,) = workshop_fit(_lab(seat, profile="seed"))
    assert warning.ok is None and "profile hardened (you chose seed)" in warning.detail
    assert "chart" not in warning.detail
    (warning,) = workshop_fit(_lab(seat, profile="seed", chart_version="7.3.1"))
    assert "chart 7.14.4 (you chose 7.3.1) and profile hardened (you chose seed)" in warning.detail
