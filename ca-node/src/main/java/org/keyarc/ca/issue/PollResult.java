package org.keyarc.ca.issue;

import org.bouncycastle.cert.X509CertificateHolder;

/** The state of a held request as the client's poll sees it; {@code form} is the request's ClientRef form. */
public sealed interface PollResult {
  record Waiting(int checkAfterSeconds) implements PollResult {}

  /** Approved; {@code encryptToKey}: the certificate goes back encrypted to its key (RFC 4210 encrCert). */
  record Issued(X509CertificateHolder cert, String form, boolean encryptToKey) implements PollResult {}

  record Denied(String reason, String form) implements PollResult {}
}
