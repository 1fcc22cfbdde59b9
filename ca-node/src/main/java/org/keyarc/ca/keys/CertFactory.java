package org.keyarc.ca.keys;

import java.math.BigInteger;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.bc.BcX509ExtensionUtils;
import org.bouncycastle.operator.ContentSigner;
import org.keyarc.ca.store.CertRecord;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.x509.CertPolicyId;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.bouncycastle.asn1.x509.PolicyConstraints;
import org.bouncycastle.asn1.x509.PolicyMappings;
import org.keyarc.ca.template.Subordination;
import org.keyarc.ca.template.Template;

/** Builds the CA's certificates and CRLs with Bouncy Castle; the signature comes from the HSM signer given. */
public final class CertFactory {
  private static final BcX509ExtensionUtils EXT = new BcX509ExtensionUtils();

  private CertFactory() {}

  /** A self-signed root: CA:true, keyCertSign|cRLSign, SKI = AKI. */
  public static X509CertificateHolder selfSignedRoot(X500Name subject, SubjectPublicKeyInfo spki, BigInteger serial,
      Instant notBefore, Instant notAfter, ContentSigner signer) throws CertIOException {
    X509v3CertificateBuilder b = new X509v3CertificateBuilder(subject, serial, Date.from(notBefore),
        Date.from(notAfter), subject, spki);
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    // digitalSignature as well: the CA key signs the getkey recovery blobs (CMS SignedData); CMP answers are
    // signed by the responder key (CaInit.newResponder), not by this one
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign
        | KeyUsage.digitalSignature));
    b.addExtension(Extension.subjectKeyIdentifier, false, EXT.createSubjectKeyIdentifier(spki));
    b.addExtension(Extension.authorityKeyIdentifier, false, EXT.createAuthorityKeyIdentifier(spki));
    return b.build(signer);
  }

  /**
   * A cross-certificate of a CA key rollover (RFC 4210 4.4): the CA's {@code name} as issuer and subject,
   * {@code subjectKey} certified by the key of {@code issuer} (NewWithOld: the new key by the old; OldWithNew: the old
   * by the new), with the root's CA:true and key usage, so that a path may run through it.
   */
  public static X509CertificateHolder crossCertificate(X509CertificateHolder issuer, SubjectPublicKeyInfo subjectKey,
      BigInteger serial, Instant notBefore, Instant notAfter, ContentSigner signer) throws CertIOException {
    X509v3CertificateBuilder b = new X509v3CertificateBuilder(issuer.getSubject(), serial, Date.from(notBefore),
        Date.from(notAfter), issuer.getSubject(), subjectKey);
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign
        | KeyUsage.digitalSignature));
    b.addExtension(Extension.subjectKeyIdentifier, false, EXT.createSubjectKeyIdentifier(subjectKey));
    b.addExtension(Extension.authorityKeyIdentifier, false, authorityKeyId(issuer));
    return b.build(signer);
  }

  /**
   * The URLs an issued certificate points relying parties to, each null for none: the CRL distribution point, and
   * in the authority information access the OCSP responder and the CA certificate (caIssuers).
   */
  public record Links(String crl, String ocsp, String caIssuers) {
    /** No URLs. */
    public static final Links NONE = new Links(null, null, null);

    /**
     * The links of a node: the CRL at {@code crlUrl} (else publicUrl + "crl"), OCSP at publicUrl + "ocsp" and the CA
     * certificate at publicUrl + "ca.crt"; either argument may be null.
     */
    public static Links of(String crlUrl, String publicUrl) {
      String crl = crlUrl != null ? crlUrl : publicUrl != null ? publicUrl + "crl" : null;
      return new Links(crl, publicUrl == null ? null : publicUrl + "ocsp", publicUrl == null ? null
          : publicUrl + "ca.crt");
    }

    /**
     * The links of what the CA key of {@code generation} signs: the first key's (0) are these; a later key's CRL and
     * CA certificate are at these URLs plus "/" and its number (its OCSP URL is the same: the request names the key).
     */
    public Links of(int generation) {
      return generation == 0 ? this : new Links(generationUrl(crl, generation), ocsp,
          generationUrl(caIssuers, generation));
    }

    /** {@code url} plus "/" and the generation's number, for a key after the first; null stays null. */
    public static String generationUrl(String url, int generation) {
      return url == null || generation == 0 ? url : url + "/" + generation;
    }
  }

  /**
   * A certificate under {@code template}: an end-entity certificate, or a CA certificate when the template issues
   * them ({@link Template#subordinate()}: CA:true with its pathLenConstraint, keyCertSign and cRLSign, and its name
   * constraints, policy mappings, policy constraints and inhibitAnyPolicy, all critical as RFC 5280 asks). Its
   * extensions come from the template and {@code subjectAltNames} (may be null), the names the template's policy
   * granted the request (template/NameRules); nothing of the request is copied. An end entity's key usage is the
   * template's, adjusted to the subject key's algorithm ({@link #keyUsage}).
   *
   * @throws IllegalArgumentException for a CA certificate the issuer's own pathLenConstraint does not allow
   */
  public static X509CertificateHolder issued(X509CertificateHolder ca, Template template, X500Name subject,
      SubjectPublicKeyInfo spki, GeneralNames subjectAltNames, BigInteger serial, Instant now, Links links,
      ContentSigner signer) throws CertIOException {
    return issued(ca, template, subject, spki, subjectAltNames, serial, now, links, null, signer);
  }

  /**
   * {@link #issued(X509CertificateHolder, Template, X500Name, SubjectPublicKeyInfo, GeneralNames, BigInteger,
   * Instant, Links, ContentSigner)}; {@code oaepSha256} non-null lists the RSA-OAEP the key's token decrypts in
   * sMIMECapabilities ({@link org.keyarc.protocol.OaepCapabilities}: a recovery agent's card, from its evidence).
   */
  public static X509CertificateHolder issued(X509CertificateHolder ca, Template template, X500Name subject,
      SubjectPublicKeyInfo spki, GeneralNames subjectAltNames, BigInteger serial, Instant now, Links links,
      Boolean oaepSha256, ContentSigner signer) throws CertIOException {
    Instant notAfter = now.plus(template.validity());
    Instant caEnd = ca.getNotAfter().toInstant();
    if (notAfter.isAfter(caEnd)) {
      notAfter = caEnd; // never outlive the issuer
    }
    X509v3CertificateBuilder b = new X509v3CertificateBuilder(ca.getSubject(), serial,
        Date.from(now.minusSeconds(60)), Date.from(notAfter), subject, spki);
    if (template.issuesCaCertificates()) {
      caExtensions(b, ca, template);
    } else {
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage(template.keyUsage(), spki)));
    }
    boolean email = template.extendedKeyUsages().contains(KeyPurposeId.id_kp_emailProtection.toOID());
    if (email || oaepSha256 != null) {
      org.bouncycastle.asn1.ASN1EncodableVector caps = new org.bouncycastle.asn1.ASN1EncodableVector();
      if (oaepSha256 != null) {
        caps.addAll(org.keyarc.protocol.OaepCapabilities.entries(oaepSha256));
      }
      if (email) {
        for (org.bouncycastle.asn1.ASN1Encodable c : org.bouncycastle.asn1.ASN1Sequence.getInstance(
            smimeCapabilities())) {
          caps.add(c);
        }
      }
      b.addExtension(PKCSObjectIdentifiers.pkcs_9_at_smimeCapabilities, false, new org.bouncycastle.asn1.DERSequence(
          caps));
    }
    if (!template.certificatePolicies().isEmpty()) {
      List<org.bouncycastle.asn1.x509.PolicyInformation> policies = new java.util.ArrayList<>();
      for (ASN1ObjectIdentifier oid : template.certificatePolicies()) {
        policies.add(template.cpsUri() == null ? new org.bouncycastle.asn1.x509.PolicyInformation(oid)
            : new org.bouncycastle.asn1.x509.PolicyInformation(oid, new org.bouncycastle.asn1.DERSequence(
                new org.bouncycastle.asn1.x509.PolicyQualifierInfo(template.cpsUri()))));
      }
      b.addExtension(Extension.certificatePolicies, false, new org.bouncycastle.asn1.x509.CertificatePolicies(
          policies.toArray(new org.bouncycastle.asn1.x509.PolicyInformation[0])));
    }
    if (!template.extendedKeyUsages().isEmpty()) {
      List<ASN1ObjectIdentifier> ekus = template.extendedKeyUsages();
      KeyPurposeId[] ids = ekus.stream().map(KeyPurposeId::getInstance).toArray(KeyPurposeId[]::new);
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(ids));
    }
    b.addExtension(Extension.subjectKeyIdentifier, false, EXT.createSubjectKeyIdentifier(spki));
    b.addExtension(Extension.authorityKeyIdentifier, false, authorityKeyId(ca));
    if (subjectAltNames != null && subjectAltNames.getNames().length > 0) {
      // critical when the subject is empty (RFC 5280 4.2.1.6); keyarc's templates always require a subject
      b.addExtension(Extension.subjectAlternativeName, subject.getRDNs().length == 0, subjectAltNames);
    }
    if (links.crl() != null) {
      b.addExtension(Extension.cRLDistributionPoints, false, new CRLDistPoint(new DistributionPoint[] {
          new DistributionPoint(new DistributionPointName(new GeneralNames(
              new GeneralName(GeneralName.uniformResourceIdentifier, links.crl()))), null, null)}));
    }
    List<org.bouncycastle.asn1.x509.AccessDescription> aia = new java.util.ArrayList<>();
    if (links.ocsp() != null) {
      aia.add(new org.bouncycastle.asn1.x509.AccessDescription(org.bouncycastle.asn1.x509.AccessDescription
          .id_ad_ocsp, new GeneralName(GeneralName.uniformResourceIdentifier, links.ocsp())));
    }
    if (links.caIssuers() != null) {
      aia.add(new org.bouncycastle.asn1.x509.AccessDescription(org.bouncycastle.asn1.x509.AccessDescription
          .id_ad_caIssuers, new GeneralName(GeneralName.uniformResourceIdentifier, links.caIssuers())));
    }
    if (!aia.isEmpty()) {
      b.addExtension(Extension.authorityInfoAccess, false, new org.bouncycastle.asn1.x509.AuthorityInformationAccess(
          aia.toArray(new org.bouncycastle.asn1.x509.AccessDescription[0])));
    }
    return b.build(signer);
  }

  /**
   * The S/MIME capabilities (RFC 8551 section 2.5.2) of an e-mail certificate: the content ciphers its holder's
   * mail client decrypts, strongest first, which a sender such as Outlook picks from. AES in CBC mode is what
   * Outlook and Thunderbird both decrypt.
   */
  static org.bouncycastle.asn1.smime.SMIMECapabilities smimeCapabilities() {
    org.bouncycastle.asn1.smime.SMIMECapabilityVector v = new org.bouncycastle.asn1.smime.SMIMECapabilityVector();
    v.addCapability(org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_aes256_CBC);
    v.addCapability(org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_aes192_CBC);
    v.addCapability(org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_aes128_CBC);
    return new org.bouncycastle.asn1.smime.SMIMECapabilities(new org.bouncycastle.asn1.DERSequence(v.toASN1EncodableVector()));
  }

  /** The extensions that make a CA certificate, from the template's {@link Subordination}. */
  private static void caExtensions(X509v3CertificateBuilder b, X509CertificateHolder ca, Template template)
      throws CertIOException {
    Subordination sub = template.subordinate();
    int pathLen = pathLenUnder(ca, sub.pathLen());
    b.addExtension(Extension.basicConstraints, true, pathLen < 0 ? new BasicConstraints(true)
        : new BasicConstraints(pathLen));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign
        | (template.keyUsage() & KeyUsage.digitalSignature)));
    if (!sub.permitted().isEmpty() || !sub.excluded().isEmpty()) {
      b.addExtension(Extension.nameConstraints, true, new NameConstraints(
          sub.permitted().isEmpty() ? null : Subordination.subtrees(sub.permitted()).toArray(new GeneralSubtree[0]),
          sub.excluded().isEmpty() ? null : Subordination.subtrees(sub.excluded()).toArray(new GeneralSubtree[0])));
    }
    if (!sub.policyMappings().isEmpty()) {
      List<ASN1ObjectIdentifier[]> pairs = sub.policyMappings().stream().map(Subordination::mapping).toList();
      b.addExtension(Extension.policyMappings, true, new PolicyMappings(
          pairs.stream().map(p -> CertPolicyId.getInstance(p[0])).toArray(CertPolicyId[]::new),
          pairs.stream().map(p -> CertPolicyId.getInstance(p[1])).toArray(CertPolicyId[]::new)));
    }
    if (sub.requireExplicitPolicy() >= 0 || sub.inhibitPolicyMapping() >= 0) {
      b.addExtension(Extension.policyConstraints, true, new PolicyConstraints(
          sub.requireExplicitPolicy() < 0 ? null : BigInteger.valueOf(sub.requireExplicitPolicy()),
          sub.inhibitPolicyMapping() < 0 ? null : BigInteger.valueOf(sub.inhibitPolicyMapping())));
    }
    if (sub.inhibitAnyPolicy() >= 0) {
      b.addExtension(Extension.inhibitAnyPolicy, true, new ASN1Integer(sub.inhibitAnyPolicy()));
    }
  }

  /**
   * The pathLenConstraint of a CA certificate {@code ca} issues when the template asks for {@code wanted} (-1: none):
   * never more than the issuer's own allows below it.
   *
   * @throws IllegalArgumentException when the issuer may not certify CAs at all (its pathLenConstraint is 0)
   */
  public static int pathLenUnder(X509CertificateHolder ca, int wanted) {
    BasicConstraints own = BasicConstraints.fromExtensions(ca.getExtensions());
    BigInteger limit = own == null ? null : own.getPathLenConstraint();
    if (limit == null) {
      return wanted;
    }
    if (limit.signum() == 0) {
      throw new IllegalArgumentException("this CA's certificate has pathLenConstraint 0: it may not certify other CAs");
    }
    int most = limit.intValueExact() - 1;
    return wanted < 0 || wanted > most ? most : wanted;
  }

  /**
   * The authorityKeyIdentifier of what {@code ca} signs: its subjectKeyIdentifier alone (computed from its key when it
   * has none), never its issuer and serial number, so that what it signed still chains after the CA certificate is
   * renewed with the same key (RFC 5280 4.2.1.1 asks for the key identifier only).
   */
  public static org.bouncycastle.asn1.x509.AuthorityKeyIdentifier authorityKeyId(X509CertificateHolder ca) {
    org.bouncycastle.asn1.x509.SubjectKeyIdentifier ski = org.bouncycastle.asn1.x509.SubjectKeyIdentifier
        .fromExtensions(ca.getExtensions());
    return ski != null ? new org.bouncycastle.asn1.x509.AuthorityKeyIdentifier(ski.getKeyIdentifier())
        : EXT.createAuthorityKeyIdentifier(ca.getSubjectPublicKeyInfo());
  }

  /**
   * The key usage bits of a certificate for {@code spki} under a template's {@code bits}. An EC key
   * (id-ecPublicKey) establishes keys by agreement, never by encipherment (RFC 5480 section 3): a template's
   * keyEncipherment or dataEncipherment becomes keyAgreement for it. An RSA key (rsaEncryption) cannot agree
   * keys (RFC 3279 section 2.3.1): a template's keyAgreement becomes keyEncipherment for it. The signature
   * bits (digitalSignature, nonRepudiation) stay as they are.
   */
  public static int keyUsage(int bits, SubjectPublicKeyInfo spki) {
    ASN1ObjectIdentifier alg = spki.getAlgorithm().getAlgorithm();
    int establish = KeyUsage.keyEncipherment | KeyUsage.dataEncipherment | KeyUsage.keyAgreement
        | KeyUsage.encipherOnly | KeyUsage.decipherOnly;
    if (alg.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
      int out = bits & ~(KeyUsage.keyEncipherment | KeyUsage.dataEncipherment);
      return (bits & establish) != 0 ? out | KeyUsage.keyAgreement : out;
    }
    if (alg.equals(PKCSObjectIdentifiers.rsaEncryption)) {
      int out = bits & ~(KeyUsage.keyAgreement | KeyUsage.encipherOnly | KeyUsage.decipherOnly);
      return (bits & KeyUsage.keyAgreement) != 0 ? out | KeyUsage.keyEncipherment : out;
    }
    return bits;
  }

  /** A complete CRL of {@code revoked}, numbered {@code number}. */
  public static X509CRLHolder crl(X509CertificateHolder ca, List<CertRecord> revoked, long number, Instant thisUpdate,
      Instant nextUpdate, ContentSigner signer) throws CertIOException {
    return crl(ca, revoked, number, thisUpdate, nextUpdate, null, null, signer);
  }

  /**
   * A CRL of {@code revoked}, numbered {@code number}: a delta CRL over complete CRL {@code baseNumber} (its
   * deltaCRLIndicator, critical) when that is not null; a complete CRL pointing to where its delta CRLs are
   * (freshestCRL) when {@code deltaUrl} is not null.
   */
  public static X509CRLHolder crl(X509CertificateHolder ca, List<CertRecord> revoked, long number, Instant thisUpdate,
      Instant nextUpdate, Long baseNumber, String deltaUrl, ContentSigner signer) throws CertIOException {
    X509v2CRLBuilder b = new X509v2CRLBuilder(ca.getSubject(), Date.from(thisUpdate));
    b.setNextUpdate(Date.from(nextUpdate));
    for (CertRecord r : revoked) {
      b.addCRLEntry(r.serial(), Date.from(r.revokedAt()), r.revocationReason() == null ? 0 : r.revocationReason());
    }
    b.addExtension(Extension.authorityKeyIdentifier, false, authorityKeyId(ca));
    b.addExtension(Extension.cRLNumber, false, new CRLNumber(BigInteger.valueOf(number)));
    if (baseNumber != null) {
      b.addExtension(Extension.deltaCRLIndicator, true, new CRLNumber(BigInteger.valueOf(baseNumber)));
    } else if (deltaUrl != null) {
      b.addExtension(Extension.freshestCRL, false, new CRLDistPoint(new DistributionPoint[] {new DistributionPoint(
          new DistributionPointName(new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier,
              deltaUrl))), null, null)}));
    }
    return b.build(signer);
  }
}
