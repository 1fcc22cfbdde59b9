package org.keyarc.protocol.cmp;

import java.util.Date;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.keyarc.protocol.Bc;
import org.keyarc.protocol.ErrorCode;

/**
 * The certificate of the key that signs the CA node's CMP answers (the CMP responder key), as the node
 * issues it and the client checks it: issued by the CA, not a CA itself, keyUsage digitalSignature, extended
 * key usage {@link #EKU} (id-kp-cmcCA: RFC 6402's purpose for a key that protects CMP/CMC messages on behalf
 * of a CA, the one RFC 9480 2.2 and RFC 9483 name for a CA's CMP protection certificate), valid now. The CA
 * key itself signs certificates and CRLs, never answers.
 */
public final class ResponderCertificate {
  /** The extended key usage a responder certificate must carry. */
  public static final KeyPurposeId EKU = KeyPurposeId.id_kp_cmcCA;

  private ResponderCertificate() {}

  /**
   * Checks that {@code responder} may sign answers for the CA of {@code caCert} at {@code now}.
   *
   * @throws CmpProtectionException {@link ErrorCode#BAD_MESSAGE_CHECK} naming the first rule it breaks
   */
  public static void check(X509CertificateHolder responder, X509CertificateHolder caCert, Date now)
      throws CmpProtectionException {
    if (!responder.getIssuer().equals(caCert.getSubject())) {
      throw refused("was issued by " + responder.getIssuer() + ", not by the trusted CA " + caCert.getSubject());
    }
    try {
      if (!responder.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(Bc.PROVIDER)
          .build(caCert))) {
        throw refused("is not signed by the trusted CA " + caCert.getSubject());
      }
    } catch (CertException | OperatorCreationException | java.security.cert.CertificateException e) {
      throw refused("cannot be checked against the trusted CA: " + e.getMessage());
    }
    if (!responder.isValidOn(now)) {
      throw refused("is not valid now (" + responder.getNotBefore().toInstant() + " to "
          + responder.getNotAfter().toInstant() + ")");
    }
    BasicConstraints bc = BasicConstraints.fromExtensions(responder.getExtensions());
    if (bc != null && bc.isCA()) {
      throw refused("is a CA certificate");
    }
    KeyUsage ku = KeyUsage.fromExtensions(responder.getExtensions());
    if (ku == null || !ku.hasUsages(KeyUsage.digitalSignature)) {
      throw refused("lacks keyUsage digitalSignature");
    }
    Extension eku = responder.getExtension(Extension.extendedKeyUsage);
    if (eku == null || !ExtendedKeyUsage.getInstance(eku.getParsedValue()).hasKeyPurposeId(EKU)) {
      throw refused("lacks the extended key usage id-kp-cmcCA (" + EKU.getId() + ")");
    }
  }

  private static CmpProtectionException refused(String why) {
    return new CmpProtectionException(ErrorCode.BAD_MESSAGE_CHECK, "the answer's signer certificate " + why);
  }
}
