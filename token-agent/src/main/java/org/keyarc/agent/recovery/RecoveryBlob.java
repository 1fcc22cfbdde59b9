package org.keyarc.agent.recovery;

import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cms.IssuerAndSerialNumber;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.keyarc.protocol.Bc;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcCmp;
import org.keyarc.protocol.archive.ArchiveRecord;

/**
 * A recovery blob, what {@code keyarc getkey} writes (like {@code certutil -getkey}): a CMS SignedData,
 * signed by the CA, whose content (type {@link #CONTENT_TYPE}) is the DER {@link ArchiveRecord}, and whose
 * certificates are the CA certificate, the certificate of the archived key and the agent certificates.
 * It is ciphertext only: a certificate manager can fetch it but not open it.
 */
public final class RecoveryBlob {
  /** Content type of the signed ArchiveRecord. */
  public static final ASN1ObjectIdentifier CONTENT_TYPE = KeyarcCmp.ARCHIVE_RECORD;

  private final CMSSignedData signed;
  private final ArchiveRecord record;
  private final List<X509CertificateHolder> certificates;

  private RecoveryBlob(CMSSignedData signed, ArchiveRecord record, List<X509CertificateHolder> certificates) {
    this.signed = signed;
    this.record = record;
    this.certificates = certificates;
  }

  /**
   * Parses a blob and checks the CA's signature with {@code ca}; a blob that is not signed by it, or
   * whose content was changed, is refused.
   */
  public static RecoveryBlob verify(byte[] der, X509CertificateHolder ca) throws RecoveryException {
    return verify(der, List.of(ca));
  }

  /**
   * {@link #verify(byte[], X509CertificateHolder)} with every CA certificate the agent trusts for the CA: after a
   * rollover the CA's keys under one name (its /ca-certs.pem). The blob must be signed by one of them, and each
   * certificate in it must be one of them or issued by one (an archived key's certificate from before the rollover,
   * say, under the old key).
   */
  public static RecoveryBlob verify(byte[] der, List<X509CertificateHolder> cas) throws RecoveryException {
    if (cas.isEmpty()) {
      throw new IllegalArgumentException("no CA certificate to check the blob with");
    }
    checkPinned(cas);
    try {
      return verifyOrThrow(der, cas);
    } catch (RuntimeException e) {
      // Bouncy Castle's getInstance() methods refuse damaged structures with unchecked exceptions
      throw new RecoveryException(ErrorCode.BAD_INPUT, "the blob is damaged or was altered (" + e.getMessage()
          + "); fetch it again with keyarc getkey");
    }
  }

  /** A CMS SignedData the CA signed: the signed data, its content, and its certificates (each issued by a pinned key). */
  record CaSigned(CMSSignedData signed, byte[] content, List<X509CertificateHolder> certificates) {}

  /**
   * Checks a CA-signed CMS SignedData of content type {@code type} ({@code what} and {@code fileName} name it in
   * messages, {@code typeName} its content): the structure the CA writes, the signature by one of {@code cas}, and every certificate
   * in it, which the signature does not cover: each in DER and issued by (or one of) {@code cas}. Callers have
   * checked {@code cas} (one CA name, CA certificates only).
   */
  static CaSigned caSigned(byte[] der, List<X509CertificateHolder> cas, ASN1ObjectIdentifier type, String what,
      String fileName, String typeName) throws RecoveryException {
    return caSigned(der, cas, type, what, fileName, typeName, content -> c -> false);
  }

  /**
   * {@link #caSigned(byte[], List, ASN1ObjectIdentifier, String, String, String)}, where {@code alsoAllowed}, given the
   * signed content, names a certificate that may be in the set without being issued by the CA (one the signed content
   * names by hash).
   */
  static CaSigned caSigned(byte[] der, List<X509CertificateHolder> cas, ASN1ObjectIdentifier type, String what,
      String fileName, String typeName,
      java.util.function.Function<byte[], java.util.function.Predicate<X509CertificateHolder>> alsoAllowed)
      throws RecoveryException {
    X509CertificateHolder ca = cas.get(0);
    CMSSignedData signed;
    try {
      signed = new CMSSignedData(der);
    } catch (CMSException | RuntimeException e) {
      throw new RecoveryException(ErrorCode.BAD_INPUT, "the file is not a keyarc " + fileName + " (CMS SignedData)");
    }
    if (!type.equals(signed.getSignedContentTypeOID() == null ? null
        : new ASN1ObjectIdentifier(signed.getSignedContentTypeOID()))) {
      throw new RecoveryException(ErrorCode.BAD_INPUT, "the file is signed data, but not " + typeName);
    }
    // the parts the CA's signature does not cover must be exactly what the CA writes: the outer content type, the
    // version, the digest algorithms and one signer of version 1 (a flipped bit there would pass unnoticed)
    org.bouncycastle.asn1.cms.SignedData sd = org.bouncycastle.asn1.cms.SignedData.getInstance(
        signed.toASN1Structure().getContent());
    Collection<SignerInformation> signers = signed.getSignerInfos().getSigners();
    if (!org.bouncycastle.asn1.cms.CMSObjectIdentifiers.signedData.equals(signed.toASN1Structure().getContentType())
        || sd.getVersion().intValueExact() != 3 || signers.size() != 1 || sd.getDigestAlgorithms().size() != 1
        || !org.bouncycastle.asn1.x509.AlgorithmIdentifier.getInstance(sd.getDigestAlgorithms().getObjectAt(0))
            .equals(signers.iterator().next().getDigestAlgorithmID())
        || signers.iterator().next().getVersion() != 1) {
      throw new RecoveryException(ErrorCode.BAD_MESSAGE_CHECK, "the " + what + "'s structure is not what the CA "
          + "writes (content type, version, digest algorithms or signer): the " + what + " was altered");
    }
    boolean ok = false;
    try {
      for (SignerInformation si : signers) {
        for (X509CertificateHolder c : cas) {
          ok |= si.getSID().match(c) && si.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider(Bc.PROVIDER)
              .build(c));
        }
      }
    } catch (CMSException | OperatorCreationException | java.security.cert.CertificateException e) {
      ok = false;
    }
    if (!ok) {
      throw new RecoveryException(ErrorCode.BAD_MESSAGE_CHECK, "the " + what + "'s signature does not verify with the "
          + "CA certificate " + ca.getSubject() + ": it was altered, or comes from another CA");
    }
    byte[] content = (byte[]) signed.getSignedContent().getContent();
    java.util.function.Predicate<X509CertificateHolder> extra = alsoAllowed.apply(content);
    // the CMS signature does not cover the certificates field: check each certificate against the CA
    List<X509CertificateHolder> certs = new ArrayList<>();
    List<X509CertificateHolder> others = new ArrayList<>();
    for (Object o : signed.getCertificates().getMatches(null)) {
      X509CertificateHolder c = (X509CertificateHolder) o;
      if (!isDer(c)) { // a changed encoding that re-encodes to what was signed (a BOOLEAN of 0xFE, say)
        throw new RecoveryException(ErrorCode.BAD_MESSAGE_CHECK, "certificate " + c.getSerialNumber().toString(16)
            + " in the " + what + " is not in DER: the " + what + " was altered");
      }
      if (cas.contains(c) || cas.stream().anyMatch(p -> c.getIssuer().equals(p.getSubject()) && signedBy(c, p))
          || extra.test(c)) {
        certs.add(c);
      } else {
        others.add(c);
      }
    }
    if (!others.isEmpty()) {
      X509CertificateHolder c = others.get(0);
      throw new RecoveryException(ErrorCode.BAD_MESSAGE_CHECK, "certificate " + c.getSerialNumber().toString(16)
          + " in the " + what + " was not issued by " + ca.getSubject() + ": the " + what + " was altered");
    }
    // every entry of the certificate set must be a certificate (a changed tag drops one from the parsed list), and
    // the blob must hold the certificate of each agent the signed record names and of the archived key
    int entries = sd.getCertificates() == null ? 0 : sd.getCertificates().size();
    if (entries != certs.size()) {
      throw new RecoveryException(ErrorCode.BAD_MESSAGE_CHECK, "the " + what + "'s certificate set holds "
          + entries + " entries, of which " + certs.size() + " are certificates: the " + what + " was altered");
    }
    return new CaSigned(signed, content, List.copyOf(certs));
  }

  /**
   * The pinned file is the CA's keys under one name: every certificate in it a CA certificate of that name (a
   * stranger's certificate appended to the file must not become a signer of blobs or orders).
   */
  static void checkPinned(List<X509CertificateHolder> cas) throws RecoveryException {
    if (cas.isEmpty()) {
      throw new IllegalArgumentException("no CA certificate to check with");
    }
    for (X509CertificateHolder c : cas) {
      org.bouncycastle.asn1.x509.BasicConstraints bc = org.bouncycastle.asn1.x509.BasicConstraints.fromExtensions(
          c.getExtensions());
      if (!c.getSubject().equals(cas.get(0).getSubject()) || bc == null || !bc.isCA()) {
        throw new RecoveryException(ErrorCode.BAD_INPUT, "the CA certificate file holds " + c.getSubject() + " (serial "
            + c.getSerialNumber().toString(16) + "), which is not a CA certificate of " + cas.get(0).getSubject()
            + ": give only this CA's certificates (its /ca-certs.pem)");
      }
    }
  }

  private static RecoveryBlob verifyOrThrow(byte[] der, List<X509CertificateHolder> cas) throws RecoveryException {
    // an imported key of another CA's certificate: that certificate, named by its hash in the signed record
    CaSigned cs = caSigned(der, cas, CONTENT_TYPE, "blob", "recovery blob", "a keyarc archive record", content -> {
      byte[] hash;
      IssuerAndSerialNumber id;
      try {
        ArchiveRecord r = ArchiveRecord.getInstance(content);
        hash = r.certificateHash();
        id = r.certificate();
      } catch (RuntimeException e) {
        return c -> false; // refused below, when the record is read
      }
      return c -> hash != null && c.getSerialNumber().equals(id.getSerialNumber().getValue())
          && c.getIssuer().equals(id.getName()) && java.util.Arrays.equals(hash, sha256(c));
    });
    ArchiveRecord record;
    try {
      record = ArchiveRecord.getInstance(cs.content());
    } catch (RuntimeException e) {
      throw new RecoveryException(ErrorCode.BAD_INPUT, "the archive record in the blob cannot be read: "
          + e.getMessage());
    }
    CMSSignedData signed = cs.signed();
    List<X509CertificateHolder> certs = cs.certificates();
    RecoveryBlob blob = new RecoveryBlob(signed, record, List.copyOf(certs));
    for (IssuerAndSerialNumber agent : record.agents()) {
      if (blob.certificate(agent) == null) {
        throw new RecoveryException(ErrorCode.BAD_MESSAGE_CHECK, "the blob lacks the certificate of agent "
            + agent.getSerialNumber().getValue().toString(16) + " that its signed record names: the blob was altered");
      }
    }
    if (blob.certificate(record.certificate()) == null) {
      throw new RecoveryException(ErrorCode.BAD_MESSAGE_CHECK, "the blob lacks the archived key's certificate: "
          + "the blob was altered");
    }
    return blob;
  }

  private static byte[] sha256(X509CertificateHolder c) {
    try {
      return java.security.MessageDigest.getInstance("SHA-256").digest(c.getEncoded());
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      return new byte[0];
    }
  }

  /** True when the archived key's certificate is another CA's (an imported key's), named by hash in the record. */
  public boolean external() {
    return record.certificateHash() != null;
  }

  /** The certificate among {@code cas} whose key signed {@code cert}; the first when none did. */
  public static X509CertificateHolder issuerAmong(X509CertificateHolder cert, List<X509CertificateHolder> cas) {
    return cas.stream().filter(p -> cert.getIssuer().equals(p.getSubject()) && signedBy(cert, p)).findFirst()
        .orElse(cas.get(0));
  }

  /** True when {@code c} is encoded exactly as DER re-encodes it (what its issuer signed). */
  private static boolean isDer(X509CertificateHolder c) {
    try {
      return java.util.Arrays.equals(c.getEncoded(), c.toASN1Structure().getEncoded(
          org.bouncycastle.asn1.ASN1Encoding.DER));
    } catch (IOException e) {
      return false;
    }
  }

  static boolean signedBy(X509CertificateHolder c, X509CertificateHolder issuer) {
    try {
      return c.isSignatureValid(new org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder()
          .setProvider(Bc.PROVIDER).build(issuer));
    } catch (org.bouncycastle.cert.CertException | OperatorCreationException
        | java.security.cert.CertificateException | RuntimeException e) {
      return false;
    }
  }

  /**
   * The chain above {@code ca} from a file the agent trusts (the CA's /ca-chain.pem, fetched and checked out of
   * band): each certificate must have signed the one below it, starting at {@code ca}; the CA certificate itself, if
   * the file starts with it, is left out. A blob's own certificate list is not covered by the CA's signature, so the
   * chain never comes from it.
   */
  public static List<X509CertificateHolder> pinnedChain(X509CertificateHolder ca, List<X509CertificateHolder> file)
      throws RecoveryException {
    List<X509CertificateHolder> chain = new ArrayList<>(file);
    if (!chain.isEmpty() && chain.get(0).equals(ca)) {
      chain.remove(0);
    }
    X509CertificateHolder below = ca;
    for (X509CertificateHolder parent : chain) {
      if (!below.getIssuer().equals(parent.getSubject()) || !signedBy(below, parent)) {
        throw new RecoveryException(ErrorCode.BAD_INPUT, "the CA chain file is broken: " + below.getSubject()
            + " is not signed by " + parent.getSubject() + " (the issuer first, the root last)");
      }
      below = parent;
    }
    return List.copyOf(chain);
  }

  /** The blob's bytes. */
  public byte[] encoded() {
    try {
      return signed.getEncoded("DER");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public ArchiveRecord record() {
    return record;
  }

  /** The archive record as the CA signed it (DER). */
  public byte[] recordDer() {
    return ((byte[]) signed.getSignedContent().getContent()).clone();
  }

  /** The certificate with this issuer and serial among the blob's certificates, or null. */
  public X509CertificateHolder certificate(IssuerAndSerialNumber id) {
    BigInteger serial = id.getSerialNumber().getValue();
    for (X509CertificateHolder c : certificates) {
      if (c.getSerialNumber().equals(serial) && c.getIssuer().equals(id.getName())) {
        return c;
      }
    }
    return null;
  }

  /** The certificate whose private key was archived. */
  public X509CertificateHolder userCertificate() {
    return certificate(record.certificate());
  }

  public List<X509CertificateHolder> certificates() {
    return certificates;
  }

  /** "CN=Agent (serial 1a2b)" for messages. */
  public String agentName(int index) {
    IssuerAndSerialNumber id = record.agents().get(index);
    X509CertificateHolder c = certificate(id);
    return (c == null ? "agent" : c.getSubject().toString()) + " (serial "
        + id.getSerialNumber().getValue().toString(16) + ")";
  }

  static CMSProcessableByteArray content(ArchiveRecord r) throws IOException {
    return new CMSProcessableByteArray(CONTENT_TYPE, r.getEncoded("DER"));
  }
}
