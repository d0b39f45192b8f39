#!/bin/sh
# Rebuilds prebuilds/linux-{x64,arm64}/node.napi.glibc.node (N-API: one build per
# platform and architecture serves every Node.js version). Needs a C compiler,
# the Node.js headers (--nodedir, else node-gyp downloads them) and, for arm64,
# gcc-aarch64-linux-gnu. Run from the repository root: sh src/dns/native/build-prebuilds.sh
set -eu
root=$(pwd)
nodedir=${NODEDIR:-$(dirname "$(dirname "$(command -v node)")")}
# node-gyp as npm bundles it
gyp_js=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
gyp() { node "$gyp_js" "$@"; }
build() { # arch cc strip
  work=$(mktemp -d)
  mkdir -p "$work/src/dns/native" "$root/prebuilds/linux-$1"
  cp "$root/binding.gyp" "$work/" && cp "$root/src/dns/native/udp-batch.c" "$work/src/dns/native/"
  (cd "$work" && CC=$2 LINK=$2 gyp rebuild --arch="$1" --nodedir="$nodedir" >"$work/log" 2>&1) || { cat "$work/log" >&2; exit 1; }
  $3 --strip-unneeded -o "$root/prebuilds/linux-$1/node.napi.glibc.node" "$work/build/Release/udp_batch.node"
  rm -rf "$work"
  echo "prebuilds/linux-$1/node.napi.glibc.node"
}
build x64 "${CC_X64:-cc}" strip
if command -v aarch64-linux-gnu-gcc >/dev/null; then
  build arm64 aarch64-linux-gnu-gcc aarch64-linux-gnu-strip
else
  echo "aarch64-linux-gnu-gcc not found: prebuilds/linux-arm64 left as it is" >&2
fi
