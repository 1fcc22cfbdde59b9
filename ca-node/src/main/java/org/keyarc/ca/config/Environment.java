package org.keyarc.ca.config;

import java.util.Map;

/**
 * The environment variables the CA node reads, read in this one place: {@code KEYARC_PKCS11_MODULE} (the
 * PKCS#11 library when the configuration names none), {@code KEYARC_PIN_DIR} (where the embedded setup keeps
 * token PINs), {@code KEYARC_PIN} (the CA token's PIN when no pin file is configured), {@code KEYARC_ARCHIVAL_PIN} (the
 * archival token's, when hsm.archivalToken has no pin file) and
 * {@code KEYARC_STORE_PASSWORD} (PostgreSQL's password when no password file is configured). Tests pass their
 * own.
 */
public final class Environment {
  /** The default PKCS#11 module: SoftHSM2 on Debian. */
  public static final String DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so";

  private final Map<String, String> vars;

  private Environment(Map<String, String> vars) {
    this.vars = Map.copyOf(vars);
  }

  /** The process's environment. */
  public static Environment system() {
    return new Environment(System.getenv());
  }

  /** A given set of variables (tests). */
  public static Environment of(Map<String, String> vars) {
    return new Environment(vars);
  }

  /** {@code KEYARC_PKCS11_MODULE}, or the SoftHSM2 default. */
  public String pkcs11Module() {
    return vars.getOrDefault("KEYARC_PKCS11_MODULE", DEFAULT_MODULE);
  }

  /** {@code KEYARC_PIN_DIR}, or null. */
  public String pinDir() {
    return vars.get("KEYARC_PIN_DIR");
  }

  /** A copy of {@code KEYARC_PIN} (the caller wipes it), or null. */
  public char[] pin() {
    String pin = vars.get("KEYARC_PIN");
    return pin == null || pin.isEmpty() ? null : pin.toCharArray();
  }

  /** A copy of {@code KEYARC_ARCHIVAL_PIN} (the archival token's PIN; the caller wipes it), or null. */
  public char[] archivalPin() {
    String pin = vars.get("KEYARC_ARCHIVAL_PIN");
    return pin == null || pin.isEmpty() ? null : pin.toCharArray();
  }

  /** A copy of {@code KEYARC_STORE_PASSWORD} (PostgreSQL; the caller wipes it), or null. */
  public char[] storePassword() {
    String pw = vars.get("KEYARC_STORE_PASSWORD");
    return pw == null || pw.isEmpty() ? null : pw.toCharArray();
  }

  @Override
  public String toString() {
    return "Environment[module=" + pkcs11Module() + ", pinDir=" + pinDir() + ", pin=" + (pin() == null ? "unset"
        : "set") + ", archivalPin=" + (archivalPin() == null ? "unset" : "set") + "]";
  }
}
