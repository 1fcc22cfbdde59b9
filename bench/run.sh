#!/usr/bin/env bash
# keyarc benchmarks on a fresh machine: SoftHSM2 tokens, a CA node on the embedded store, the load
# generator (plain enrollment, binary and HTTP, with the HSM ceiling and the ratio), and the JMH suite in a
# short mode. Writes a Markdown table to bench/target/results.md and prints it.
# Usage: bench/run.sh [--duration SECONDS]   (default 10)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
duration=10
if [ "${1:-}" = --duration ]; then duration=$2; fi
# shellcheck source=../scripts/lib/tools.sh
. "$root/scripts/lib/tools.sh"
need_java
need_maven
need_softhsm

work=$(mktemp -d)
export KEYARC_HOME="$work/home"
unset SOFTHSM2_CONF KEYARC_PKCS11_MODULE KEYARC_PIN_DIR
node_pid=
cleanup() { [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "== building"
(cd "$root" && mvn -q -B -DskipTests package >&2)
keyarc="$root/keyarc"

echo "== CA node on the embedded defaults ($KEYARC_HOME)"
"$keyarc" ca serve --init --admin "CN=Bench Client" > "$work/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 1 60); do grep -q "HTTP CMP on" "$work/node.log" && break; sleep 1; done
grep -q "HTTP CMP on" "$work/node.log" || { cat "$work/node.log"; echo "the node did not start" >&2; exit 1; }
ref=$(awk '/  reference/{print $2}' "$work/node.log")
awk '/  secret/{print $2}' "$work/node.log" > "$work/client.secret"
"$keyarc" enroll --ref "$ref" --secret-file "$work/client.secret" --out-key "$work/client.key" \
  --out-cert "$work/client.crt" > /dev/null
pins="$KEYARC_HOME/softhsm/pins"
results="$root/bench/target/results.md"
mkdir -p "$root/bench/target"
{
  echo "# keyarc benchmark run, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
  echo
  echo "| load | certificates/s | p50 | p99 | HSM ceiling | ratio |"
  echo "|---|---|---|---|---|---|"
} > "$results"

run_load() { # name, node URL, extra options
  local name=$1 url=$2; shift 2
  echo "== load: $name"
  "$keyarc" bench enroll --node "$url" --cert "$work/client.crt" --key "$work/client.key" --duration "$duration" \
    --ceiling --token keyarc-ca --pin-file "$pins/keyarc-ca.pin" "$@" | tee "$work/load.out"
  local rate p50 p99 ceiling ratio
  rate=$(sed -n 's/^certificates .*= \([0-9]*\)\/s/\1/p' "$work/load.out")
  p50=$(sed -n 's/^latency *p50 \([0-9.]* ms\).*/\1/p' "$work/load.out")
  p99=$(sed -n 's/.*p99 \([0-9.]* ms\).*/\1/p' "$work/load.out")
  ceiling=$(sed -n 's/^ceiling *\([0-9]*\) .*/\1/p' "$work/load.out")
  ratio=$(sed -n 's/^ratio *\([0-9.]*\) .*/\1/p' "$work/load.out")
  echo "| $name | $rate | $p50 | $p99 | $ceiling/s | $ratio |" >> "$results"
}
run_load "plain, binary, 2 x 32 in flight" tcp://127.0.0.1:8700 --connections 2 --in-flight 32
run_load "plain, binary, 1 in flight" tcp://127.0.0.1:8700 --connections 1 --in-flight 1
run_load "plain, HTTP, 2 x 8 in flight" http://127.0.0.1:8080/ --connections 2 --in-flight 8

echo "== JMH (short mode)"
SOFTHSM2_CONF="$KEYARC_HOME/softhsm/softhsm2.conf" java -jar "$root/bench/target/benchmarks.jar" \
  'SigningBenchmark|WrapBenchmark|ArchivalChainBenchmark' -f 1 -wi 1 -w 1 -i 2 -r 2 -t 1 \
  -p pinFile="$pins/keyarc-ca.pin" -rf csv -rff "$work/jmh.csv" > "$work/jmh.log" 2>&1
{
  echo
  echo "| JMH benchmark (1 thread) | key | policy | ops/s |"
  echo "|---|---|---|---|"
  # CSV columns: Benchmark, Mode, Threads, Samples, Score, Error, Unit, key, module, pinFile, policy, token
  tail -n +2 "$work/jmh.csv" | while IFS=, read -r bench _ _ _ score _ _ key _ _ policy _; do
    bench=${bench//\"/}
    echo "| ${bench#org.keyarc.bench.} | ${key//\"/} | ${policy//\"/} | ${score%.*} |"
  done
} >> "$results"
echo
cat "$results"
