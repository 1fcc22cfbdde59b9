#!/usr/bin/env bash
# Smartcards that keyarc did not write: PKCS#11 tokens of tpm2-pkcs11 on a software TPM (swtpm), with the
# TPM2 access broker (tpm2-abrmd) on a private D-Bus session bus, all from Debian's packages. Tests and
# the curious use them as recovery agents' cards beside SoftHSM2.
#
#   tpm2-cards.sh start --dir DIR --token LABEL [--token LABEL]...
#   tpm2-cards.sh stop --dir DIR
#
# start writes under DIR:
#   DIR/env                  the environment the PKCS#11 module needs (TPM2_PKCS11_TCTI, TPM2_PKCS11_STORE,
#                            DBUS_SESSION_BUS_ADDRESS), one VAR=value a line; source it or pass it on
#   DIR/module               the path of the PKCS#11 module (libtpm2_pkcs11.so)
#   DIR/pins/LABEL.pin       user PIN of token LABEL (0600, random); DIR/pins/LABEL.so-pin its SO PIN
#   DIR/swtpm/, DIR/store/   the TPM's state and tpm2-pkcs11's key store
#   DIR/pids                 the processes stop ends
# Without tpm2-abrmd every process leaves its objects loaded in the TPM, which then runs out of object
# slots after a few runs ("out of memory for object contexts"); the broker flushes them.
# For tests and trials only: tpm2_ptool takes the PINs on its command line (visible in /proc while it runs), and
# swtpm's TCP ports on 127.0.0.1 are open to every local user. A real agent's card is a smartcard.
# Exit codes: 0 done, 2 usage, 3 a tool is missing (the Debian package is named), 4 a daemon did not start.
set -euo pipefail

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }

cmd="${1:-}"; [ $# -gt 0 ] && shift
dir=""; labels=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --token) labels+=("$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "tpm2-cards: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$dir" ] || { echo "tpm2-cards: --dir is required (see --help)" >&2; exit 2; }

stop() {
  if [ -f "$dir/pids" ]; then
    while read -r pid; do
      kill "$pid" 2>/dev/null || true
    done < "$dir/pids"
    sleep 0.2
    while read -r pid; do
      kill -9 "$pid" 2>/dev/null || true
    done < "$dir/pids"
    rm -f "$dir/pids"
  fi
}

case "$cmd" in
  stop) stop; exit 0 ;;
  start) ;;
  -h|--help|"") usage; exit 2 ;;
  *) echo "tpm2-cards: unknown command '$cmd' (start or stop)" >&2; exit 2 ;;
esac
[ ${#labels[@]} -gt 0 ] || { echo "tpm2-cards: at least one --token LABEL is required" >&2; exit 2; }

module=""
for p in /usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so /usr/lib/x86_64-linux-gnu/libtpm2_pkcs11.so.1 \
    /usr/lib/pkcs11/libtpm2_pkcs11.so; do
  if [ -r "$p" ]; then module="$p"; break; fi
done
missing() { echo "tpm2-cards: $1 not found; install the Debian package '$2' (apt-get install $2)" >&2; exit 3; }
[ -n "$module" ] || missing "libtpm2_pkcs11.so" libtpm2-pkcs11-1
command -v tpm2_ptool >/dev/null 2>&1 || missing tpm2_ptool libtpm2-pkcs11-tools
command -v swtpm >/dev/null 2>&1 || missing swtpm swtpm
[ -x /usr/sbin/tpm2-abrmd ] || command -v tpm2-abrmd >/dev/null 2>&1 || missing tpm2-abrmd tpm2-abrmd
command -v dbus-daemon >/dev/null 2>&1 || missing dbus-daemon dbus
ls /usr/lib/x86_64-linux-gnu/libtss2-tcti-swtpm.so* >/dev/null 2>&1 || missing "the swtpm TCTI" libtss2-tcti-swtpm0
ls /usr/lib/x86_64-linux-gnu/libtss2-tcti-tabrmd.so* >/dev/null 2>&1 || missing "the tabrmd TCTI" libtss2-tcti-tabrmd0
abrmd=$(command -v tpm2-abrmd || echo /usr/sbin/tpm2-abrmd)

stop
mkdir -p "$dir/swtpm" "$dir/store" "$dir/pins"
chmod 700 "$dir" "$dir/swtpm" "$dir/store" "$dir/pins"
: > "$dir/pids"

# swtpm: a free pair of ports (the swtpm TCTI talks to PORT and to its control channel on PORT+1)
port=""
for _ in $(seq 1 20); do
  p=$(( (RANDOM % 20000) * 2 + 20000 ))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 1))") 2>/dev/null; then
    if swtpm socket --tpm2 --tpmstate "dir=$dir/swtpm" --server "type=tcp,port=$p,bindaddr=127.0.0.1" \
        --ctrl "type=tcp,port=$((p + 1)),bindaddr=127.0.0.1" --flags not-need-init,startup-clear \
        --daemon --pid "file=$dir/swtpm.pid" --log "file=$dir/swtpm.log" </dev/null >/dev/null 2>>"$dir/swtpm.log"; then
      port=$p
      echo "$(cat "$dir/swtpm.pid")" >> "$dir/pids"
      break
    fi
  fi
done
[ -n "$port" ] || { echo "tpm2-cards: swtpm did not start (see $dir/swtpm.log)" >&2; stop; exit 4; }

# a private session bus, and the access broker on it
bus=$(dbus-daemon --session --fork --print-address=1 --print-pid=1 --nopidfile </dev/null 2>/dev/null)
bus_address=$(echo "$bus" | sed -n 1p)
echo "$bus" | sed -n 2p >> "$dir/pids"
DBUS_SESSION_BUS_ADDRESS="$bus_address" "$abrmd" --session --allow-root --flush-all \
  --tcti="swtpm:host=127.0.0.1,port=$port" </dev/null > "$dir/abrmd.log" 2>&1 &
echo $! >> "$dir/pids"

export DBUS_SESSION_BUS_ADDRESS="$bus_address"
export TPM2_PKCS11_TCTI="tabrmd:bus_type=session"
export TPM2TOOLS_TCTI="$TPM2_PKCS11_TCTI"
export TPM2_PKCS11_STORE="$dir/store"
ready=""
for _ in $(seq 1 50); do
  if tpm2_getrandom 4 >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || { echo "tpm2-cards: tpm2-abrmd did not answer (see $dir/abrmd.log)" >&2; stop; exit 4; }

pin() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
tpm2_ptool init --path "$dir/store" > "$dir/ptool.log" 2>&1 \
  || { cat "$dir/ptool.log" >&2; stop; exit 4; }
pid=$(sed -n 's/^id: //p' "$dir/ptool.log" | head -n 1)
for label in "${labels[@]}"; do
  (umask 077; pin > "$dir/pins/$label.pin"; pin > "$dir/pins/$label.so-pin")
  tpm2_ptool addtoken --pid="$pid" --label="$label" --userpin="$(cat "$dir/pins/$label.pin")" \
    --sopin="$(cat "$dir/pins/$label.so-pin")" --path "$dir/store" >> "$dir/ptool.log" 2>&1 \
    || { tail -n 5 "$dir/ptool.log" >&2; stop; exit 4; }
  echo "created  tpm2 token '$label'"
done

(umask 077; printf 'TPM2_PKCS11_TCTI=%s\nTPM2_PKCS11_STORE=%s\nDBUS_SESSION_BUS_ADDRESS=%s\n' \
  "$TPM2_PKCS11_TCTI" "$TPM2_PKCS11_STORE" "$DBUS_SESSION_BUS_ADDRESS" > "$dir/env")
echo "$module" > "$dir/module"
