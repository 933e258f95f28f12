import pytest

from clearml_lab.versions import satisfies

RANGE_7_3 = ">= 1.21.0-0 < 1.29.0-0"
RANGE_7_14 = ">= 1.21.0-0 < 1.33.0-0"


@pytest.mark.parametrize(
    "version,constraint,expected",
    [
        ("v1.32.5", RANGE_7_14, True),
        ("v1.33.0", RANGE_7_14, False),
        ("v1.28.2-3598+6e2789bbd58938-dirty", RANGE_7_3, True),
        ("v1.29.0", RANGE_7_3, False),
        ("v1.20.9", RANGE_7_3, False),
        ("v1.26.4-3014+636f2be6157d45-dirty", ">=1.20.0", True),
    ],
)
def test_helm_kube_version_ranges(version, constraint, expected):
    assert satisfies(version, constraint) is expected
