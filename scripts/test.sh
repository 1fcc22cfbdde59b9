#!/usr/bin/env bash
# The test command: checks or installs what the tests need (Java 17, Maven, SoftHSM2, OpenSC, OpenSSL,
# tpm2-pkcs11 with swtpm and tpm2-abrmd, NSS softoken with certutil),
# then runs the whole build with its tests against real SoftHSM2 tokens. Extra arguments go to Maven.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/tools.sh
. "$root/scripts/lib/tools.sh"
need_java
need_maven
need_softhsm
need_opensc
need_openssl
need_tpm2
need_nss
need_cc
cd "$root"
mvn -B verify "$@"

# the demo (the README's main command) from a clean state, so that it cannot rot
mkdir -p "$root/target"
demo_home=$(mktemp -d)
trap 'rm -rf "$demo_home"' EXIT
echo "== ./keyarc demo (in $demo_home)"
if KEYARC_HOME="$demo_home" KEYARC_PKCS11_MODULE= SOFTHSM2_CONF= ./keyarc demo > "$root/target/demo.log" 2>&1; then
  tail -n 3 "$root/target/demo.log"
else
  cat "$root/target/demo.log"
  echo "keyarc demo failed" >&2
  exit 1
fi
