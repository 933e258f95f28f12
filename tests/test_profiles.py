"""Values profiles: seed is the recipe's values plus only the install fixes; hardened is least privilege."""

import copy

import pytest

from clearml_lab.chart import chart_keys
from clearml_lab.errors import UsageError
from clearml_lab.profiles import install_fixes, profile_description, profile_names, profile_problems, profile_values
from clearml_lab.values import ChartKeys

# The seed recipe's values, exactly as it wrote them.
RECIPE = {
    "elasticsearch": {"rbac": {"create": True, "serviceAccountName": "clearml-elastic"}},
    "apiserver": {"podSecurityContext": {"runAsUser": 0}, "service": {"type": "ClusterIP"}},
    "fileserver": {"service": {"type": "ClusterIP"}},
    "webserver": {"service": {"type": "ClusterIP"}},
}
LEGACY_IMAGES = {
    "mongodb": {"image": {"repository": "bitnamilegacy/mongodb"}},
    "redis": {"image": {"repository": "bitnamilegacy/redis"}},
}


def test_profiles_are_seed_and_hardened():
    assert profile_names() == ["hardened", "seed"]
    assert all(profile_description(name) for name in profile_names())


@pytest.mark.parametrize("version", ["7.3.1", "7.14.4", "7.14.6"])
def test_seed_is_the_recipe_plus_the_bitnami_move_for_old_charts(version):
    assert profile_values("seed", version) == {**RECIPE, **LEGACY_IMAGES}


def test_seed_needs_no_fix_from_7_14_7_on():
    assert profile_values("seed", "7.14.7") == RECIPE
    assert install_fixes("7.14.7") == []
    [fix] = install_fixes("7.14.6")
    assert "bitnamilegacy" in fix.why


@pytest.mark.parametrize("version", ["7.3.1", "7.14.4"])
def test_hardened_is_least_privilege(version):
    values = profile_values("hardened", version)
    for component in ("apiserver", "fileserver", "webserver"):
        assert values[component]["podSecurityContext"] == {"runAsUser": 0}
        assert values[component]["service"]["type"] == "ClusterIP"
    assert values["mongodb"]["podSecurityContext"] == {"enabled": False}
    assert values["mongodb"]["containerSecurityContext"] == {"enabled": False}
    assert values["redis"]["master"]["podSecurityContext"] == {"enabled": False}
    assert values["redis"]["master"]["containerSecurityContext"] == {"enabled": False}
    es = values["elasticsearch"]
    assert es["sysctlInitContainer"] == {"enabled": False}
    # null, not absent: helm then deletes the chart's default UID and fsGroup.
    assert es["securityContext"] == {"runAsUser": None}
    assert es["podSecurityContext"] == {"runAsUser": None, "fsGroup": None}
    assert "node.store.allow_mmap: false" in es["esConfig"]["elasticsearch.yml"]
    assert "xpack.security.enabled: false" in es["esConfig"]["elasticsearch.yml"]  # the chart's setting kept
    assert values["mongodb"]["image"] == LEGACY_IMAGES["mongodb"]["image"]
    assert values["redis"]["image"] == LEGACY_IMAGES["redis"]["image"]


def test_each_call_returns_a_fresh_dict():
    first = profile_values("seed", "7.3.1")
    first["apiserver"]["podSecurityContext"]["runAsUser"] = 1000
    assert profile_values("seed", "7.3.1")["apiserver"]["podSecurityContext"] == {"runAsUser": 0}


def test_unknown_profile_names_the_valid_ones():
    with pytest.raises(UsageError, match="'lenient' is unknown: choose one of hardened, seed"):
        profile_values("lenient", "7.14.4")


def test_malformed_chart_version_is_a_usage_error():
    with pytest.raises(UsageError, match="not a version"):
        profile_values("seed", "latest")


def _paths(values, prefix=()):
    for key, value in values.items():
        if isinstance(value, dict) and value:
            yield from _paths(value, prefix + (key,))
        else:
            yield prefix + (key,)


@pytest.mark.parametrize("profile", ["seed", "hardened"])
@pytest.mark.parametrize("version", ["7.3.1", "7.14.4"])
def test_every_key_a_profile_sets_is_a_key_of_the_chart(profile, version):
    from clearml_lab.chart import default_values

    defaults = default_values(version)
    for path in _paths(profile_values(profile, version)):
        node = defaults
        for key in path:
            if node == {}:
                break  # an open map like podSecurityContext: {} takes any key
            assert isinstance(node, dict) and key in node, f"{'.'.join(path)} is not a key of chart {version}"
            node = node[key]


@pytest.mark.parametrize(
    "version,fixed", [("7.14.6-rc1", True), ("7.14.7-rc.2", False), ("8.0.0", False), ("2.0.0-alpha1", True)]
)
def test_install_fixes_apply_by_range_to_any_version_a_repository_serves(version, fixed):
    assert bool(install_fixes(version)) is fixed
    assert (profile_values("seed", version).get("mongodb") == LEGACY_IMAGES["mongodb"]) is fixed


@pytest.mark.parametrize("profile", ["seed", "hardened"])
def test_a_profile_key_the_chart_lacks_is_reported(profile):
    keys = chart_keys("7.14.4")
    assert profile_problems(profile, "7.14.4", keys) == []
    lacking = copy.deepcopy(keys.defaults)
    del lacking["elasticsearch"]["rbac"]  # as a chart whose Elasticsearch subchart has no rbac section
    (problem,) = profile_problems(profile, "7.14.4", ChartKeys(lacking))
    assert "`elasticsearch.rbac` is not a key of this chart" in problem.message
