package org.keyarc.ca.issue;

import org.bouncycastle.cert.X509CertificateHolder;

/** What became of a request. */
public sealed interface Outcome {
  /** Issued now; {@code confirmed} is false when the CA waits for the client's confirmation. */
  record Issued(X509CertificateHolder cert, boolean confirmed) implements Outcome {}

  /** Held for a certificate manager; the client polls. */
  record Pending(long requestId) implements Outcome {}
}
