#!/usr/bin/env bash
# Installs (or upgrades) Cloud2Edge 0.9.2 with TwinLedger's values overlays, and optionally the Kubo add-on,
# into one namespace. See cloud2edge-helm/README.md.
#
#   scripts/install.sh [--release c2e] [--namespace cloud2edge] [--amqp] [--service-type NodePort|LoadBalancer]
#                      [--payload-size BYTES] [--kubo] [--kubo-values FILE] [--values FILE]... [--dry-run]
#
# --dry-run prints the helm commands instead of running them (needs neither helm nor a cluster).
set -euo pipefail

readonly CHART=eclipse-iot/cloud2edge
readonly CHART_VERSION=0.9.2
readonly REPO_NAME=eclipse-iot
readonly REPO_URL=https://eclipse.org/packages/charts
readonly MAX_PAYLOAD_SIZE=1048576

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
values_dir="$here/values"

release=c2e
namespace=cloud2edge
amqp=false
service_type=NodePort
payload_size=""
kubo=false
dry_run=false
extra_values=()
kubo_values=()

usage() {
  sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

fail() {
  echo "install.sh: $*" >&2
  exit 2
}

# The value of an option, which must be there.
value_of() {
  if [ $# -lt 2 ] || [ -z "$2" ]; then fail "$1 needs a value"; fi
  printf '%s' "$2"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --release) release="$(value_of "$@")"; shift 2 ;;
    --namespace) namespace="$(value_of "$@")"; shift 2 ;;
    --amqp) amqp=true; shift ;;
    --service-type) service_type="$(value_of "$@")"; shift 2 ;;
    --payload-size) payload_size="$(value_of "$@")"; shift 2 ;;
    --kubo) kubo=true; shift ;;
    --kubo-values) kubo_values+=("$(value_of "$@")"); kubo=true; shift 2 ;;
    --values | -f) extra_values+=("$(value_of "$@")"); shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; fail "unknown argument: $1" ;;
  esac
done

# Helm release names are DNS labels of at most 53 characters; the Kubo release adds "-kubo".
dns_label='^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
if ! [[ $release =~ $dns_label ]] || [ ${#release} -gt 48 ]; then
  fail "--release must be lower-case letters, digits and '-' (at most 48 characters), got '$release'"
fi
if ! [[ $namespace =~ $dns_label ]] || [ ${#namespace} -gt 63 ]; then
  fail "--namespace must be a DNS label (lower-case letters, digits, '-'), got '$namespace'"
fi
case "$service_type" in
  NodePort) service_overlay="$values_dir/nodeport.yaml" ;;
  LoadBalancer) service_overlay="$values_dir/loadbalancer.yaml" ;;
  *) fail "--service-type must be NodePort or LoadBalancer, got '$service_type'" ;;
esac
if [ -n "$payload_size" ]; then
  if ! [[ $payload_size =~ ^[1-9][0-9]{0,6}$ ]] || [ "$payload_size" -gt "$MAX_PAYLOAD_SIZE" ]; then
    fail "--payload-size must be a number of bytes from 1 to $MAX_PAYLOAD_SIZE (Kafka's default message limit), got '$payload_size'"
  fi
fi
for file in ${extra_values[@]+"${extra_values[@]}"} ${kubo_values[@]+"${kubo_values[@]}"}; do
  [ -r "$file" ] || fail "values file $file is not readable"
done

if ! $dry_run; then
  command -v helm >/dev/null 2>&1 || fail "helm 3 is not on PATH (https://helm.sh/docs/intro/install/)"
fi

# Runs a command, or with --dry-run prints it (each argument shell-quoted, so the line can be pasted).
run() {
  if $dry_run; then
    local quoted=() arg
    for arg in "$@"; do quoted+=("$(printf '%q' "$arg")"); done
    echo "${quoted[*]}"
  else
    "$@"
  fi
}

c2e=(helm upgrade --install "$release" "$CHART" --version "$CHART_VERSION"
  --namespace "$namespace" --create-namespace --wait --timeout 20m
  -f "$values_dir/twinledger.yaml")
if $amqp; then c2e+=(-f "$values_dir/amqp-messaging.yaml"); fi
c2e+=(-f "$service_overlay")
if [ -n "$payload_size" ]; then
  # The annotation changes the adapters' pod template with the size: the Hono chart does not restart an
  # adapter when only its configuration Secret changes, so an upgrade would not apply the new size otherwise.
  c2e+=(-f "$values_dir/payload-size.yaml"
    --set "hono.adapters.http.hono.http.maxPayloadSize=$payload_size"
    --set "hono.adapters.mqtt.hono.mqtt.maxPayloadSize=$payload_size"
    --set-string "hono.adapters.http.pod.annotations.twinledger-max-payload-size=$payload_size"
    --set-string "hono.adapters.mqtt.pod.annotations.twinledger-max-payload-size=$payload_size")
fi
for file in ${extra_values[@]+"${extra_values[@]}"}; do c2e+=(-f "$file"); done

run helm repo add "$REPO_NAME" "$REPO_URL" --force-update
run helm repo update "$REPO_NAME"
run "${c2e[@]}"

if $kubo; then
  kubo_cmd=(helm upgrade --install "$release-kubo" "$here/kubo" --namespace "$namespace" --wait --timeout 10m)
  for file in ${kubo_values[@]+"${kubo_values[@]}"}; do kubo_cmd+=(-f "$file"); done
  run "${kubo_cmd[@]}"
fi

if ! $dry_run; then
  cat >&2 <<NEXT

Cloud2Edge is up in namespace $namespace. Point TwinLedger at it:
  eval "\$($here/scripts/twinledger-env.sh $release $namespace \$PWD/$release-hono-ca.pem)"
NEXT
fi
