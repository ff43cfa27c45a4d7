#!/usr/bin/env bash
# Install the tools the deployment checks need, into the project (never system-wide):
#   helm                  -> deploy/tools/bin/helm   (built with the Go toolchain from the Go module proxy)
#   hadolint, kubernetes-validate, promql-parser -> the project's .venv (PyPI, pinned in requirements.txt)
# Idempotent and cached: a tool already at the pinned version is not fetched or built again,
# so the second run takes well under a second. Prints the path of each tool.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="$here/bin"
venv="${CASETRAIL_VENV:-$repo/.venv}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
# The Kubernetes version helm assumes by default (and lints deprecations against), as helm's own
# Makefile derives it from its client-go v0.37 dependency: 1.37.
HELM_K8S_MINOR="${HELM_K8S_MINOR:-37}"

mkdir -p "$bin"

# -- helm (Go toolchain) ------------------------------------------------------
helm_stamp="$bin/.helm-$HELM_VERSION-k8s1.$HELM_K8S_MINOR"
if [[ ! -x "$bin/helm" || ! -f "$helm_stamp" ]]; then
  command -v go >/dev/null || { echo "install.sh: the Go toolchain (go) is needed to build helm; install Go >= 1.24" >&2; exit 1; }
  echo "install.sh: building helm $HELM_VERSION with $(go version | cut -d' ' -f3) (first run only, a few minutes) ..." >&2
  # GOFLAGS=-buildvcs=false: the module cache has no VCS data; -trimpath: reproducible binary.
  # The -X flags are the ones helm's release build sets (version string, default Kubernetes version).
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$HELM_K8S_MINOR"
  done
  GOBIN="$bin" GOFLAGS="-buildvcs=false -trimpath" go install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  rm -f "$bin"/.helm-*
  touch "$helm_stamp"
fi

# -- Python tools (PyPI) -------------------------------------------------------
req="$here/requirements.txt"
py_stamp="$venv/.deploy-tools-$(sha256sum "$req" | cut -c1-16)"
if [[ ! -f "$py_stamp" ]]; then
  [[ -x "$venv/bin/python" ]] || { echo "install.sh: $venv/bin/python not found; run 'make install' first" >&2; exit 1; }
  echo "install.sh: installing $(grep -cv '^\s*#' "$req") Python tools from $req into $venv ..." >&2
  if [[ -x "$venv/bin/uv" ]]; then
    "$venv/bin/uv" pip install --python "$venv/bin/python" -q -r "$req"
  else
    "$venv/bin/python" -m pip install -q -r "$req"
  fi
  rm -f "$venv"/.deploy-tools-*
  touch "$py_stamp"
fi

echo "helm=$bin/helm"
echo "hadolint=$venv/bin/hadolint"
echo "kubernetes-validate=$venv/bin/kubernetes-validate"
