package org.keyarc.ca.support;

/** Untrusted text made safe for messages and logs. */
public final class Texts {
  private Texts() {}

  /** Keeps untrusted text short and printable in messages. */
  public static String printable(String s) {
    if (s == null) {
      return "";
    }
    String t = s.replaceAll("[^\\x20-\\x7e]", "?");
    return t.length() > 64 ? t.substring(0, 64) + "..." : t;
  }

  /** The name of an X.509 CRLReason value. */
  public static String reasonName(int reason) {
    String[] names = {"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
        "cessationOfOperation", "certificateHold", "?", "removeFromCRL", "privilegeWithdrawn", "aACompromise"};
    return reason >= 0 && reason < names.length ? names[reason] : String.valueOf(reason);
  }
}
