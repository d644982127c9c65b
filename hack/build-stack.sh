#!/usr/bin/env bash
# Builds every real component of the local stack from its registry (Go module proxy, Maven
# Central) into a cache outside the git tree, and skips what the cache already holds at the
# pinned version. Called by `qsr dev stack build`, `make stack` and `.ci/run`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${QSR_CACHE:-$HOME/.cache/qsr-platform}
bin=$cache/bin
mkdir -p "$bin"
export GOTOOLCHAIN=local CGO_ENABLED=0

K8S_VERSION=1.34.4
K8S_MINOR=34

# A component is rebuilt when the hash of its recipe (wrapper files + flags) changes.
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }
fresh() { [ -f "$bin/.stamp-$1" ] && [ "$(cat "$bin/.stamp-$1")" = "$2" ]; }
timed() { local name=$1; shift; local t0=$SECONDS; "$@"; echo "built $name in $((SECONDS - t0)) s" >&2; }

build_go() { # name dir ldflags package...
  local name=$1 dir=$2 ldflags=$3; shift 3
  local stamp; stamp=$(printf '%s' "$ldflags" | stamp_of "$here/$dir/go.mod" "$here/$dir/go.sum" -)
  if fresh "$name" "$stamp"; then echo "cached $name" >&2; return; fi
  # One package: name the binary after the component; several: go names each after its package.
  local out="$bin/"; [ $# -eq 1 ] && out="$bin/$name"
  (cd "$here/$dir" && timed "$name" go build -trimpath -ldflags "$ldflags" -o "$out" "$@")
  echo "$stamp" > "$bin/.stamp-$name"
}

build_go etcd etcd "-s -w" go.etcd.io/etcd/server/v3

v="k8s.io/component-base/version"; c="k8s.io/client-go/pkg/version"
build_go kubernetes k8s "-s -w -X $v.gitVersion=v$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$K8S_MINOR \
 -X $v.gitTreeState=clean -X $c.gitVersion=v$K8S_VERSION -X $c.gitMajor=1 -X $c.gitMinor=$K8S_MINOR" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl

build_go kwok kwok "-s -w" sigs.k8s.io/kwok/cmd/kwok
# kwok's "fast" node and pod stages ship in its module (kustomize/stage): take them from the
# pinned version so the fake node turns Ready and its pods Running without a kubelet.
kdir=$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
         pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
  echo "---"; cat "$kdir/kustomize/stage/$f"
done > "$cache/kwok-stages.yaml"

# helm's compiled-in default KubeVersion is 1.20 unless set here (helm Makefile LDFLAGS).
h="helm.sh/helm/v3/pkg"
build_go helm helm "-s -w -X $h/chartutil.k8sVersionMajor=1 -X $h/chartutil.k8sVersionMinor=$K8S_MINOR \
 -X $h/lint/rules.k8sVersionMajor=1 -X $h/lint/rules.k8sVersionMinor=$K8S_MINOR" helm.sh/helm/v3/cmd/helm

# OpenTofu, for `tofu fmt -check` of terraform/ (tests/delivery/test_terraform_fmt.py).
bash "$here/tofu/build.sh"

kstamp=$(stamp_of "$here/kafka/pom.xml")
if ! fresh kafka "$kstamp"; then
  rm -rf "$cache/kafka-libs"
  timed kafka mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$cache/kafka-libs"
  echo "$kstamp" > "$bin/.stamp-kafka"
else
  echo "cached kafka" >&2
fi
echo "stack binaries in $bin, kafka jars in $cache/kafka-libs" >&2
