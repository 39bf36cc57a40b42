#!/usr/bin/env bash
# Unpacks a Fabric binaries tarball (the layout of Fabric's release archives: bin/, config/, builders/ccaas/)
# into a cache folder keyed by the tarball's SHA-256, once, and prints the bin/ folder to use as FABRIC_BIN_DIR.
#
#   export FABRIC_BIN_DIR="$(scripts/unpack-fabric.sh path/to/fabric-bin-linux-amd64.tar.xz)"
#
# The cache is $TWINLEDGER_CACHE_DIR (default ~/.cache/twinledger). Users with Fabric's own release archive or
# fabric-samples' install-fabric.sh need none of this: point FABRIC_BIN_DIR at that bin/ folder.
set -euo pipefail

tarball="${1:?usage: scripts/unpack-fabric.sh <fabric binaries tarball>}"
[ -f "$tarball" ] || { echo "unpack-fabric: $tarball does not exist" >&2; exit 1; }
cache="${TWINLEDGER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/twinledger}"
sum="$(sha256sum "$tarball" | cut -c1-16)"
dir="$cache/fabric-$sum"

if [ ! -f "$dir/.complete" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  tar -xf "$tarball" -C "$dir"
  for program in peer orderer configtxgen cryptogen osnadmin; do
    [ -x "$dir/bin/$program" ] || { echo "unpack-fabric: $tarball has no bin/$program" >&2; exit 1; }
  done
  [ -x "$dir/builders/ccaas/bin/build" ] || { echo "unpack-fabric: $tarball has no builders/ccaas/bin/build" >&2; exit 1; }
  touch "$dir/.complete"
fi
echo "$dir/bin"
