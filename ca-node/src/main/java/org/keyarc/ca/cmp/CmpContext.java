package org.keyarc.ca.cmp;

import java.math.BigInteger;
import org.bouncycastle.asn1.cmp.PKIHeader;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.protocol.cmp.MacKind;

/** One request's context: its parsed header fields and the sender's identity once established. */
final class CmpContext {
  /** The request's header; null when no PKIMessage could be read. */
  PKIHeader header;
  /** Who sent the request; null for an unprotected genm asking only for public information. */
  Identity identity;
  /** The one-time secret that MAC-protected the request; null for any other protection. */
  SecretService.SecretGrant secret;
  /**
   * The MAC of the answer when {@link #secret} is set: the request's, once its parameters are accepted;
   * PBM until then (an answer refusing those parameters).
   */
  MacKind macKind = MacKind.PBM;
  /** The transactionID in hexadecimal; empty until read. */
  String transactionId = "";
  /** Serial of the certificate that signed the request (or of the TLS client certificate). */
  BigInteger signerSerial;
  /** That certificate itself, once its key verified the protection (or the TLS client certificate). */
  org.bouncycastle.cert.X509CertificateHolder signerCert;
  /** True when the answer grants implicitConfirm. */
  boolean implicitConfirmGranted;
  /** What the request asks, for the audit of a refusal: the body name, or "admin " and the operation. */
  String operation = "unknown";
  /** Refusals answered inside a successful answer (one CertReqMsg of several): audited after the answer. */
  final java.util.List<org.keyarc.ca.CaException> refusals = new java.util.ArrayList<>();
  /** The sender's address (no port), for the audit and the failure budgets; "unknown" when not given. */
  String peer = "unknown";
  /**
   * True once the sender is authenticated (MAC, signature or TLS) and the request is fresh: only then is an
   * answer protected. Errors to anyone else go out unprotected (RFC 9810 allows it), so that no key signs or
   * MACs what an unauthenticated sender chose.
   */
  boolean authenticated;
  /** True when the request came over TLS, or a listener allowed to carry secrets in clear. */
  boolean confidential;
  /**
   * A one-certificate request's replay record, checked but not stored yet: it is stored in the unit of work that
   * issues or holds the request ({@link #replayInUnit}), else on its own before the answer. Null for any other
   * request (its record is stored before it does anything).
   */
  org.keyarc.ca.auth.ReplayGuard.Pending replay;
  /**
   * Where the work after a commit runs (the answer's building and signature): the node's workers, never the store's
   * commit thread.
   */
  java.util.concurrent.Executor after = java.util.concurrent.ForkJoinPool.commonPool();
  /** True once {@link #replay} is in the store. */
  boolean replayStored;

  /** What the request's issuing unit of work stores with it: the replay record, when one is still to store. */
  org.keyarc.ca.issue.Enrollment.InSameUnit replayInUnit() {
    org.keyarc.ca.auth.ReplayGuard.Pending p = replay;
    return p == null || replayStored ? null : p::record;
  }
}
