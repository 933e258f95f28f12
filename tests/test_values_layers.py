"""Issue 14, item 3: nothing the learner typed is lost. The values step writes the profile, then the chart version's
fixes, then the learner's values — the form's and hand edits of values.yaml — and running it again keeps them."""

from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import yaml

from clearml_lab.errors import LabError
from clearml_lab.profiles import profile_values
from clearml_lab.values_layers import changed_from, layers, learner_values, leaves, written_for

CHART = "7.14.4"


@dataclass
class Settings:
    profile: str = "seed"
    chart_version: str = CHART
    overrides: dict = field(default_factory=dict)


@dataclass
class FakeLab:
    values_file: Path
    settings: Settings = field(default_factory=Settings)
    chart_version: str = CHART


def _write(lab, form=None):
    lab.values_file.write_text(layers(lab, form=form).text())


def test_a_hand_edit_survives_writing_again_and_is_named_as_the_learners(tmp_path):
    lab = FakeLab(tmp_path / "values.yaml")
    _write(lab)
    assert learner_values(lab) == {}
    values = yaml.safe_load(lab.values_file.read_text())
    values.setdefault("fileserver", {}).setdefault("storage", {}).setdefault("data", {})["size"] = "20Gi"
    lab.values_file.write_text(lab.values_file.read_text().split("\n", 1)[0] + "\n" + yaml.safe_dump(values))
    again = layers(lab)
    assert again.values["fileserver"]["storage"]["data"]["size"] == "20Gi"
    assert again.learner_keys == ["fileserver.storage.data.size"]
    assert "# Your values: fileserver.storage.data.size" in again.text()
    # the rest is the profile's, with the fixes
    assert changed_from(again.values, profile_values("seed", CHART)) == again.learner


def test_the_form_replaces_the_learners_layer_so_a_key_can_be_removed(tmp_path):
    lab = FakeLab(tmp_path / "values.yaml", Settings(overrides={"redis": {"architecture": "replication"}}))
    _write(lab)
    assert leaves(learner_values(lab)) == ["redis.architecture"]
    lab.settings = replace(lab.settings, overrides={})
    _write(lab, form={})
    assert learner_values(lab) == {}


def test_changing_the_profile_keeps_the_learners_values_not_the_old_profiles(tmp_path):
    lab = FakeLab(tmp_path / "values.yaml")
    _write(lab, form={"fileserver": {"storage": {"data": {"size": "20Gi"}}}})
    assert written_for(lab.values_file.read_text()) == ("seed", CHART)
    lab.settings = replace(lab.settings, profile="hardened")
    hardened = layers(lab)
    assert hardened.learner == {"fileserver": {"storage": {"data": {"size": "20Gi"}}}}
    assert changed_from(hardened.values, profile_values("hardened", CHART)) == hardened.learner


def test_a_values_file_that_does_not_parse_is_an_error_naming_the_way_out_and_is_not_touched(tmp_path):
    lab = FakeLab(tmp_path / "values.yaml")
    lab.values_file.write_text("apiserver:\n  podSecurityContext: [\n")
    with pytest.raises(LabError, match=r"not valid YAML at line \d+.*clearml-lab run values` \(notebook 03\)"):
        layers(lab)
    assert lab.values_file.read_text() == "apiserver:\n  podSecurityContext: [\n"
