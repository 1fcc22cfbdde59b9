package org.keyarc.protocol.archive;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Object;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.cms.IssuerAndSerialNumber;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;

/**
 * An archived private key (docs/archive-format.md), version 1:
 *
 * <pre>
 * ArchiveRecord ::= SEQUENCE {
 *   version        INTEGER (1),
 *   certificate    IssuerAndSerialNumber,     -- the certificate whose key this is
 *   keyAlgorithm   AlgorithmIdentifier,       -- of the archived key (from its SubjectPublicKeyInfo)
 *   wrapAlgorithm  AlgorithmIdentifier,       -- id-aes256-wrap-pad
 *   wrappedKey     OCTET STRING,              -- AES-KWP(K, PrivateKeyInfo), made inside the HSM
 *   threshold      INTEGER,                   -- M
 *   agents         SEQUENCE OF IssuerAndSerialNumber,   -- the N agent certificates
 *   envelopes      SEQUENCE OF Envelope }     -- one per M-subset of the agents
 *
 * Envelope ::= SEQUENCE {
 *   agentIndexes   SEQUENCE OF INTEGER,       -- into agents; outermost layer first
 *   keyWrap        AlgorithmIdentifier,       -- RSAES-OAEP parameters of the innermost layer
 *   layers         OCTET STRING }             -- M = 1: RSAES-OAEP(K) to the agent;
 *                                             -- M > 1: CMS EnvelopedData to agentIndexes[0] whose content
 *                                             -- is the layers of the same envelope without its first agent
 * </pre>
 *
 * Everything in it is ciphertext or public: K exists only wrapped to agent keys.
 */
public final class ArchiveRecord extends ASN1Object {
  public static final int VERSION = 1;

  /** One M-subset's nested encryption of K. */
  public record Envelope(List<Integer> agentIndexes, AlgorithmIdentifier keyWrap, byte[] layers) {
    ASN1Primitive toAsn1() {
      ASN1EncodableVector idx = new ASN1EncodableVector();
      agentIndexes.forEach(i -> idx.add(new ASN1Integer(i)));
      return new DERSequence(new org.bouncycastle.asn1.ASN1Encodable[] {new DERSequence(idx), keyWrap,
          new DEROctetString(layers)});
    }

    static Envelope of(ASN1Sequence s) {
      List<Integer> idx = new ArrayList<>();
      for (var e : ASN1Sequence.getInstance(s.getObjectAt(0))) {
        idx.add(ASN1Integer.getInstance(e).intValueExact());
      }
      return new Envelope(List.copyOf(idx), AlgorithmIdentifier.getInstance(s.getObjectAt(1)),
          ASN1OctetString.getInstance(s.getObjectAt(2)).getOctets());
    }
  }

  private final IssuerAndSerialNumber certificate;
  private final AlgorithmIdentifier keyAlgorithm;
  private final AlgorithmIdentifier wrapAlgorithm;
  private final byte[] wrappedKey;
  private final int threshold;
  private final List<IssuerAndSerialNumber> agents;
  private final List<Envelope> envelopes;

  public ArchiveRecord(IssuerAndSerialNumber certificate, AlgorithmIdentifier keyAlgorithm,
      AlgorithmIdentifier wrapAlgorithm, byte[] wrappedKey, int threshold, List<IssuerAndSerialNumber> agents,
      List<Envelope> envelopes) {
    this.certificate = certificate;
    this.keyAlgorithm = keyAlgorithm;
    this.wrapAlgorithm = wrapAlgorithm;
    this.wrappedKey = wrappedKey.clone();
    this.threshold = threshold;
    this.agents = List.copyOf(agents);
    this.envelopes = List.copyOf(envelopes);
  }

  public static ArchiveRecord getInstance(Object o) {
    if (o instanceof ArchiveRecord r) {
      return r;
    }
    ASN1Sequence s = o instanceof byte[] b ? ASN1Sequence.getInstance(b) : ASN1Sequence.getInstance(o);
    int version = ASN1Integer.getInstance(s.getObjectAt(0)).intValueExact();
    if (version != VERSION) {
      throw new IllegalArgumentException("archive record version " + version + " is not supported (1)");
    }
    List<IssuerAndSerialNumber> agents = new ArrayList<>();
    for (var e : ASN1Sequence.getInstance(s.getObjectAt(6))) {
      agents.add(IssuerAndSerialNumber.getInstance(e));
    }
    List<Envelope> envelopes = new ArrayList<>();
    for (var e : ASN1Sequence.getInstance(s.getObjectAt(7))) {
      envelopes.add(Envelope.of(ASN1Sequence.getInstance(e)));
    }
    return new ArchiveRecord(IssuerAndSerialNumber.getInstance(s.getObjectAt(1)),
        AlgorithmIdentifier.getInstance(s.getObjectAt(2)), AlgorithmIdentifier.getInstance(s.getObjectAt(3)),
        ASN1OctetString.getInstance(s.getObjectAt(4)).getOctets(),
        ASN1Integer.getInstance(s.getObjectAt(5)).intValueExact(), agents, envelopes);
  }

  @Override
  public ASN1Primitive toASN1Primitive() {
    ASN1EncodableVector a = new ASN1EncodableVector();
    agents.forEach(a::add);
    ASN1EncodableVector e = new ASN1EncodableVector();
    envelopes.forEach(x -> e.add(x.toAsn1()));
    return new DERSequence(new org.bouncycastle.asn1.ASN1Encodable[] {new ASN1Integer(VERSION), certificate,
        keyAlgorithm, wrapAlgorithm, new DEROctetString(wrappedKey), new ASN1Integer(threshold), new DERSequence(a),
        new DERSequence(e)});
  }

  public IssuerAndSerialNumber certificate() {
    return certificate;
  }

  public BigInteger certificateSerial() {
    return certificate.getSerialNumber().getValue();
  }

  public AlgorithmIdentifier keyAlgorithm() {
    return keyAlgorithm;
  }

  public AlgorithmIdentifier wrapAlgorithm() {
    return wrapAlgorithm;
  }

  public byte[] wrappedKey() {
    return wrappedKey.clone();
  }

  public int threshold() {
    return threshold;
  }

  public List<IssuerAndSerialNumber> agents() {
    return agents;
  }

  public List<Envelope> envelopes() {
    return envelopes;
  }

  @Override
  public String toString() {
    return "ArchiveRecord[serial " + certificateSerial().toString(16) + ", " + threshold + " of " + agents.size()
        + ", " + envelopes.size() + " envelopes]";
  }
}
