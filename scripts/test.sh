#!/usr/bin/env bash
# The test command: checks or installs what the tests need (Java 17, Maven, SoftHSM2, OpenSC, OpenSSL),
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
cd "$root"
exec mvn -B verify "$@"
