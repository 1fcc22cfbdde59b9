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
 * An archived private key (docs/archive-format.md), version 2 (version 1 had no innerLayerHashes):
 *
 * <pre>
 * ArchiveRecord ::= SEQUENCE {
 *   version        INTEGER (2),
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
 *   layers         OCTET STRING,              -- M = 1: RSAES-OAEP(K) to the agent;
 *                                             -- M > 1: CMS EnvelopedData to agentIndexes[0] whose content
 *                                             -- is the layers of the same envelope without its first agent
 *   innerLayerHashes SEQUENCE OF OCTET STRING OPTIONAL }
 *                                             -- SHA-256 of the layers left after 1, 2, ... M-1 agents peeled:
 *                                             -- the signed record commits to every layer, so a partial
 *                                             -- recovery carrying another archive's layers is refused
 * </pre>
 *
 * Everything in it is ciphertext or public: K exists only wrapped to agent keys.
 */
public final class ArchiveRecord extends ASN1Object {
  public static final int VERSION = 2;

  /**
   * One M-subset's nested encryption of K; {@code innerLayerHashes.get(i)} is the SHA-256 of the layers left after
   * {@code i + 1} agents peeled (empty in version-1 records, which do not bind their layers).
   */
  public record Envelope(List<Integer> agentIndexes, AlgorithmIdentifier keyWrap, byte[] layers,
      List<byte[]> innerLayerHashes) {
    /** An envelope without layer hashes (version 1). */
    public Envelope(List<Integer> agentIndexes, AlgorithmIdentifier keyWrap, byte[] layers) {
      this(agentIndexes, keyWrap, layers, List.of());
    }

    /** The hash the layers must have after {@code peeled} agents, or null when the record does not bind them. */
    public byte[] expectedHash(int peeled) {
      return peeled < 1 || peeled > innerLayerHashes.size() ? null : innerLayerHashes.get(peeled - 1).clone();
    }

    /** The DER structure of this envelope. */
    public ASN1Primitive toAsn1() {
      ASN1EncodableVector idx = new ASN1EncodableVector();
      agentIndexes.forEach(i -> idx.add(new ASN1Integer(i)));
      ASN1EncodableVector v = new ASN1EncodableVector();
      v.add(new DERSequence(idx));
      v.add(keyWrap);
      v.add(new DEROctetString(layers));
      if (!innerLayerHashes.isEmpty()) {
        ASN1EncodableVector h = new ASN1EncodableVector();
        innerLayerHashes.forEach(x -> h.add(new DEROctetString(x)));
        v.add(new DERSequence(h));
      }
      return new DERSequence(v);
    }

    /** Parses an envelope. */
    public static Envelope of(ASN1Sequence s) {
      List<Integer> idx = new ArrayList<>();
      for (var e : ASN1Sequence.getInstance(s.getObjectAt(0))) {
        idx.add(ASN1Integer.getInstance(e).intValueExact());
      }
      List<byte[]> hashes = new ArrayList<>();
      if (s.size() > 3) {
        for (var e : ASN1Sequence.getInstance(s.getObjectAt(3))) {
          hashes.add(ASN1OctetString.getInstance(e).getOctets());
        }
      }
      return new Envelope(List.copyOf(idx), AlgorithmIdentifier.getInstance(s.getObjectAt(1)),
          ASN1OctetString.getInstance(s.getObjectAt(2)).getOctets(), List.copyOf(hashes));
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
    if (version != 1 && version != VERSION) {
      throw new IllegalArgumentException("archive record version " + version + " is not supported (1 or 2)");
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
