package org.keyarc.ca.template;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x509.KeyPurposeId;

/**
 * A certificate template (in the manner of an ADCS version-2 template): what a certificate issued
 * under it looks like and which requests it accepts. Immutable; built and checked by {@link Builder}.
 *
 * @param name the template name clients and managers use ("User")
 * @param validity how long issued certificates are valid
 * @param keyUsage the KeyUsage bits (org.bouncycastle.asn1.x509.KeyUsage constants ORed)
 * @param extendedKeyUsages the EKU OIDs, may be empty
 * @param rsaMinBits the smallest RSA modulus accepted; 0 refuses RSA keys
 * @param ecCurves the EC curves accepted (OIDs); empty refuses EC keys
 * @param requiredRdns the RDN attribute types a subject must contain (by short name: CN, O, ...)
 * @param allowedRdns the RDN attribute types a subject may contain; anything else is refused
 * @param requiresApproval requests wait as pending until a certificate manager approves them
 * @param archivePrivateKey the subject's private key must be archived before the certificate is issued
 */
public record Template(
    String name,
    Duration validity,
    int keyUsage,
    List<ASN1ObjectIdentifier> extendedKeyUsages,
    int rsaMinBits,
    Set<ASN1ObjectIdentifier> ecCurves,
    Set<String> requiredRdns,
    Set<String> allowedRdns,
    boolean requiresApproval,
    boolean archivePrivateKey) {

  /** Microsoft's Key Recovery Agent EKU, 1.3.6.1.4.1.311.21.6. */
  public static final ASN1ObjectIdentifier EKU_KEY_RECOVERY_AGENT = new ASN1ObjectIdentifier("1.3.6.1.4.1.311.21.6");
  /** Microsoft's Private Key Archival EKU (the CA exchange certificate), 1.3.6.1.4.1.311.21.5. */
  public static final ASN1ObjectIdentifier EKU_PRIVATE_KEY_ARCHIVAL = new ASN1ObjectIdentifier("1.3.6.1.4.1.311.21.5");

  /** The EKU names a configuration may use, besides dotted OIDs. */
  public static ASN1ObjectIdentifier ekuOf(String nameOrOid) {
    switch (nameOrOid) {
      case "clientAuth": return KeyPurposeId.id_kp_clientAuth.toOID();
      case "serverAuth": return KeyPurposeId.id_kp_serverAuth.toOID();
      case "emailProtection": return KeyPurposeId.id_kp_emailProtection.toOID();
      case "codeSigning": return KeyPurposeId.id_kp_codeSigning.toOID();
      case "keyRecoveryAgent": return EKU_KEY_RECOVERY_AGENT;
      case "privateKeyArchival": return EKU_PRIVATE_KEY_ARCHIVAL;
      default:
        try {
          return new ASN1ObjectIdentifier(nameOrOid);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("unknown extended key usage '" + nameOrOid + "': use clientAuth, "
              + "serverAuth, emailProtection, codeSigning, keyRecoveryAgent or a dotted OID");
        }
    }
  }

  @Override
  public String toString() {
    return "Template[" + name + "]";
  }
}
