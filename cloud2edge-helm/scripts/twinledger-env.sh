#!/usr/bin/env bash
# Prints `export` lines for everything TwinLedger reads from a Cloud2Edge installation (and the Kubo add-on),
# the way Cloud2Edge's setCloud2EdgeEnv.sh does for Hono and Ditto. Use it as
#
#   eval "$(cloud2edge-helm/scripts/twinledger-env.sh c2e cloud2edge "$PWD/c2e-hono-ca.pem")"
#
#   twinledger-env.sh [RELEASE [NAMESPACE [CA_FILE]]] [options]
#     RELEASE                 Helm release of Cloud2Edge (default c2e)
#     NAMESPACE               its namespace (default cloud2edge)
#     CA_FILE                 where to write Hono's example CA certificate (default ./RELEASE-hono-ca.pem)
#   --node-ip ADDRESS         a node address for NodePort services (default: the first node's ExternalIP, else InternalIP)
#   --tls-server-name NAME    name to check Hono's example certificates against (default localhost)
#   --kubo-release NAME       release of the Kubo add-on (default RELEASE-kubo)
#   --kubo-local-port PORT    local port of `kubectl port-forward` to Kubo's API (default 5001)
#   --fabric-peer HOST:PORT --fabric-tls-ca FILE --fabric-msp-id ID --fabric-cert FILE --fabric-key FILE
#   [--fabric-host-alias NAME] [--fabric-channel NAME] [--fabric-chaincode NAME]
#                             a Fabric gateway peer and identity (see cloud2edge-helm/fabric/README.md)
#
# The only secret it prints is DITTO_DEVOPS_PWD, as setCloud2EdgeEnv.sh does. Messages go to stderr.
set -euo pipefail

# One query per Service: type, load-balancer addresses, the Kubo chart's auth annotation, then "name port nodePort"
# per port. [*] instead of [0]: an empty ingress list must print nothing rather than fail.
readonly SERVICE_JSONPATH='{.spec.type}{"\n"}{.status.loadBalancer.ingress[*].ip}{"\n"}{.status.loadBalancer.ingress[*].hostname}{"\n"}{.metadata.annotations.twinledger-api-auth-secret}{"\n"}{range .spec.ports[*]}{.name}{" "}{.port}{" "}{.nodePort}{"\n"}{end}'

fail() {
  echo "twinledger-env.sh: $*" >&2
  exit 2
}

note() {
  echo "twinledger-env.sh: $*" >&2
}

usage() {
  sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

value_of() {
  if [ $# -lt 2 ] || [ -z "$2" ]; then fail "$1 needs a value"; fi
  printf '%s' "$2"
}

positionals=()
node_ip=""
tls_server_name=localhost
kubo_release=""
kubo_local_port=5001
fabric_peer="" fabric_tls_ca="" fabric_msp_id="" fabric_cert="" fabric_key=""
fabric_host_alias="" fabric_channel=mychannel fabric_chaincode=twinledger

while [ $# -gt 0 ]; do
  case "$1" in
    --node-ip) node_ip="$(value_of "$@")"; shift 2 ;;
    --tls-server-name) tls_server_name="$(value_of "$@")"; shift 2 ;;
    --kubo-release) kubo_release="$(value_of "$@")"; shift 2 ;;
    --kubo-local-port) kubo_local_port="$(value_of "$@")"; shift 2 ;;
    --fabric-peer) fabric_peer="$(value_of "$@")"; shift 2 ;;
    --fabric-tls-ca) fabric_tls_ca="$(value_of "$@")"; shift 2 ;;
    --fabric-msp-id) fabric_msp_id="$(value_of "$@")"; shift 2 ;;
    --fabric-cert) fabric_cert="$(value_of "$@")"; shift 2 ;;
    --fabric-key) fabric_key="$(value_of "$@")"; shift 2 ;;
    --fabric-host-alias) fabric_host_alias="$(value_of "$@")"; shift 2 ;;
    --fabric-channel) fabric_channel="$(value_of "$@")"; shift 2 ;;
    --fabric-chaincode) fabric_chaincode="$(value_of "$@")"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; fail "unknown option: $1" ;;
    *) positionals+=("$1"); shift ;;
  esac
done
[ ${#positionals[@]} -le 3 ] || fail "at most three arguments: RELEASE NAMESPACE CA_FILE"
release="${positionals[0]:-c2e}"
namespace="${positionals[1]:-cloud2edge}"
ca_file="${positionals[2]:-$PWD/$release-hono-ca.pem}"
kubo_release="${kubo_release:-$release-kubo}"
if ! [[ $kubo_local_port =~ ^[1-9][0-9]{0,4}$ ]] || [ "$kubo_local_port" -gt 65535 ]; then
  fail "--kubo-local-port must be a TCP port, got '$kubo_local_port'"
fi

command -v kubectl >/dev/null 2>&1 || fail "kubectl is not on PATH"

# Single-quoted for the shell that evals the output: a value from the cluster cannot run commands there.
quote() {
  local squote="'" escaped="'\\''"
  printf "'%s'" "${1//$squote/$escaped}"
}

emit() {
  printf 'export %s=%s\n' "$1" "$(quote "$2")"
}

absolute() {
  [ -r "$1" ] || fail "$2: $1 is not a readable file"
  printf '%s/%s' "$(cd "$(dirname "$1")" && pwd)" "$(basename "$1")"
}

# Checked before anything is printed, so that a mistake leaves no half environment behind.
if [ -z "$fabric_peer" ] && [ -n "$fabric_tls_ca$fabric_msp_id$fabric_cert$fabric_key$fabric_host_alias" ]; then
  fail "the --fabric-* options need --fabric-peer"
fi
if [ -n "$fabric_peer" ]; then
  [[ $fabric_peer =~ ^[^[:space:]:/]+:[0-9]+$ ]] || fail "--fabric-peer must be host:port, got '$fabric_peer'"
  for required in fabric_tls_ca fabric_msp_id fabric_cert fabric_key; do
    [ -n "${!required}" ] || fail "--fabric-peer needs --${required//_/-} too"
  done
  fabric_tls_ca="$(absolute "$fabric_tls_ca" --fabric-tls-ca)"
  fabric_cert="$(absolute "$fabric_cert" --fabric-cert)"
  fabric_key="$(absolute "$fabric_key" --fabric-key)"
fi

# Sets node_ip once (not in a subshell, so that fail ends the script).
need_node_ip() {
  if [ -z "$node_ip" ]; then
    node_ip="$(kubectl get nodes -o 'jsonpath={.items[0].status.addresses[?(@.type=="ExternalIP")].address}' 2>/dev/null || true)"
  fi
  if [ -z "$node_ip" ]; then
    node_ip="$(kubectl get nodes -o 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}' 2>/dev/null || true)"
  fi
  [ -n "$node_ip" ] || fail "cannot read a node address with kubectl; give one with --node-ip"
}

# Sets svc_type, svc_lb (first load-balancer address), svc_auth and svc_ports ("name port nodePort" lines).
read_service() {
  local out
  out="$(kubectl get service "$1" --namespace "$namespace" -o "jsonpath=$SERVICE_JSONPATH" 2>/dev/null)" || return 1
  [ -n "$out" ] || return 1
  local ips hostnames
  {
    IFS= read -r svc_type || true
    IFS= read -r ips || true
    IFS= read -r hostnames || true
    IFS= read -r svc_auth || true
    svc_ports="$(cat)"
  } <<<"$out"
  read -r svc_lb _ <<<"$ips $hostnames" || true
}

# endpoint SERVICE PREFIX PORT_NAME=SUFFIX... prints PREFIX_IP and PREFIX_PORT_SUFFIX for the ports that exist,
# and PREFIX_BASE_URL when the service has an http or https port (https preferred). Returns 1 when it prints
# nothing. Uses the service that read_service read last when SERVICE is "-".
endpoint() {
  local service="$1" prefix="$2"
  shift 2
  if [ "$service" != - ] && ! read_service "$service"; then
    note "no service $service in namespace $namespace: nothing for ${prefix}_*"
    return 1
  fi
  local host field
  case "$svc_type" in
    NodePort)
      need_node_ip
      host="$node_ip"
      field=3
      ;;
    LoadBalancer)
      host="${svc_lb:-}"
      field=2
      if [ -z "$host" ]; then
        note "a service of $prefix has no load-balancer address yet: nothing for ${prefix}_*"
        return 1
      fi
      ;;
    *)
      note "a service of $prefix is of type $svc_type, not reachable from outside the cluster: nothing for ${prefix}_*"
      return 1
      ;;
  esac
  emit "${prefix}_IP" "$host"
  local url_host="$host" http_url="" https_url="" wanted name suffix port
  if [[ $host == *:* ]]; then url_host="[$host]"; fi
  for wanted in "$@"; do
    name="${wanted%%=*}"
    suffix="${wanted#*=}"
    port="$(awk -v name="$name" -v field="$field" '$1 == name { print $field }' <<<"$svc_ports")"
    [ -n "$port" ] || continue
    emit "${prefix}_PORT_${suffix}" "$port"
    case "$name:$port" in
      http:80) http_url="http://$url_host" ;;
      http:*) http_url="http://$url_host:$port" ;;
      https:443) https_url="https://$url_host" ;;
      https:*) https_url="https://$url_host:$port" ;;
    esac
  done
  if [ -n "$https_url$http_url" ]; then emit "${prefix}_BASE_URL" "${https_url:-$http_url}"; fi
}

found_registry=true found_ditto=true
endpoint "$release-hono-service-device-registry-ext" REGISTRY http=HTTP https=HTTPS || found_registry=false
endpoint "$release-hono-adapter-http" HTTP_ADAPTER http=HTTP https=HTTPS || true
endpoint "$release-hono-adapter-mqtt" MQTT_ADAPTER mqtt=MQTT secure-mqtt=MQTTS || true
endpoint "$release-ditto-nginx" DITTO_API http=HTTP || found_ditto=false
if ! $found_registry && ! $found_ditto; then
  fail "found neither Hono's device registry nor Ditto of release $release in namespace $namespace (is that the release, and can kubectl reach the cluster?)"
fi

# The example Kafka's external service is <release>-kafka-controller-0-external with the Bitnami Kafka chart
# 26 (KRaft) that Hono's chart 2.6 uses; <release>-kafka-0-external is the name older charts gave it.
messaging=""
if read_service "$release-kafka-controller-0-external" || read_service "$release-kafka-0-external"; then
  messaging=kafka
  endpoint - KAFKA tcp-kafka=TCP_KAFKA || true
elif read_service "$release-hono-dispatch-router-ext"; then
  messaging=amqp
  endpoint - AMQP_NETWORK amqp=AMQP amqps=AMQPS || true
else
  note "found neither the example Kafka nor the AMQP network of release $release: TWINLEDGER_MESSAGING not set"
fi
if [ -n "$messaging" ]; then emit TWINLEDGER_MESSAGING "$messaging"; fi

if encoded="$(kubectl get secret "$release-ditto-gateway-secret" --namespace "$namespace" -o 'jsonpath={.data.devops-password}' 2>/dev/null)" &&
  [ -n "$encoded" ]; then
  emit DITTO_DEVOPS_PWD "$(base64 --decode <<<"$encoded")"
else
  note "cannot read secret $release-ditto-gateway-secret: DITTO_DEVOPS_PWD not set"
fi

if ca="$(kubectl get configmap "$release-hono-example-trust-store" --namespace "$namespace" -o 'jsonpath={.data.ca\.crt}' 2>/dev/null)" &&
  [ -n "$ca" ]; then
  printf '%s\n' "$ca" >"$ca_file"
  emit TWINLEDGER_CA_FILE "$(absolute "$ca_file" CA_FILE)"
  # Hono renews its example certificates about once a year; those of Cloud2Edge 0.9.2 end on 30 June 2026.
  if command -v openssl >/dev/null 2>&1 && openssl x509 -noout -in "$ca_file" >/dev/null 2>&1 &&
    ! openssl x509 -noout -checkend 0 -in "$ca_file" >/dev/null 2>&1; then
    note "the CA certificate in $ca_file has expired ($(openssl x509 -noout -enddate -in "$ca_file")): TLS connections to Hono's example endpoints will fail; see cloud2edge-helm/README.md"
  fi
  # Hono's example certificates name the in-cluster services and localhost, never a node or load-balancer
  # address: localhost is the name they all share. The chain is still checked against the CA.
  emit TWINLEDGER_TLS_SERVER_NAME "$tls_server_name"
else
  note "cannot read configmap $release-hono-example-trust-store: TWINLEDGER_CA_FILE not set"
fi

if read_service "$kubo_release"; then
  kubo_port="$(awk '$1 == "api" { print $2 }' <<<"$svc_ports")"
  if [ -n "$kubo_port" ]; then
    echo "# Kubo's RPC API is cluster-internal; forward it first (in the cluster use http://$kubo_release.$namespace.svc:$kubo_port):"
    echo "#   kubectl port-forward --namespace $namespace service/$kubo_release $kubo_local_port:$kubo_port"
    emit TWINLEDGER_KUBO_URL "http://127.0.0.1:$kubo_local_port"
    if [ -n "${svc_auth:-}" ]; then
      echo "# Kubo requires credentials (API.Authorizations): set TWINLEDGER_KUBO_TOKEN, or TWINLEDGER_KUBO_USERNAME and"
      echo "# TWINLEDGER_KUBO_PASSWORD, from the key auth-secret of secret $svc_auth yourself."
    fi
  else
    note "service $kubo_release has no port named api: TWINLEDGER_KUBO_URL not set"
  fi
fi

if [ -n "$fabric_peer" ]; then
  emit TWINLEDGER_FABRIC_PEER "$fabric_peer"
  emit TWINLEDGER_FABRIC_TLS_CA_FILE "$fabric_tls_ca"
  if [ -n "$fabric_host_alias" ]; then emit TWINLEDGER_FABRIC_HOST_ALIAS "$fabric_host_alias"; fi
  emit TWINLEDGER_FABRIC_MSP_ID "$fabric_msp_id"
  emit TWINLEDGER_FABRIC_CERT_FILE "$fabric_cert"
  emit TWINLEDGER_FABRIC_KEY_FILE "$fabric_key"
  emit TWINLEDGER_FABRIC_CHANNEL "$fabric_channel"
  emit TWINLEDGER_FABRIC_CHAINCODE "$fabric_chaincode"
fi
