package org.keyarc.ca.auth;

import java.time.Clock;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.CertException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.keyarc.ca.audit.log.AuditBacklog;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.support.Encodings;
import org.keyarc.ca.support.Texts;
import org.keyarc.protocol.Bc;
import org.keyarc.protocol.ErrorCode;

/**
 * Who sent a request: the identity behind a signature-protection (or TLS client) certificate. It must be
 * signed by this CA, valid now, and ISSUED (not revoked, not waiting for confirmation) in the store; its
 * roles are read with it: the roles bound to the certificate's public key (or, for a role migrated from a
 * name-bound one, to this certificate) under the certificate's own subject. A certificate of the same name
 * but another key holds none of them.
 *
 * <p>It also writes the audit record of every authorisation refusal the protocol edge answers ({@link
 * #auditRefusal}): one place for NIAP's FAU_GEN.1.
 */
public final class IdentityService {

  private final Store store;
  private final AuditBacklog backlog;
  private final Clock clock;
  private final X500Name caName;
  /** Every CA key's public key, the current one first: a certificate any of them signed is the CA's. */
  private final java.util.List<java.security.PublicKey> caPublicKeys;
  private final String issuer;
  /**
   * Signer certificates whose CA signature has been checked, by SHA-256 of their DER, with a verifier for the
   * signer's own signatures: built once per certificate, so its public key (and Bouncy Castle's precomputation
   * for it) is reused by every request that certificate signs. Validity, store status and roles are still
   * checked on every request.
   */
  private final Map<String, ContentVerifierProvider> signers = new ConcurrentHashMap<>();

  public IdentityService(Store store, Clock clock, X500Name caName, java.util.List<java.security.PublicKey> caPublicKeys,
      AuditBacklog backlog) {
    this.store = store;
    this.backlog = backlog;
    this.clock = clock;
    this.caName = caName;
    this.caPublicKeys = java.util.List.copyOf(caPublicKeys);
    this.issuer = caName.toString();
  }

  /** A signer certificate's identity, and the verifier for the signatures made with its key. */
  public record Signer(Identity identity, ContentVerifierProvider verifier) {}

  /** The identity behind {@code cert}. */
  public Identity identify(X509CertificateHolder cert) throws CaException {
    return checkSigner(cert).identity();
  }

  /** {@link #identify}, with the verifier for the signer's own signatures. */
  public Signer checkSigner(X509CertificateHolder cert) throws CaException {
    ContentVerifierProvider verifier = checkedSigner(cert);
    if (!cert.isValidOn(Date.from(clock.instant()))) {
      throw new CaException(ErrorCode.UNKNOWN_SIGNER, "the signer certificate " + Digests.hex(cert.getSerialNumber())
          + " is expired or not yet valid");
    }
    String subject = cert.getSubject().toString();
    String keyId = keyId(cert);
    List<String> holders = List.of(Identity.keyPrincipal(keyId), Identity.certPrincipal(cert.getSerialNumber()));
    record Found(Set<Role> roles, Optional<CertRecord> rec) {}
    Found found = store.inTransaction(tx -> new Found(tx.roles().rolesOf(holders, subject),
        tx.certificates().find(issuer, cert.getSerialNumber())));
    if (found.rec().isEmpty()) {
      throw new CaException(ErrorCode.UNKNOWN_SIGNER, "the signer certificate " + Digests.hex(cert.getSerialNumber())
          + " is not in this CA's store");
    }
    if (found.rec().get().status() != CertRecord.Status.ISSUED) {
      throw new CaException(ErrorCode.UNKNOWN_SIGNER, "the signer certificate " + Digests.hex(cert.getSerialNumber())
          + " is " + found.rec().get().status().name().toLowerCase());
    }
    return new Signer(new Identity(Identity.Kind.CERTIFICATE, subject, found.roles(), keyId, cert.getSerialNumber(),
        found.rec().get().origin()), verifier);
  }

  /** The SHA-256 (hexadecimal) of a certificate's SubjectPublicKeyInfo: what a role is bound to. */
  public static String keyId(X509CertificateHolder cert) {
    return Digests.sha256Hex(Encodings.der(cert.getSubjectPublicKeyInfo()));
  }

  private static String detail(String message) {
    String t = message == null ? "" : message.replaceAll("[^\\x20-\\x7e]", "?");
    return t.length() > 600 ? t.substring(0, 600) + "..." : t;
  }

  /**
   * True for the codes that are authorisation refusals (audited at the protocol edge): also TLS_REQUIRED, an
   * authenticated sender asking for secrets, admin answers or archival over a connection without TLS.
   */
  public static boolean isAuthorizationRefusal(ErrorCode code) {
    return code == ErrorCode.NOT_AUTHORIZED || code == ErrorCode.ROLE_CONFLICT || code == ErrorCode.FOUR_EYES
        || code == ErrorCode.TLS_REQUIRED;
  }

  /**
   * Writes the audit record of an authorisation refusal ({@link #isAuthorizationRefusal}; other codes are left
   * alone): actor, operation ("certConf", "admin request.approve") and the refusal. A sender with no
   * established identity is an authentication failure and is not written here. Never throws: while the store
   * fails, the record waits in the {@link AuditBacklog}.
   */
  public void auditRefusal(Identity who, String operation, CaException e) {
    if (who == null || !isAuthorizationRefusal(e.code())) {
      return;
    }
    backlog.append(who.actor(), AuditAction.AUTHZ_REFUSED, Texts.printable(operation), "code=" + e.code().number()
        + " principal=" + who.principal() + " " + detail(e.getMessage()), clock.instant());
  }

  /** Whether one of the CA's keys (any generation, the current first) signed {@code cert}. */
  private boolean signedByCa(X509CertificateHolder cert) throws CertException, OperatorCreationException {
    for (java.security.PublicKey k : caPublicKeys) {
      if (cert.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(Bc.PROVIDER).build(k))) {
        return true;
      }
    }
    return false;
  }

  private ContentVerifierProvider checkedSigner(X509CertificateHolder cert) throws CaException {
    String digest = Digests.sha256Hex(Encodings.der(cert));
    ContentVerifierProvider known = signers.get(digest);
    if (known != null) {
      return known;
    }
    ContentVerifierProvider verifier;
    try {
      if (!cert.getIssuer().equals(caName) || !signedByCa(cert)) {
        throw new CaException(ErrorCode.UNKNOWN_SIGNER, "the signer certificate (" + cert.getSubject()
            + ") was not issued by this CA");
      }
      verifier = org.keyarc.ca.support.NativeVerify.of(cert.getSubjectPublicKeyInfo());
    } catch (CertException | OperatorCreationException e) {
      throw new CaException(ErrorCode.UNKNOWN_SIGNER, "the signer certificate cannot be checked: "
          + e.getMessage());
    }
    if (signers.size() > 10_000) {
      signers.clear();
    }
    signers.put(digest, verifier);
    return verifier;
  }
}
