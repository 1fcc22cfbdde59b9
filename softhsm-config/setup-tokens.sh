#!/usr/bin/env bash
# Creates (idempotently) a private SoftHSM2 token folder holding the CA's HSM token and N
# recovery-agent "smartcard" tokens.
#
#   setup-tokens.sh --dir DIR [--agents N] [--ca-label LABEL] [--token LABEL]...
#
# Layout written under DIR:
#   DIR/softhsm2.conf        point SOFTHSM2_CONF here
#   DIR/tokens/              SoftHSM2's token folder (one subfolder per token)
#   DIR/pins/LABEL.pin       user PIN of token LABEL (0600), unless given in the environment
#   DIR/pins/LABEL.so-pin    security-officer PIN (0600), unless given in the environment
#
# PINs: for token LABEL the user PIN is taken from $KEYARC_PIN_<LABEL> (upper case, '-' -> '_'),
# else from DIR/pins/LABEL.pin if that file exists, else a random PIN is generated into that file.
# The SO PIN likewise from $KEYARC_SO_PIN_<LABEL> or DIR/pins/LABEL.so-pin. No PIN is hard-wired.
#
# --token LABEL (repeatable) creates exactly the named tokens instead of the default set
# (keyarc-ca plus kra-1..kra-N); tests use it to make tokens of their own.
set -euo pipefail

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }

dir=""; agents=3; ca_label="keyarc-ca"; labels=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --agents) agents="$2"; shift 2 ;;
    --ca-label) ca_label="$2"; shift 2 ;;
    --token) labels+=("$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "setup-tokens: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$dir" ] || { echo "setup-tokens: --dir is required (see --help)" >&2; exit 2; }
[[ "$agents" =~ ^[0-9]+$ ]] || { echo "setup-tokens: --agents must be a number, got '$agents'" >&2; exit 2; }
if ! command -v softhsm2-util >/dev/null 2>&1; then
  echo "setup-tokens: softhsm2-util not found; install the Debian package 'softhsm2' (apt-get install softhsm2)" >&2
  exit 3
fi
if [ ${#labels[@]} -eq 0 ]; then
  labels=("$ca_label")
  for i in $(seq 1 "$agents"); do labels+=("kra-$i"); done
fi

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir/tokens" "$dir/pins"
chmod 700 "$dir/tokens" "$dir/pins"
dir=$(cd "$dir" && pwd)
conf="$dir/softhsm2.conf"
if [ ! -f "$conf" ]; then
  sed "s#@TOKENDIR@#$dir/tokens#" "$here/softhsm2.conf.template" > "$conf"
  echo "created  $conf"
fi
export SOFTHSM2_CONF="$conf"

env_name() { echo "$1_$(echo "$2" | tr '[:lower:]-.' '[:upper:]__')"; }

# pin_for KIND LABEL FILE: prints the PIN, creating FILE with a random PIN when needed.
pin_for() {
  local var; var=$(env_name "$1" "$2")
  if [ -n "${!var:-}" ]; then printf '%s' "${!var}"; return; fi
  if [ ! -s "$3" ]; then
    (umask 077; od -An -N8 -tu8 /dev/urandom | tr -d ' \n' | cut -c1-8 > "$3")
    echo "created  $3 (random PIN, mode 0600)" >&2
  fi
  tr -d '\n' < "$3"
}

token_exists() {
  softhsm2-util --show-slots 2>/dev/null | grep -Eq "^[[:space:]]*Label:[[:space:]]+$1[[:space:]]*$"
}

for label in "${labels[@]}"; do
  if token_exists "$label"; then
    echo "exists   token '$label'"
    continue
  fi
  pin=$(pin_for KEYARC_PIN "$label" "$dir/pins/$label.pin")
  so_pin=$(pin_for KEYARC_SO_PIN "$label" "$dir/pins/$label.so-pin")
  # softhsm2-util takes PINs only as arguments; it is a local setup tool run against a private folder.
  softhsm2-util --init-token --free --label "$label" --pin "$pin" --so-pin "$so_pin" >/dev/null
  echo "created  token '$label' in $dir/tokens"
done
