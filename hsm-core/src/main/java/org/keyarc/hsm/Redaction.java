package org.keyarc.hsm;

import java.util.Set;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.KeyPairTemplate;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.attrs.Attribute;

/**
 * Turns PKCS#11 values into log text that never holds a secret: attribute templates print every
 * attribute by name but the values of secret ones (CKA_VALUE, CKA_PRIVATE_EXPONENT, the CRT primes...)
 * as {@code <redacted>}; byte arrays print as their length; char arrays (PINs) as {@code <redacted>}.
 */
public final class Redaction {
  /** Attributes whose value is, or may be, key material. CKA_VALUE also holds secret key bytes. */
  static final Set<Long> SECRET_ATTRIBUTES = Set.of(
      PKCS11Constants.CKA_VALUE,
      PKCS11Constants.CKA_PRIVATE_EXPONENT,
      PKCS11Constants.CKA_PRIME_1,
      PKCS11Constants.CKA_PRIME_2,
      PKCS11Constants.CKA_EXPONENT_1,
      PKCS11Constants.CKA_EXPONENT_2,
      PKCS11Constants.CKA_COEFFICIENT);

  private static final String REDACTED = "<redacted>";

  private Redaction() {
  }

  /** A log-safe form of any argument the wrapper or keyarc passes to a log call. */
  public static Object safe(Object arg) {
    if (arg instanceof AttributeVector v) {
      return describe(v);
    }
    if (arg instanceof KeyPairTemplate t) {
      return "{public " + describe(t.publicKey()) + ", private " + describe(t.privateKey()) + "}";
    }
    if (arg instanceof byte[] b) {
      return "<" + b.length + " bytes>";
    }
    if (arg instanceof char[]) {
      return REDACTED;
    }
    return arg;
  }

  /** "{CKA_CLASS=..., CKA_VALUE=<redacted>}". */
  public static String describe(AttributeVector template) {
    StringBuilder sb = new StringBuilder("{");
    for (Attribute a : template.snapshot()) {
      if (sb.length() > 1) {
        sb.append(", ");
      }
      String name = PKCS11Constants.codeToName(PKCS11Constants.Category.CKA, a.getType());
      sb.append(name == null ? "0x" + Long.toHexString(a.getType()) : name).append('=');
      if (SECRET_ATTRIBUTES.contains(a.getType())) {
        sb.append(REDACTED);
      } else {
        Object value = a.getValue();
        sb.append(value instanceof byte[] b ? java.util.HexFormat.of().formatHex(b) : String.valueOf(value));
      }
    }
    return sb.append('}').toString();
  }

  static Object[] safe(Object[] args) {
    if (args == null) {
      return null;
    }
    Object[] copy = new Object[args.length];
    for (int i = 0; i < args.length; i++) {
      copy[i] = safe(args[i]);
    }
    return copy;
  }
}
