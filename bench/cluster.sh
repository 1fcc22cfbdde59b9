#!/usr/bin/env bash
# keyarc as a cluster behind a real load balancer, on this machine: a PostgreSQL server (Debian's package), the
# SoftHSM2 tokens in one folder that every node shares, N CA nodes (ca serve, -Xmx512m each) and HAProxy (Debian's
# package) in front of them — TCP for the binary protocol (TLS passes through to the nodes), HTTP for CMP over
# HTTP, both health-checked on each node's GET /health. It drives the load generator through HAProxy with 1, 2
# and 3 nodes behind it and prints throughput per node count and the audit head's wait (the row lock every audit
# append takes on its chain's head) to bench/target/cluster.md — once with one audit chain a node (audit.chain:
# node-N, the cluster's configuration) and once with every node on the one 'main' chain, in the same run.
# Usage: bench/cluster.sh [--duration SECONDS] [--warmup SECONDS] [--nodes N] [--chains per-node|shared|both]
#        (defaults 10, 20, 3 and both)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
duration=10
warmup=20
max_nodes=3
chains="per-node shared"
while [ $# -gt 0 ]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --nodes) max_nodes=$2; shift 2 ;;
    --chains) case $2 in both) chains="per-node shared" ;; per-node|shared) chains=$2 ;; *) echo "--chains: per-node, shared or both" >&2; exit 2 ;; esac; shift 2 ;;
    *) echo "usage: bench/cluster.sh [--duration SECONDS] [--warmup SECONDS] [--nodes N] [--chains per-node|shared|both]" >&2; exit 2 ;;
  esac
done
# shellcheck source=../scripts/lib/tools.sh
. "$root/scripts/lib/tools.sh"
need_java
need_maven
need_softhsm
command -v haproxy >/dev/null 2>&1 || install_pkg haproxy "HAProxy (the load balancer in front of the nodes)"
pg_bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)" 2>/dev/null || true)
if [ ! -x "$pg_bin/initdb" ]; then
  install_pkg postgresql "PostgreSQL (the cluster's shared store)"
  pg_bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
fi

work=$(mktemp -d)
chmod 755 "$work" # PostgreSQL runs as nobody inside it; what is written below is private (umask 077)
umask 077
export KEYARC_HOME="$work/home"
unset SOFTHSM2_CONF KEYARC_PKCS11_MODULE KEYARC_PIN_DIR
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/haproxy.pid" ] && kill "$(cat "$work/haproxy.pid")" 2>/dev/null || true
  [ -d "$work/pg" ] && runuser -u nobody -- "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT

echo "== building"
(cd "$root" && mvn -q -B -DskipTests package >&2)
keyarc="$root/keyarc"

echo "== PostgreSQL ($pg_bin) on 127.0.0.1:55432, run as nobody (it refuses root)"
install -d -o nobody "$work/pg" "$work/pgsock"
runuser -u nobody -- "$pg_bin/initdb" -D "$work/pg" -U postgres -A trust > "$work/initdb.log"
runuser -u nobody -- "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pgsock/pg.log" -w \
  -o "-p 55432 -k '$work/pgsock' -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" start > /dev/null
runuser -u nobody -- "$pg_bin/createdb" -h 127.0.0.1 -p 55432 -U postgres keyarc

echo "== SoftHSM2 tokens, one folder for every node"
"$root/softhsm-config/setup-tokens.sh" --dir "$KEYARC_HOME/softhsm" --agents 0 > /dev/null
export SOFTHSM2_CONF="$KEYARC_HOME/softhsm/softhsm2.conf"
lib=$(softhsm_lib)
for i in $(seq 1 "$max_nodes"); do
  cat > "$work/node-$i.yaml" <<EOF
dataDir: $work/node-$i
hsm:
  module: $lib
  token: keyarc-ca
  pinFile: $KEYARC_HOME/softhsm/pins/keyarc-ca.pin
store:
  url: jdbc:postgresql://127.0.0.1:55432/keyarc
  user: postgres
binary:
  port: $((8700 + i))
http:
  port: $((8080 + i))
  tlsPort: $((8440 + i))
ca:
  publicUrl: http://127.0.0.1:9080/
EOF
  cp "$work/node-$i.yaml" "$work/node-$i-shared.yaml" # every node on the 'main' chain
  printf 'audit:\n  chain: node-%s\n' "$i" >> "$work/node-$i.yaml" # a chain of its own
done

echo "== CA init on the shared store"
"$keyarc" ca init --config "$work/node-1.yaml" --admin "CN=Bench Client" > "$work/init.out"
ref=$(awk '/  reference/{print $2}' "$work/init.out")
awk '/  secret/{print $2}' "$work/init.out" > "$work/client.secret"

node_pids=()
start_nodes() { # per-node|shared
  local i suffix=""
  [ "$1" = shared ] && suffix="-shared"
  node_pids=()
  for i in $(seq 1 "$max_nodes"); do # one after the other: the first one's start-up work is then done once
    KEYARC_JAVA_OPTS="-Xmx512m" "$keyarc" ca serve --config "$work/node-$i$suffix.yaml" > "$work/node-$i.log" 2>&1 &
    pids+=($!)
    node_pids+=($!)
    for _ in $(seq 1 90); do grep -q "stop with Ctrl-C" "$work/node-$i.log" && break; sleep 1; done
    grep -q "stop with Ctrl-C" "$work/node-$i.log" || { cat "$work/node-$i.log"; echo "node $i did not start" >&2; exit 1; }
  done
}
stop_nodes() {
  local p
  for p in "${node_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${node_pids[@]}"; do wait "$p" 2>/dev/null || true; done
}

haproxy_with() { # number of nodes behind it
  {
    echo "global"
    echo "  maxconn 4096"
    echo "  pidfile $work/haproxy.pid"
    echo "defaults"
    echo "  timeout connect 5s"
    echo "  timeout client 60s"
    echo "  timeout server 60s"
    echo "frontend binary"
    echo "  mode tcp"
    echo "  bind 127.0.0.1:9700"
    echo "  default_backend binary"
    echo "backend binary"
    echo "  mode tcp"
    echo "  balance roundrobin"
    echo "  option httpchk GET /health"
    for i in $(seq 1 "$1"); do echo "  server n$i 127.0.0.1:$((8700 + i)) check port $((8080 + i)) inter 1s"; done
    echo "frontend http"
    echo "  mode http"
    echo "  bind 127.0.0.1:9080"
    echo "  default_backend http"
    echo "backend http"
    echo "  mode http"
    echo "  balance roundrobin"
    echo "  option httpchk GET /health"
    echo "  http-check expect status 200"
    for i in $(seq 1 "$1"); do echo "  server n$i 127.0.0.1:$((8080 + i)) check inter 1s"; done
  } > "$work/haproxy.cfg"
  [ -f "$work/haproxy.pid" ] && kill "$(cat "$work/haproxy.pid")" 2>/dev/null && sleep 1
  haproxy -D -f "$work/haproxy.cfg"
  sleep 3 # the first health checks
}

head_wait() { # sum of seconds and count of audit head waits over all nodes
  local s=0 c=0 i out
  for i in $(seq 1 "$max_nodes"); do
    out=$(curl -s "http://127.0.0.1:$((8080 + i))/metrics")
    s=$(awk -v s="$s" '/^keyarc_audit_head_wait_seconds_sum/{s += $NF} END {printf "%.6f", s}' <<< "$out")
    c=$(awk -v c="$c" '/^keyarc_audit_head_wait_seconds_count/{c += $NF} END {printf "%d", c}' <<< "$out")
  done
  echo "$s $c"
}

set -- $chains
start_nodes "$1"
haproxy_with "$max_nodes"
"$keyarc" enroll --node tls://127.0.0.1:9700 --ref "$ref" --secret-file "$work/client.secret" \
  --out-key "$work/client.key" --out-cert "$work/client.crt" > /dev/null
leader=$(for i in $(seq 1 "$max_nodes"); do curl -s "http://127.0.0.1:$((8080 + i))/metrics" \
  | grep -q '^keyarc_node_leader{.*} 1.0' && echo "node $i"; done || true)
mkdir -p "$root/bench/target"
results="$root/bench/target/cluster.md"
{
  echo "# keyarc cluster run, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(java -version 2>&1 | head -1); PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}')" \
    "(fsync on), HAProxy $(haproxy -v | awk 'NR==1{print $3}'), SoftHSM2 $(softhsm2-util --version); every node," \
    "PostgreSQL, HAProxy and the load generator share the cores. Leader: ${leader:-none}."
  echo
  echo "| audit chains | nodes | transport | certificates/s | p50 | p99 | errors | audit appends | mean head wait | head wait / run |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
} > "$results"

first=yes
for mode in $chains; do
[ "$mode" = "$1" ] || { stop_nodes; start_nodes "$mode"; }
for n in $(seq 1 "$max_nodes"); do
  haproxy_with "$n"
  for target in tls://127.0.0.1:9700 http://127.0.0.1:9080/; do
    w=5
    [ "$first" = yes ] && w=$warmup && first=no
    read -r s0 c0 <<< "$(head_wait)"
    "$keyarc" bench enroll --node "$target" --cert "$work/client.crt" --key "$work/client.key" --connections 6 \
      --in-flight 8 --duration "$duration" --warmup "$w" --requests $(( (w + duration) * 1500 )) | tee "$work/load.out"
    read -r s1 c1 <<< "$(head_wait)"
    rate=$(sed -n 's/^certificates .*= \([0-9]*\)\/s/\1/p' "$work/load.out")
    p50=$(sed -n 's/^latency *p50 \([0-9.]* ms\).*/\1/p' "$work/load.out")
    p99=$(sed -n 's/.*p99 \([0-9.]* ms\).*/\1/p' "$work/load.out")
    errors=$(sed -n 's/^errors *//p' "$work/load.out")
    appends=$((c1 - c0))
    wait_ms=$(awk -v s="$s0" -v t="$s1" -v n="$appends" 'BEGIN {printf "%.2f ms", (n > 0 ? (t - s) * 1000 / n : 0)}')
    share=$(awk -v s="$s0" -v t="$s1" -v d="$((duration + w))" 'BEGIN {printf "%.0f%%", (t - s) * 100 / d}')
    echo "| $mode | $n | ${target%%:*} | $rate | $p50 | $p99 | $errors | $appends | $wait_ms | $share |" >> "$results"
  done
done
done
{
  echo
  echo "The head wait is summed over all nodes' appends (warm-up included) and shown against one run's wall time:"
  echo "above 100% means appends on several nodes waited at the same time. per-node: each node appends to its own"
  echo "chain (audit.chain); shared: every node appends to 'main', the one head row they all lock."
  echo
  echo "Audit after the run: $("$keyarc" audit verify --config "$work/node-1.yaml" 2>&1 | tail -2 | tr '\n' ' ')"
} >> "$results"
echo
cat "$results"
