# Sourced by ./keyarc and scripts/test.sh: checks (and, as root on Debian, installs) what keyarc needs.
# Every missing piece is named in one line with the package that provides it.

_keyarc_apt_updated=""

# install_pkg PKG: apt-get install when root on a Debian-like system; else say what to install and exit 3.
install_pkg() {
  local pkg="$1" why="$2"
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "keyarc: installing $pkg ($why)" >&2
    if [ -z "$_keyarc_apt_updated" ]; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || true
      _keyarc_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >&2 \
      || { echo "keyarc: apt-get install $pkg failed" >&2; exit 3; }
  else
    echo "keyarc: $why is missing; install the Debian package '$pkg' (sudo apt-get install $pkg)" >&2
    exit 3
  fi
}

need_java() {
  if ! command -v java >/dev/null 2>&1; then
    install_pkg openjdk-17-jdk-headless "Java 17"
  fi
  local v
  v=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  if [ -z "$v" ] || [ "${v%%.*}" -lt 17 ] 2>/dev/null; then
    echo "keyarc: Java 17 or newer is required (found '${v:-none}'); install openjdk-17-jdk-headless" >&2
    exit 3
  fi
}

need_maven() {
  command -v mvn >/dev/null 2>&1 || install_pkg maven "Apache Maven"
}

softhsm_lib() {
  local p
  for p in "${KEYARC_SOFTHSM_LIB:-}" /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
    if [ -n "$p" ] && [ -r "$p" ]; then echo "$p"; return 0; fi
  done
  return 1
}

need_softhsm() {
  if ! softhsm_lib >/dev/null || ! command -v softhsm2-util >/dev/null 2>&1; then
    install_pkg softhsm2 "SoftHSM2 (the HSM and smartcards of tests and the demo)"
  fi
}

need_opensc() {
  command -v pkcs11-tool >/dev/null 2>&1 || install_pkg opensc "OpenSC (PKCS#11 for real smartcards, pkcs11-tool)"
}

# gnuplot draws bench/run.sh's scaling curve (PNG)
need_gnuplot() {
  command -v gnuplot >/dev/null 2>&1 || install_pkg gnuplot-nox "gnuplot (the benchmark's scaling plot)"
}

need_openssl() {
  command -v openssl >/dev/null 2>&1 || install_pkg openssl "OpenSSL (interoperability tests)"
}

# tpm2-pkcs11 on a software TPM: recovery agents' cards from a module keyarc did not write (the tests'
# softhsm-config/tpm2-cards.sh starts and stops them)
need_tpm2() {
  [ -r /usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so ] || install_pkg libtpm2-pkcs11-1 "tpm2-pkcs11 (TPM cards in tests)"
  command -v tpm2_ptool >/dev/null 2>&1 || install_pkg libtpm2-pkcs11-tools "tpm2_ptool (TPM cards in tests)"
  command -v swtpm >/dev/null 2>&1 || install_pkg swtpm "swtpm (the software TPM of tests)"
  [ -x /usr/sbin/tpm2-abrmd ] || install_pkg tpm2-abrmd "tpm2-abrmd (the TPM access broker of tests)"
  command -v tpm2_getrandom >/dev/null 2>&1 || install_pkg tpm2-tools "tpm2-tools"
  command -v dbus-daemon >/dev/null 2>&1 || install_pkg dbus "D-Bus (tpm2-abrmd's bus)"
  ls /usr/lib/x86_64-linux-gnu/libtss2-tcti-swtpm.so.0 >/dev/null 2>&1 || install_pkg libtss2-tcti-swtpm0 "the swtpm TCTI"
  ls /usr/lib/x86_64-linux-gnu/libtss2-tcti-tabrmd.so.0 >/dev/null 2>&1 || install_pkg libtss2-tcti-tabrmd0 "the tabrmd TCTI"
}

# NSS softoken: a second CA token from a module keyarc did not write (its database is made with certutil)
need_nss() {
  [ -r /usr/lib/x86_64-linux-gnu/libsoftokn3.so ] || install_pkg libnss3 "NSS softoken (a second CA token in tests)"
  command -v certutil >/dev/null 2>&1 || install_pkg libnss3-tools "NSS certutil (the NSS database of tests)"
}

# a C compiler: the tests build softhsm-config/pkcs11-v2-shim.c, which puts OpenSC's pkcs11-spy in front of SoftHSM2,
# and softhsm-config/piv-like-module.c, a module in front of SoftHSM2 that behaves as PIV cards' modules do
need_cc() {
  command -v cc >/dev/null 2>&1 || install_pkg gcc "a C compiler (the test modules in softhsm-config)"
  [ -r /usr/include/dlfcn.h ] || install_pkg libc6-dev "the C library's headers (the test modules in softhsm-config)"
  [ -r /usr/include/p11-kit-1/p11-kit/pkcs11.h ] || install_pkg libp11-kit-dev "the PKCS#11 header (the PIV-like test module)"
}
