#!/usr/bin/env bash
# keyarc benchmarks on a fresh machine. In a temporary KEYARC_HOME it makes the SoftHSM2 tokens (CA + three agent
# cards), starts a CA node on the embedded store with a 512 MB heap, and runs the load generator:
#   plain enrollment on binary and HTTP (closed loop, 16 certificates per message, one at a time, open loop at half
#   the peak, 1,000 connections),
#   archival enrollment (RSA-2048 user keys) at 1-of-1 and 2-of-3 on binary and HTTP, each with its HSM ceiling;
# the disk's fsync latency beside the open-loop run; the scaling curve (1 to 16 connections x 1, 4, 16 certificates
# per message; table and bench/target/scaling.png); OpenSSL's own speed for the same operations; every issue-19
# target with its figure and ratio; then the JMH suite in a short mode at 1, 2 and 4 threads. Writes Markdown tables
# to bench/target/results.md.
# Usage: bench/run.sh [--duration SECONDS] [--warmup SECONDS] [--jit-warmup SECONDS] [--no-jmh] [--no-scaling]
#        [--profile] [--only plain]
#   (defaults 10, 60 and 240; --jit-warmup: plain load, not measured, before the first run and its own warm-up, since
#   the C2 compiler goes on compiling H2's and Bouncy Castle's paths for about 6 minutes; --profile records the node with Java Flight Recorder during the first plain run's measured
#   part and prints where its CPU went: bench/target/profile.txt; --only plain runs the binary plain loads, the
#   fsync probe and the targets they measure, and nothing else: about 6 minutes)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
duration=10
warmup=60
jit_warmup=240
jmh=yes
scaling=yes
profile=no
only=all
usage="usage: bench/run.sh [--duration SECONDS] [--warmup SECONDS] [--jit-warmup SECONDS] [--no-jmh] [--no-scaling]"
usage="$usage [--profile] [--only plain]"
while [ $# -gt 0 ]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --jit-warmup) jit_warmup=$2; shift 2 ;;
    --no-jmh) jmh=no; shift ;;
    --no-scaling) scaling=no; shift ;;
    --profile) profile=yes; shift ;;
    --only) [ "${2:-}" = plain ] || { echo "$usage" >&2; exit 2; }; only=plain; jmh=no; scaling=no; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
# shellcheck source=../scripts/lib/tools.sh
. "$root/scripts/lib/tools.sh"
need_java
need_maven
need_softhsm
need_openssl
[ "$scaling" = no ] || need_gnuplot

work=$(mktemp -d)
export KEYARC_HOME="$work/home"
unset SOFTHSM2_CONF KEYARC_PKCS11_MODULE KEYARC_PIN_DIR
node_pid=
cleanup() { [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "== building"
(cd "$root" && mvn -q -B -DskipTests package >&2)
keyarc="$root/keyarc"

echo "== CA node on the embedded defaults, heap limited to 512 MB ($KEYARC_HOME)"
jfr_opts=
if [ "$profile" = yes ]; then # the measured part of the first plain run (its warm-up, plus the node's start and enrollment)
  # (the JIT warm-up's parts each take about a minute to prepare)
  jfr_opts="-XX:StartFlightRecording=delay=$(( jit_warmup + (jit_warmup + 119) / 120 * 60 + warmup + 15 ))s"
  jfr_opts="$jfr_opts,duration=$(( duration > 6 ? duration - 4 : duration ))s"
  jfr_opts="$jfr_opts,settings=profile,filename=$work/node.jfr"
fi
KEYARC_JAVA_OPTS="-Xmx512m $jfr_opts" "$keyarc" ca serve --init --admin "CN=Bench Client" > "$work/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 1 60); do grep -q "stop with Ctrl-C" "$work/node.log" && break; sleep 1; done
grep -q "stop with Ctrl-C" "$work/node.log" || { cat "$work/node.log"; echo "the node did not start" >&2; exit 1; }
ref=$(awk '/  reference/{print $2}' "$work/node.log")
awk '/  secret/{print $2}' "$work/node.log" > "$work/client.secret"
"$keyarc" enroll --ref "$ref" --secret-file "$work/client.secret" --out-key "$work/client.key" \
  --out-cert "$work/client.crt" > /dev/null
bin=tls://127.0.0.1:8700
http=http://127.0.0.1:8080/
https=https://127.0.0.1:8443/
admin=(--node "$bin" --cert "$work/client.crt" --key "$work/client.key")
pins="$KEYARC_HOME/softhsm/pins"
results="$root/bench/target/results.md"
mkdir -p "$root/bench/target"
{
  echo "# keyarc benchmark run, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), " \
    "$(free -g | awk '/Mem:/{print $2}') GB; $(java -version 2>&1 | head -1); SoftHSM2 $(softhsm2-util --version)." \
    "Load generator and node share the cores. Node heap limited to 512 MB (-Xmx512m)."
  echo
  echo "| load | certificates/s | p50 | p90 | p99 | max | errors | HSM ceiling | ratio | cores busy: generator / node |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
} > "$results"

heap_max=
watch_heap() { # the node's largest heap use while a run lasts (Prometheus gauge, all heap pools)
  while sleep 1; do
    curl -s "${http}metrics" | awk 'index($0, "jvm_memory_used_bytes{area=\"heap\"") == 1 {s += $NF}
      END {printf "%d\n", s / 1048576}'
  done > "$work/heap.log"
}

signer=client # whose certificate signs the load: a User certificate enrolls on User only (issue 12)
run_load() { # name, then bench enroll options
  local name=$1; shift
  echo "== load: $name"
  # a load that fails (no certificate at all) is reported in its row, and the runs after it still run
  "$keyarc" bench enroll --cert "$work/$signer.crt" --key "$work/$signer.key" --duration "$duration" "$@" \
    | tee "$work/load.out" || echo "the load '$name' issued nothing (its errors are in its row)" >&2
  local rate p50 p90 p99 max errors ceiling ratio
  rate=$(sed -n 's/^certificates .*= \([0-9]*\)\/s/\1/p' "$work/load.out")
  p50=$(sed -n 's/^latency *p50 \([0-9.]* ms\).*/\1/p' "$work/load.out")
  p90=$(sed -n 's/.*p90 \([0-9.]* ms\).*/\1/p' "$work/load.out")
  p99=$(sed -n 's/.*p99 \([0-9.]* ms\).*/\1/p' "$work/load.out")
  max=$(sed -n 's/.*max \([0-9.]* ms\).*/\1/p' "$work/load.out")
  errors=$(sed -n 's/^errors *//p' "$work/load.out")
  ceiling=$(sed -n 's/^ceiling *\([0-9]*\) .*/\1\/s/p' "$work/load.out")
  ratio=$(sed -n 's/^ratio *\([0-9.]*\) .*/\1/p' "$work/load.out")
  local cpu
  cpu=$(sed -n 's/^cpu .*load generator \([0-9.]*\), the node and the rest \([0-9.]*\)/\1 \/ \2/p' "$work/load.out")
  echo "| $name | $rate | $p50 | $p90 | $p99 | $max | $errors | ${ceiling:--} | ${ratio:--} | ${cpu:--} |" >> "$results"
}
ceiling=(--ceiling --token keyarc-ca --pin-file "$pins/keyarc-ca.pin")

# the node's JIT compiler: plain load for --jit-warmup seconds, in parts of at most 2 minutes (each part's requests
# are prepared before it, while the node waits), then the first run's own warm-up
left=$jit_warmup
[ "$left" -le 0 ] || echo "== JIT warm-up: ${left} s of plain load, not measured"
while [ "$left" -gt 0 ]; do
  part=$(( left > 120 ? 120 : left ))
  "$keyarc" bench enroll --cert "$work/$signer.crt" --key "$work/$signer.key" --node "$bin" --connections 2 \
    --in-flight 32 --duration "$part" --warmup 0 --requests $(( part * 1500 )) > "$work/jit-warmup.out" 2>&1 \
    || { tail -5 "$work/jit-warmup.out"; echo "the JIT warm-up load failed" >&2; exit 1; }
  left=$(( left - part ))
done
# plain enrollment: the first run warms up for another minute (figures before that are half)
run_load "plain P-256, binary, 2 x 32 in flight" --node "$bin" --connections 2 --in-flight 32 \
  --warmup "$warmup" --requests $(( (warmup + duration) * 1500 )) "${ceiling[@]}"
peak=$(sed -n 's/^certificates .*= \([0-9]*\)\/s/\1/p' "$work/load.out")
plain_ratio=$(sed -n 's/^ratio *\([0-9.]*\) .*/\1/p' "$work/load.out")
plain_ceiling=$(sed -n 's/^ceiling *\([0-9]*\) .*/\1/p' "$work/load.out")
plain_node_cores=$(sed -n 's/^cpu .*the node and the rest \([0-9.]*\)/\1/p' "$work/load.out")
if [ "$profile" = yes ]; then
  for _ in $(seq 1 30); do [ -s "$work/node.jfr" ] && break; sleep 1; done
  # CPU samples of the node: by thread, by the method on top of the stack, and by the first keyarc method below it
  samples() { # event type, title
    jfr print --stack-depth 64 --events "$1" "$work/node.jfr" | awk -v title="$2" '
    /sampledThread = / { t = $0; sub(/.*sampledThread = "/, "", t); sub(/".*/, "", t); gsub(/[-#]?[0-9]+$/, "", t) }
    /stackTrace = \[/ { depth = 0; own = ""; next }
    /^ *\]/ { if (top != "") { n++; threads[t]++; tops[top]++; owns[own == "" ? "(no keyarc frame)" : own]++ }; top = ""; next }
    /line:/ { f = $1; if (depth++ == 0) top = f; if (own == "" && f ~ /^org\.keyarc\./) own = f }
    END {
      printf "== %d %s\n\n-- by thread\n", n, title
      for (k in threads) printf "%6.1f%%  %s\n", 100 * threads[k] / n, k | "sort -rn | head -12"; close("sort -rn | head -12")
      printf "\n-- by the method on top of the stack\n"
      for (k in tops) printf "%6.1f%%  %s\n", 100 * tops[k] / n, k | "sort -rn | head -25"; close("sort -rn | head -25")
      printf "\n-- by the first keyarc method on the stack\n"
      for (k in owns) printf "%6.1f%%  %s\n", 100 * owns[k] / n, k | "sort -rn | head -25"; close("sort -rn | head -25")
    }'
  }
  { samples jdk.ExecutionSample "samples of the node's Java code on CPU"
    echo
    samples jdk.NativeMethodSample "samples of the node's threads in native code (PKCS#11 calls into SoftHSM2, but also waits: epoll, the disk)"
  } > "$root/bench/target/profile.txt" || echo "the profile could not be read" >&2
  cp "$work/node.jfr" "$root/bench/target/node.jfr" # for a closer look: jfr print / JDK Mission Control
  echo "== profile of the node during the first plain run: bench/target/profile.txt"
  head -70 "$root/bench/target/profile.txt"
fi
# its ceiling is 17 CA signatures per 16 certificates: the HSM's own limit for that message shape; its own 30 s of
# warm-up, since its paths (one message's certificates issued in parallel) are not the single-certificate run's
run_load "plain P-256, binary, 16 certificates per message, 2 x 16 in flight" --node "$bin" --connections 2 \
  --in-flight 16 --batch 16 --warmup 30 --requests $(( (30 + duration) * 400 )) "${ceiling[@]}"
batch16=$(sed -n 's/^certificates .*= \([0-9]*\)\/s/\1/p' "$work/load.out")
batch16_ceiling=$(sed -n 's/^ceiling *\([0-9]*\) .*/\1/p' "$work/load.out")
run_load "plain P-256, binary, 1 in flight" --node "$bin" --connections 1 --in-flight 1 --warmup 5
# the disk's own commit latency, measured on the node's data folder while the open-loop load runs
"$keyarc" bench fsync --dir "$KEYARC_HOME" --count $(( duration * 100 )) --rate 100 > "$work/fsync.out" &
fsync_pid=$!
# the generator is a new JVM: its own JIT compiles during the first seconds (and took 0.7 of a core for 400/s), so
# it first sends at the same rate for 15 s, not measured
run_load "plain P-256, binary, open loop at half the peak ($(( peak / 2 ))/s)" --node "$bin" --connections 2 \
  --rate $(( peak / 2 )) --warmup 15 --requests $(( 2 * (15 + duration) * peak / 2 + 100 ))
half_p99=$(sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p' "$work/load.out")
wait "$fsync_pid"
cat "$work/fsync.out"
fsync_p99=$(sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p' "$work/fsync.out")
fsync_line=$(sed -n 's/^fsync latency //p' "$work/fsync.out")
if [ "$only" = all ]; then
watch_heap & watcher=$!
run_load "plain P-256, binary, 1,000 connections x 1 in flight" --node "$bin" --connections 1000 --in-flight 1 \
  --warmup 5 --requests $(( (5 + duration) * 1500 ))
kill "$watcher" 2>/dev/null || true
heap_max=$(sort -n "$work/heap.log" | tail -1)
run_load "plain P-256, HTTP, 2 x 8 in flight" --node "$http" --connections 2 --in-flight 8 --warmup 5

if [ "$scaling" = yes ]; then
  echo "== scaling curve: 1 to 16 connections x 1, 4 and 16 certificates per message (4 in flight each)"
  : > "$work/scaling.dat"
  for k in 1 4 16; do
    for c in 1 2 4 8 16; do
      "$keyarc" bench enroll --cert "$work/$signer.crt" --key "$work/$signer.key" --node "$bin" --connections "$c" \
        --in-flight 4 --batch "$k" --duration "$duration" --warmup 3 \
        --requests $(( (3 + duration) * 2000 / k + c * 8 )) > "$work/load.out"
      r=$(sed -n 's/^certificates .*= \([0-9]*\)\/s/\1/p' "$work/load.out")
      p99=$(sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p' "$work/load.out")
      echo "$k $c ${r:-0} ${p99:-0}" | tee -a "$work/scaling.dat"
    done
  done
  cp "$work/scaling.dat" "$root/bench/target/scaling.dat"
  gnuplot <<GNUPLOT
set terminal pngcairo size 900,560 font ",11"
set output "$root/bench/target/scaling.png"
set title "keyarc plain P-256 enrollment, binary transport, 4 in flight per connection ($(nproc) cores, SoftHSM2)"
set xlabel "connections"
set ylabel "certificates/s"
set logscale x 2
set key left top
set grid
plot for [k in "1 4 16"] "$work/scaling.dat" using (\$1 == k ? \$2 : 1/0):3 with linespoints title k." per message"
GNUPLOT
fi

echo "== recovery agents: three cards, approved and added"
# a role is bound to its holder's key: the manager enrolls first, then the role is granted
out=$("$keyarc" secret create "${admin[@]}" --template User --subject "CN=Bench Manager")
awk '/^secret/{print $2}' <<< "$out" > "$work/manager.secret"
"$keyarc" enroll --node "$bin" --ref "$(awk '/^reference/{print $2}' <<< "$out")" --secret-file "$work/manager.secret" \
  --out-key "$work/manager.key" --out-cert "$work/manager.crt" > /dev/null
"$keyarc" role grant "${admin[@]}" --role manager --subject "CN=Bench Manager" > /dev/null
manager=(--node "$bin" --cert "$work/manager.crt" --key "$work/manager.key")
for i in 1 2 3; do
  # the administrator asks, the manager approves: the requester of a request never approves it (four eyes)
  out=$("$keyarc" secret create "${admin[@]}" --template KeyRecoveryAgent --subject "CN=Bench Agent $i")
  awk '/^secret/{print $2}' <<< "$out" > "$work/agent-$i.secret"
  card=(--token "kra-$i" --pin-file "$pins/kra-$i.pin" --node "$bin" --ref "$(awk '/^reference/{print $2}' <<< "$out")"
    --secret-file "$work/agent-$i.secret")
  "$keyarc" kra init-card "${card[@]}" --subject "CN=Bench Agent $i" > /dev/null
  id=$("$keyarc" request list "${manager[@]}" | awk -v s="CN=Bench Agent $i" '$2 == "pending" && index($0, s) {print $1}')
  "$keyarc" request approve "${manager[@]}" "$id" > /dev/null
  serial=$("$keyarc" kra init-card "${card[@]}" --resume | sed -n 's/.*serial \([0-9a-f]*\),.*/\1/p')
  "$keyarc" kra add "${admin[@]}" --serial "$serial" > /dev/null
done

echo "== the archival load is signed with an ExchangeUserKeyArc certificate (holders renew on their own template)"
out=$("$keyarc" secret create "${manager[@]}" --template ExchangeUserKeyArc --subject "CN=Bench Archiver" \
  --email bench-archiver@keyarc.example)
awk '/^secret/{print $2}' <<< "$out" > "$work/archiver.secret"
"$keyarc" enroll --node "$bin" --archive --key-type rsa2048 --ref "$(awk '/^reference/{print $2}' <<< "$out")" \
  --secret-file "$work/archiver.secret" --out-key "$work/archiver.key" --out-cert "$work/archiver.crt" > /dev/null
signer=archiver

for policy in "1 1" "3 2"; do
  read -r n m <<< "$policy"
  "$keyarc" kra policy "${admin[@]}" --agents "$n" --threshold "$m"
  archival=(--archive --key-type rsa2048 --agents "$n" --threshold "$m" "${ceiling[@]}" --warmup 20)
  run_load "archival RSA-2048 $m of $n, binary, 2 x 16 in flight" --node "$bin" --connections 2 --in-flight 16 \
    --requests 12000 "${archival[@]}"
  eval "archival_ratio_${n}_${m}=\$(sed -n 's/^ratio *\([0-9.]*\) .*/\1/p' \"\$work/load.out\")"
  run_load "archival RSA-2048 $m of $n, binary, 4 certificates per message, 2 x 8 in flight" --node "$bin" \
    --connections 2 --in-flight 8 --batch 4 --requests 4000 "${archival[@]}"
  # archival enrollments carry the user's private key: the node takes them over TLS only (HTTPS here)
  run_load "archival RSA-2048 $m of $n, HTTPS, 2 x 8 in flight" --node "$https" --connections 2 --in-flight 8 \
    --requests 12000 "${archival[@]}"
done
fi # only = all
echo "== OpenSSL's own speed on one core, for the same operations (the physical limit of this CPU)"
openssl speed -seconds 2 ecdsap256 rsa2048 2>/dev/null > "$work/openssl.out" || true
ossl_ec=$(awk '/ 256 bits ecdsa \(nistp256\)/ {print $(NF-1) " sign/s, " $NF " verify/s"}' "$work/openssl.out")
ossl_rsa=$(awk '/^rsa 2048 bits/ {print $(NF-1) " sign/s, " $NF " verify/s"}' "$work/openssl.out")
ratio_ok() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "") print "not measured"; else if (r + 0 >= t) print "met"; else print "not met" }'; }
fsync_ratio=$(awk -v a="$half_p99" -v b="$fsync_p99" 'BEGIN { if (b > 0) printf "%.1f", a / b }')
{
  echo
  [ -z "$heap_max" ] || echo "Node heap at most ${heap_max} MB in use during the 1,000-connection run (limit 512 MB)."
  echo
  echo "Disk, beside the open-loop run: fsync of 4 KiB $fsync_line."
  echo
  echo "OpenSSL $(openssl version | awk '{print $2}') speed, one core: P-256 ${ossl_ec:-?}; RSA-2048 ${ossl_rsa:-?}."
  echo
  echo "| issue 19 target | measured | met? |"
  echo "|---|---|---|"
  echo "| plain P-256, 1 per message: rate >= 0.8 x HSM ceiling | ratio ${plain_ratio:-?} (ceiling ${plain_ceiling:-?}/s) | $(ratio_ok "$plain_ratio" 0.8) |"
  echo "| plain P-256, 16 per message: >= 5,000 certificates/s | ${batch16:-?}/s (its HSM ceiling ${batch16_ceiling:-?}/s) | $(ratio_ok "$batch16" 5000) |"
  echo "| archival RSA-2048 1 of 1: rate >= 0.8 x ceiling | ratio ${archival_ratio_1_1:-?} | $(ratio_ok "${archival_ratio_1_1:-}" 0.8) |"
  echo "| archival RSA-2048 2 of 3: rate >= 0.8 x ceiling | ratio ${archival_ratio_3_2:-?} | $(ratio_ok "${archival_ratio_3_2:-}" 0.8) |"
  echo "| p99 at half the peak <= 3 x the disk's fsync p99 | ${half_p99:-?} ms against fsync p99 ${fsync_p99:-?} ms: ${fsync_ratio:-?} x | $(awk -v r="$fsync_ratio" 'BEGIN { if (r == "") print "not measured"; else if (r + 0 <= 3) print "met"; else print "not met" }') |"
  echo "| compared with XiPKI's published 880/s (P-256, 4 cores: 220/s per core) | ${peak:-?}/s on ${plain_node_cores:-?} cores of node: $(awk -v r="$peak" -v c="$plain_node_cores" 'BEGIN { if (c > 0) printf "%.0f", r / c; else print "?" }')/s per core | - |"
  echo "| node heap <= 512 MB at 1,000 connections | ${heap_max:-?} MB | $( [ -z "${heap_max:-}" ] && echo "not measured" || { [ "$heap_max" -le 512 ] && echo met || echo "not met"; }) |"
  if [ "$scaling" = yes ]; then
    echo
    echo "Scaling curve (bench/target/scaling.png), certificates/s and p99 ms, 4 in flight per connection:"
    echo
    echo "| certificates per message | 1 conn | 2 | 4 | 8 | 16 |"
    echo "|---|---|---|---|---|---|"
    for k in 1 4 16; do
      awk -v k="$k" '$1 == k { row = row " | " $3 "/s, " $4 " ms" } END { print "| " k row " |" }' "$work/scaling.dat"
    done
  fi
} >> "$results"

if [ "$jmh" = yes ]; then
  echo "== JMH (short mode: 1 fork, 3 warm-up and 2 measured iterations of 1 s) at 1, 2 and 4 threads"
  for t in 1 2 4; do
    SOFTHSM2_CONF="$KEYARC_HOME/softhsm/softhsm2.conf" java -jar "$root/bench/target/benchmarks.jar" \
      'SigningBenchmark|WrapBenchmark|ArchivalChainBenchmark|CmpBenchmark' -f 1 -wi 3 -w 1 -i 2 -r 1 -t "$t" \
      -p pinFile="$pins/keyarc-ca.pin" -rf csv -rff "$work/jmh-$t.csv" > "$work/jmh-$t.log" 2>&1 \
      || { tail -30 "$work/jmh-$t.log"; echo "JMH failed" >&2; exit 1; }
  done
  {
    echo
    echo "| JMH benchmark | parameters | 1 thread | 2 threads | 4 threads (ops/s) |"
    echo "|---|---|---|---|---|"
    # one row per benchmark and parameters; the CSV's parameter columns are named \"Param: x\"
    for t in 1 2 4; do
      awk -F, -v t="$t" 'NR == 1 { for (i = 1; i <= NF; i++) { gsub(/"/, "", $i); name[i] = $i }; next }
        { gsub(/"/, ""); p = ""
          for (i = 8; i <= NF; i++) if ($i != "" && name[i] !~ /module|pinFile|token/) p = p (p ? " " : "") substr(name[i], 8) "=" $i
          sub(/^org\.keyarc\.bench\./, "", $1); printf "%s|%s|%d|%d\n", $1, p, t, $5 }' "$work/jmh-$t.csv"
    done | awk -F'|' '{ key = $1 "|" $2; if (!(key in seen)) { order[++n] = key; seen[key] = 1 }; score[key, $3] = $4 }
      END { for (i = 1; i <= n; i++) { split(order[i], k, "|")
        printf "| %s | %s | %s | %s | %s |\n", k[1], k[2], score[order[i], 1], score[order[i], 2], score[order[i], 4] } }'
  } >> "$results"
  echo "== JMH: signature verification, Bouncy Castle vs the JDK vs the native provider, one thread"
  java -jar "$root/bench/target/benchmarks.jar" VerifyBenchmark -f 1 -wi 3 -w 1 -i 3 -r 1 -t 1 \
    -rf csv -rff "$work/jmh-verify.csv" > "$work/jmh-verify.log" 2>&1 \
    || { tail -30 "$work/jmh-verify.log"; echo "JMH failed" >&2; exit 1; }
  {
    echo
    echo "| verification (1 thread) | key | provider | keys | ops/s |"
    echo "|---|---|---|---|---|"
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { gsub(/"/, "", $i); name[i] = $i }; next }
      { gsub(/"/, ""); k = ""; pr = ""; ks = ""
        for (i = 8; i <= NF; i++) { if (name[i] == "Param: key") k = $i; if (name[i] == "Param: provider") pr = $i
          if (name[i] == "Param: keys") ks = $i }
        printf "| VerifyBenchmark | %s | %s | %s | %d |\n", k, pr, ks, $5 }' "$work/jmh-verify.csv"
  } >> "$results"
fi
echo
cat "$results"
