package org.keyarc.hsm;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Names a token by label or by serial number. Slot ids change when tokens come and go (SoftHSM2
 * renumbers them on re-initialisation), so keyarc never selects by slot id.
 *
 * <p>{@link #parse(String)} takes a plain label or an RFC 7512 PKCS#11 URI such as
 * {@code pkcs11:token=kra-1} or {@code pkcs11:serial=3f2a...}.
 */
public final class TokenSelector {
  private final String label;
  private final String serial;

  private TokenSelector(String label, String serial) {
    this.label = label;
    this.serial = serial;
  }

  public static TokenSelector byLabel(String label) {
    if (label == null || label.isBlank()) {
      throw new IllegalArgumentException("token label must not be empty");
    }
    return new TokenSelector(label.strip(), null);
  }

  public static TokenSelector bySerial(String serial) {
    if (serial == null || serial.isBlank()) {
      throw new IllegalArgumentException("token serial must not be empty");
    }
    return new TokenSelector(null, serial.strip());
  }

  /** A label, or an RFC 7512 URI with a {@code token=} or {@code serial=} path attribute. */
  public static TokenSelector parse(String text) {
    Objects.requireNonNull(text, "token");
    if (!text.startsWith("pkcs11:")) {
      return byLabel(text);
    }
    String path = text.substring("pkcs11:".length());
    int query = path.indexOf('?');
    if (query >= 0) {
      path = path.substring(0, query);
    }
    String label = null;
    String serial = null;
    for (String attr : path.split(";")) {
      int eq = attr.indexOf('=');
      if (eq < 0) {
        continue;
      }
      String name = attr.substring(0, eq);
      String value = URLDecoder.decode(attr.substring(eq + 1).replace("+", "%2B"), StandardCharsets.UTF_8);
      if (name.equals("token")) {
        label = value;
      } else if (name.equals("serial")) {
        serial = value;
      }
    }
    if (label != null && serial != null) {
      // both: cards that share a label (every OpenSC PIV card is PIV_II) are told apart by serial
      return new TokenSelector(byLabel(label).label, bySerial(serial).serial);
    }
    if (label != null) {
      return byLabel(label);
    }
    if (serial != null) {
      return bySerial(serial);
    }
    throw new IllegalArgumentException(
        "PKCS#11 URI '" + text + "' names no token: add token=LABEL or serial=SERIAL");
  }

  boolean matches(TokenDescription token) {
    return (label == null || label.equals(token.label())) && (serial == null || serial.equals(token.serial()));
  }

  /** True when it names a serial (one token, however many share its label). */
  boolean namesSerial() {
    return serial != null;
  }

  @Override
  public String toString() {
    return label != null ? (serial != null ? label + " (serial " + serial + ")" : label) : "serial " + serial;
  }
}
