#!/usr/bin/env bash
# Builds the OpenTofu CLI from the Go module proxy into the stack cache (never into git), for
# `tofu fmt -check` in the tests; hack/build-stack.sh calls it. A cold build took 876 s niced on
# 2 cores shared with a Kubernetes build; warm, it is skipped.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${QSR_CACHE:-$HOME/.cache/qsr-platform}/bin
mkdir -p "$bin"
stamp=$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)
if [ -x "$bin/tofu" ] && [ "$(cat "$bin/.stamp-tofu" 2>/dev/null)" = "$stamp" ]; then
  echo "cached tofu" >&2
  exit 0
fi
export GOTOOLCHAIN=local CGO_ENABLED=0
t0=$SECONDS
(cd "$here" && go build -trimpath -ldflags "-s -w" -o "$bin/tofu" github.com/opentofu/opentofu/cmd/tofu)
echo "$stamp" > "$bin/.stamp-tofu"
echo "built tofu in $((SECONDS - t0)) s" >&2
