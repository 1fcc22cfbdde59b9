package org.keyarc.protocol.archive;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.cms.IssuerAndSerialNumber;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;

/**
 * What the CA asks of the agents in an agent rotation or a recoverability drill (docs/archive-format.md), signed by
 * the CA (CMS SignedData, content type {@code KeyarcCmp.CEREMONY_ORDER}, the new agents' certificates with it):
 *
 * <pre>
 * CeremonyOrder ::= SEQUENCE {
 *   version    INTEGER (1),
 *   kind       INTEGER,                  -- 1 rotation, 2 drill
 *   ceremony   INTEGER,                  -- the node's number for it
 *   nonce      OCTET STRING,             -- 32 random bytes: every proof answers this order and no other
 *   archives   SEQUENCE OF SEQUENCE {
 *     certificate IssuerAndSerialNumber, -- the archived key's certificate
 *     recordHash  OCTET STRING },        -- SHA-256 of the archive record the agents open
 *   threshold  INTEGER,                  -- rotation: the new M; drill: 0
 *   agents     SEQUENCE OF IssuerAndSerialNumber,   -- rotation: the new agents; drill: empty
 *   keyWrap    AlgorithmIdentifier,      -- rotation: RSAES-OAEP of the new envelopes; drill: the same as a record's
 *   notAfter   GeneralizedTime }         -- agents refuse the order after it, and so does the node
 * </pre>
 *
 * An agent's last step answers with a {@link CeremonyProof} signed with the archived key itself: the node checks it
 * with the certificate's public key, so it knows the agents reached K and that K opens the archived key.
 */
public record CeremonyOrder(Kind kind, long ceremony, byte[] nonce, List<Archive> archives, int threshold,
    List<IssuerAndSerialNumber> agents, AlgorithmIdentifier keyWrap, java.time.Instant notAfter) {
  public static final int VERSION = 1;

  /** Rotation re-wraps K to new agents; a drill only proves that the agents can still reach it. */
  public enum Kind {
    ROTATION(1), DRILL(2);

    private final int number;

    Kind(int number) {
      this.number = number;
    }

    public int number() {
      return number;
    }

    static Kind of(int n) {
      for (Kind k : values()) {
        if (k.number == n) {
          return k;
        }
      }
      throw new IllegalArgumentException("ceremony kind " + n + " is not 1 (rotation) or 2 (drill)");
    }

    /** "rotation" or "drill". */
    public String word() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** One archive the ceremony covers: its certificate and the SHA-256 of its record. */
  public record Archive(IssuerAndSerialNumber certificate, byte[] recordHash) {}

  /** How long the agents have to work from an order. */
  public static final java.time.Duration VALIDITY = java.time.Duration.ofDays(14);

  public CeremonyOrder {
    notAfter = notAfter.truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    nonce = nonce.clone();
    archives = List.copyOf(archives);
    agents = List.copyOf(agents);
  }

  @Override
  public byte[] nonce() {
    return nonce.clone();
  }

  /** The archive entry for {@code certificate}, or null. */
  public Archive archive(IssuerAndSerialNumber certificate) {
    for (Archive a : archives) {
      if (a.certificate().equals(certificate)) {
        return a;
      }
    }
    return null;
  }

  public byte[] encoded() {
    ASN1EncodableVector arch = new ASN1EncodableVector();
    for (Archive a : archives) {
      arch.add(new DERSequence(new ASN1Encodable[] {a.certificate(), new DEROctetString(a.recordHash())}));
    }
    ASN1EncodableVector ag = new ASN1EncodableVector();
    agents.forEach(ag::add);
    try {
      return new DERSequence(new ASN1Encodable[] {new ASN1Integer(VERSION), new ASN1Integer(kind.number()),
          new ASN1Integer(ceremony), new DEROctetString(nonce), new DERSequence(arch), new ASN1Integer(threshold),
          new DERSequence(ag), keyWrap, new org.bouncycastle.asn1.DERGeneralizedTime(java.util.Date.from(notAfter))})
          .getEncoded("DER");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Parses an order; IllegalArgumentException when it is not one. */
  public static CeremonyOrder parse(byte[] der) {
    try {
      ASN1Sequence s = ASN1Sequence.getInstance(der);
      if (s.size() != 9 || ASN1Integer.getInstance(s.getObjectAt(0)).intValueExact() != VERSION) {
        throw new IllegalArgumentException("not a version-1 ceremony order");
      }
      List<Archive> archives = new ArrayList<>();
      for (ASN1Encodable e : ASN1Sequence.getInstance(s.getObjectAt(4))) {
        ASN1Sequence a = ASN1Sequence.getInstance(e);
        archives.add(new Archive(IssuerAndSerialNumber.getInstance(a.getObjectAt(0)),
            ASN1OctetString.getInstance(a.getObjectAt(1)).getOctets()));
      }
      List<IssuerAndSerialNumber> agents = new ArrayList<>();
      for (ASN1Encodable e : ASN1Sequence.getInstance(s.getObjectAt(6))) {
        agents.add(IssuerAndSerialNumber.getInstance(e));
      }
      return new CeremonyOrder(Kind.of(ASN1Integer.getInstance(s.getObjectAt(1)).intValueExact()),
          ASN1Integer.getInstance(s.getObjectAt(2)).longValueExact(),
          ASN1OctetString.getInstance(s.getObjectAt(3)).getOctets(), archives,
          ASN1Integer.getInstance(s.getObjectAt(5)).intValueExact(), agents,
          AlgorithmIdentifier.getInstance(s.getObjectAt(7)),
          org.bouncycastle.asn1.ASN1GeneralizedTime.getInstance(s.getObjectAt(8)).getDate().toInstant());
    } catch (RuntimeException | java.text.ParseException e) {
      throw new IllegalArgumentException("the ceremony order cannot be read: " + e.getMessage(), e);
    }
  }

  /**
   * What an answer's proof commits to besides the order: for a rotation, SHA-256 of the DER SEQUENCE OF Envelope
   * followed by the new verifier's public key and wrapped private half (DER OCTET STRING) when the answer brings one;
   * for a drill, nothing (empty).
   */
  public static byte[] answerHash(List<ArchiveRecord.Envelope> envelopes, ArchiveRecord.Verifier newVerifier) {
    if (envelopes.isEmpty() && newVerifier == null) {
      return new byte[0];
    }
    ASN1EncodableVector v = new ASN1EncodableVector();
    envelopes.forEach(e -> v.add(e.toAsn1()));
    try {
      java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
      sha.update(new DERSequence(v).getEncoded("DER"));
      if (newVerifier != null) { // all of it: a changed wrapped half would leave an unusable verifier
        sha.update(newVerifier.publicKey().getEncoded("DER"));
        sha.update(new org.bouncycastle.asn1.DEROctetString(newVerifier.wrappedPrivate()).getEncoded("DER"));
      }
      return sha.digest();
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * What the archived key signs at the last step, the proof that the agents reached K and K opened the key:
   *
   * <pre>
   * CeremonyProof ::= SEQUENCE {
   *   context       UTF8String ("keyarc-ceremony-proof-v1"),
   *   kind          INTEGER, ceremony INTEGER, nonce OCTET STRING,
   *   certificate   IssuerAndSerialNumber, recordHash OCTET STRING,
   *   answerHash    OCTET STRING }   -- rotation: {@link #answerHash}; drill: empty
   *
   * signed with the archived key and, for records that have one, with the record's verifier key (wrapped under K).
   * </pre>
   */
  public byte[] proofMessage(Archive archive, byte[] envelopesHash) {
    try {
      return new DERSequence(new ASN1Encodable[] {new DERUTF8String("keyarc-ceremony-proof-v1"),
          new ASN1Integer(kind.number()), new ASN1Integer(ceremony), new DEROctetString(nonce), archive.certificate(),
          new DEROctetString(archive.recordHash()), new DEROctetString(envelopesHash)}).getEncoded("DER");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
