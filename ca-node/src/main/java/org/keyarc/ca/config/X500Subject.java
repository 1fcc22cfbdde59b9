package org.keyarc.ca.config;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;

/** Parses subject names typed by people ("CN=Alice, O=Example"), with one clear error. */
public final class X500Subject {
  private X500Subject() {}

  public static X500Name parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("is empty; give a distinguished name such as \"CN=Alice, O=Example\"");
    }
    try {
      X500Name n = new X500Name(BCStyle.INSTANCE, text);
      if (n.getRDNs().length == 0) {
        throw new IllegalArgumentException("has no attributes");
      }
      return n;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + text + "' is not a distinguished name: " + e.getMessage());
    }
  }
}
