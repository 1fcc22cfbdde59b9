package org.keyarc.ca.issue;

import org.bouncycastle.cert.X509CertificateHolder;

/** What became of a request. */
public sealed interface Outcome {
  /**
   * Issued now; {@code confirmed} is false when the CA waits for the client's confirmation; {@code privateKey} the
   * key the CA generated for it (central key generation), encrypted to the requester, else null; {@code
   * encryptToKey}: the certificate goes back encrypted to its own key (its key proves possession by opening it,
   * RFC 4210 encrCert).
   */
  record Issued(X509CertificateHolder cert, boolean confirmed, org.bouncycastle.asn1.crmf.EncryptedValue privateKey,
      boolean encryptToKey) implements Outcome {
    /** Issued for the requester's own key, or for a key the CA generated. */
    public Issued(X509CertificateHolder cert, boolean confirmed, org.bouncycastle.asn1.crmf.EncryptedValue privateKey) {
      this(cert, confirmed, privateKey, false);
    }

    /** Issued for the requester's own key. */
    public Issued(X509CertificateHolder cert, boolean confirmed) {
      this(cert, confirmed, null);
    }
  }

  /** Held for a certificate manager; the client polls. */
  record Pending(long requestId) implements Outcome {}
}
