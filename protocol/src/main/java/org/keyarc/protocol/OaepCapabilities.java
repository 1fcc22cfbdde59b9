package org.keyarc.protocol;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.smime.SMIMECapabilities;
import org.bouncycastle.asn1.smime.SMIMECapability;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.hsm.OaepHash;

/**
 * Which RSA-OAEP a certificate's key is known to decrypt, as RFC 4262 sMIMECapabilities in the certificate (the
 * extension ADCS puts in its exchange certificates): RSAES-OAEP with SHA-256 first when the key's token does it,
 * then RSAES-OAEP with SHA-1. Whoever encrypts to the key takes the first it can do; the CA signs the certificate, so
 * the list cannot be changed in a store. keyarc writes it into the CA's exchange certificates (a trial unwrap in the
 * HSM) and into recovery agents' certificates (the card's trial decryption in its evidence).
 */
public final class OaepCapabilities {
  private OaepCapabilities() {}

  /** The capability entries: SHA-256 first when {@code sha256}, then SHA-1. */
  public static ASN1Encodable[] entries(boolean sha256) {
    return sha256 ? new ASN1Encodable[] {entry(OaepHash.SHA256), entry(OaepHash.SHA1)}
        : new ASN1Encodable[] {entry(OaepHash.SHA1)};
  }

  private static SMIMECapability entry(OaepHash hash) {
    AlgorithmIdentifier a = hash.algorithmIdentifier();
    return new SMIMECapability(a.getAlgorithm(), a.getParameters());
  }

  /** The sMIMECapabilities value listing {@link #entries}. */
  public static SMIMECapabilities of(boolean sha256) {
    return SMIMECapabilities.getInstance(new DERSequence(entries(sha256)));
  }

  /**
   * The hash an option names for encrypting to {@code cert}: "auto" takes what the certificate lists first (SHA-1
   * when it lists nothing), else "SHA-1" or "SHA-256" as given.
   */
  public static OaepHash choose(String option, X509CertificateHolder cert) {
    if (option == null || option.trim().equalsIgnoreCase("auto")) {
      OaepHash listed = preferred(cert);
      return listed != null ? listed : OaepHash.SHA1;
    }
    return OaepHash.parse(option);
  }

  /**
   * The one OAEP hash for envelopes to all of {@code certs} (an archive's recovery agents, a ceremony's new agents):
   * SHA-256 when every certificate lists it first, else SHA-1 (which every RSA-OAEP token does).
   */
  public static OaepHash forAll(java.util.List<X509CertificateHolder> certs) {
    for (X509CertificateHolder c : certs) {
      if (preferred(c) != OaepHash.SHA256) {
        return OaepHash.SHA1;
      }
    }
    return certs.isEmpty() ? OaepHash.SHA1 : OaepHash.SHA256;
  }

  /**
   * The OAEP hash to encrypt to {@code cert}'s key with: the first RSAES-OAEP entry of its sMIMECapabilities that
   * keyarc does (SHA-256 or SHA-1), or null when the certificate lists none (a certificate made before keyarc wrote
   * them: the caller's configured default applies).
   */
  public static OaepHash preferred(X509CertificateHolder cert) {
    Extension e = cert.getExtension(PKCSObjectIdentifiers.pkcs_9_at_smimeCapabilities);
    if (e == null) {
      return null;
    }
    try {
      for (ASN1Encodable c : ASN1Sequence.getInstance(e.getParsedValue())) {
        SMIMECapability cap = SMIMECapability.getInstance(c);
        if (!cap.getCapabilityID().equals(PKCSObjectIdentifiers.id_RSAES_OAEP)) {
          continue;
        }
        try {
          // absent parameters mean SHA-1 (RFC 4055)
          return org.keyarc.hsm.HsmKeyTransRecipient.oaepHash(new AlgorithmIdentifier(cap.getCapabilityID(),
              cap.getParameters()));
        } catch (org.bouncycastle.cms.CMSException other) {
          // a hash keyarc does not do: the next entry
        }
      }
    } catch (IllegalArgumentException | IllegalStateException ex) {
      return null; // unreadable: as if absent
    }
    return null;
  }
}
