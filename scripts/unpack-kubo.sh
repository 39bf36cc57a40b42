#!/usr/bin/env bash
# Unpacks a Kubo (IPFS) binary tarball (bin/ipfs) into a cache folder keyed by the tarball's SHA-256, once, and
# prints the path of the ipfs program to use as KUBO_BIN.
#
#   export KUBO_BIN="$(scripts/unpack-kubo.sh path/to/kubo-0.43.1-linux-amd64.tar.xz)"
#
# The cache is $TWINLEDGER_CACHE_DIR (default ~/.cache/twinledger). Users with Kubo from its release archive or a
# package manager need none of this: set KUBO_BIN, or put ipfs on PATH.
set -euo pipefail

tarball="${1:?usage: scripts/unpack-kubo.sh <kubo tarball>}"
[ -f "$tarball" ] || { echo "unpack-kubo: $tarball does not exist" >&2; exit 1; }
cache="${TWINLEDGER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/twinledger}"
sum="$(sha256sum "$tarball" | cut -c1-16)"
dir="$cache/kubo-$sum"

if [ ! -f "$dir/.complete" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  tar -xf "$tarball" -C "$dir"
  [ -x "$dir/bin/ipfs" ] || { echo "unpack-kubo: $tarball has no bin/ipfs" >&2; exit 1; }
  touch "$dir/.complete"
fi
echo "$dir/bin/ipfs"
