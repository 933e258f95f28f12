"""One image vocabulary: the SCC planner (scc/data/image-requirements.yaml) and the practice cluster's simulator
(practice/data/images/*.yaml) say the same facts about an image — the user it runs as (`image_user`) and the UID
it needs (`needs_uid`) — in the same words, and read image references with one parser (scc.images). The two files
are kept apart (the planner needs no pull times, the simulator no planning text); this proves they agree."""

from importlib import resources

import pytest
import yaml

from clearml_lab.practice.lifecycle import image_model, image_needs_uid, image_rule, old_spellings, parse_image
from clearml_lab.scc.images import load_image_requirements, requirement_for

# Images only the simulator describes, and why the planner needs no entry for them.
SIMULATOR_ONLY = {
    "bitnami/os-shell": "a volumePermissions helper that runs as root only when a chart enables it",
    "bitnamilegacy/os-shell": "the same helper under Bitnami's legacy namespace",
    "bitnami/bitnami-shell": "the older name of that helper",
    "bitnamilegacy/bitnami-shell": "the same, legacy namespace",
}


def _shipped_image_docs() -> dict[str, dict]:
    folder = resources.files("clearml_lab.practice") / "data" / "images"
    return {
        p.name: yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        for p in folder.iterdir()
        if p.name.endswith(".yaml")
    }


def _named_images() -> list[str]:
    """One reference for every repository either file names outright (wildcards name no single image)."""
    patterns = [p for rule in image_model()["images"] for p in rule["repositories"]]
    patterns += [p for entry in load_image_requirements() for p in entry.repositories]
    return sorted({f"{p}:1.0" for p in patterns if "*" not in p})


def _simulator_facts(image: str) -> tuple[int | None, int | None] | None:
    """(image_user, needs_uid) from the simulator's own rule for the image; None when only its default applies."""
    ref = parse_image(image)
    if not any(ref.matches_any(rule["repositories"]) for rule in image_model()["images"]):
        return None
    rule = image_rule(image)
    return rule.get("image_user"), image_needs_uid(rule)


def _planner_facts(image: str) -> tuple[int | None, int | None] | None:
    need = requirement_for(image, load_image_requirements())
    return None if need is None else (need.image_user, need.needs_uid)


@pytest.mark.parametrize("image", _named_images())
def test_both_sides_agree_on_the_user_and_uid_of_every_image_they_describe(image):
    simulator, planner = _simulator_facts(image), _planner_facts(image)
    if planner is None:
        assert parse_image(image).repository in SIMULATOR_ONLY, (
            f"{image}: the practice cluster models it but scc/data/image-requirements.yaml does not: add it there "
            f"(image_user, needs_uid) or to SIMULATOR_ONLY with the reason"
        )
        return
    assert simulator is not None, f"{image}: the planner knows it, the practice cluster only runs it as a default"
    assert simulator == planner, (
        f"{image}: the practice cluster says (image_user, needs_uid) = {simulator}, the planner {planner}"
    )


def test_the_simulator_only_list_names_images_the_simulator_describes():
    for repository in SIMULATOR_ONLY:
        assert _simulator_facts(f"{repository}:1") is not None, repository
        assert _planner_facts(f"{repository}:1") is None, f"{repository} is in the planner's file now"


def test_both_files_spell_the_facts_the_same_way():
    for name, doc in _shipped_image_docs().items():
        assert old_spellings(doc) == [], name
    planner_keys = {
        k
        for entry in yaml.safe_load(
            (resources.files("clearml_lab.scc") / "data" / "image-requirements.yaml").read_text()
        )["images"]
        for k in entry
    }
    assert {"repositories", "image_user", "needs_uid", "why"} <= planner_keys


def test_a_disagreement_is_caught(monkeypatch):
    """The check above is not vacuous: a planner that thought the ClearML server runs as 1001 fails it."""
    altered = [
        entry
        if "allegroai/clearml" not in entry.repositories
        else type(entry)(entry.repositories, 1001, entry.needs_uid, entry.why)
        for entry in load_image_requirements()
    ]
    monkeypatch.setitem(globals(), "load_image_requirements", lambda: altered)
    with pytest.raises(AssertionError, match="image_user, needs_uid"):
        test_both_sides_agree_on_the_user_and_uid_of_every_image_they_describe("allegroai/clearml:1.0")


@pytest.mark.parametrize(
    "image, registry, repository, tag",
    [
        ("allegroai/clearml:2.0.0-613", "docker.io", "allegroai/clearml", "2.0.0-613"),
        ("docker.io/library/nginx@sha256:00", "docker.io", "nginx", "sha256:00"),
        (
            "docker.elastic.co/elasticsearch/elasticsearch:7.17.3",
            "docker.elastic.co",
            "elasticsearch/elasticsearch",
            "7.17.3",
        ),
        ("localhost:5000/team/app", "localhost:5000", "team/app", "latest"),
    ],
)
def test_one_parser_reads_references_for_both(image, registry, repository, tag):
    ref = parse_image(image)
    assert (ref.registry, ref.repository, ref.tag) == (registry, repository, tag)
