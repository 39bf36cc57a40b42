#!/bin/sh
# Runs before every start of the daemon (the Kubo image's /container-init.d hook), after `ipfs init` on the
# first start. Applies the chart's settings to the repository's config.
set -eu

ipfs config Datastore.StorageMax "$KUBO_STORAGE_MAX"

if [ -n "${KUBO_AUTH_SECRET_FILE:-}" ]; then
  secret=$(cat "$KUBO_AUTH_SECRET_FILE")
  case "$secret" in
    bearer:?* | basic:?*:?*) ;;
    *)
      echo "kubo-init: the auth secret must be bearer:<token> or basic:<user>:<password>" >&2
      exit 1
      ;;
  esac
  case "$secret" in
    *\"* | *\\*)
      echo "kubo-init: the auth secret may not contain \" or \\" >&2
      exit 1
      ;;
  esac
  ipfs config --json API.Authorizations \
    "{\"twinledger\":{\"AuthSecret\":\"$secret\",\"AllowedPaths\":[\"/api/v0\"]}}"
else
  ipfs config --json API.Authorizations '{}'
fi
