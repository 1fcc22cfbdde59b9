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
 *   envelopes      SEQUENCE OF Envelope,      -- one per M-subset of the agents
 *   verifier       [0] Verifier OPTIONAL,     -- version 3: the proof key of drills and rotations
 *   certificateHash [1] OCTET STRING OPTIONAL } -- version 3: SHA-256 of a certificate of another CA (an imported
 *                                             -- key's): the signed record names that certificate exactly
 *
 * Verifier ::= SEQUENCE {
 *   publicKey      SubjectPublicKeyInfo,      -- an EC P-256 key made in the HSM at archival
 *   wrappedPrivate OCTET STRING }             -- AES-KWP(K, its PrivateKeyInfo): only who reaches K can sign with it
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
  /** The version of a record without a verifier; one with a verifier is version 3. */
  public static final int VERSION = 2;
  /** The version of a record with a verifier. */
  public static final int VERSION_VERIFIER = 3;

  /**
   * The key that proves, in a drill or an agent rotation, that the agents reached K (not merely that someone holds
   * the archived private key, as its owner does): its private half is wrapped under K.
   */
  public record Verifier(org.bouncycastle.asn1.x509.SubjectPublicKeyInfo publicKey, byte[] wrappedPrivate) {
    public Verifier {
      wrappedPrivate = wrappedPrivate.clone();
    }

    @Override
    public byte[] wrappedPrivate() {
      return wrappedPrivate.clone();
    }

    /** The DER SEQUENCE { publicKey, wrappedPrivate }. */
    public ASN1Primitive toAsn1() {
      return new DERSequence(new org.bouncycastle.asn1.ASN1Encodable[] {publicKey, new DEROctetString(wrappedPrivate)});
    }

    /** Parses a Verifier; IllegalArgumentException when it is not one. */
    public static Verifier of(Object o) {
      ASN1Sequence v = o instanceof byte[] b ? ASN1Sequence.getInstance(b) : ASN1Sequence.getInstance(o);
      if (v.size() != 2) {
        throw new IllegalArgumentException("a verifier has 2 fields, not " + v.size());
      }
      return new Verifier(org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(v.getObjectAt(0)),
          ASN1OctetString.getInstance(v.getObjectAt(1)).getOctets());
    }
  }

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
  private final Verifier verifier;
  private final byte[] certificateHash;

  public ArchiveRecord(IssuerAndSerialNumber certificate, AlgorithmIdentifier keyAlgorithm,
      AlgorithmIdentifier wrapAlgorithm, byte[] wrappedKey, int threshold, List<IssuerAndSerialNumber> agents,
      List<Envelope> envelopes) {
    this(certificate, keyAlgorithm, wrapAlgorithm, wrappedKey, threshold, agents, envelopes, null);
  }

  /** A record with a verifier (version 3), or without one ({@code verifier} null: version 2). */
  public ArchiveRecord(IssuerAndSerialNumber certificate, AlgorithmIdentifier keyAlgorithm,
      AlgorithmIdentifier wrapAlgorithm, byte[] wrappedKey, int threshold, List<IssuerAndSerialNumber> agents,
      List<Envelope> envelopes, Verifier verifier) {
    this(certificate, keyAlgorithm, wrapAlgorithm, wrappedKey, threshold, agents, envelopes, verifier, null);
  }

  /** With the SHA-256 of the archived key's certificate when another CA issued it ({@code certificateHash}). */
  public ArchiveRecord(IssuerAndSerialNumber certificate, AlgorithmIdentifier keyAlgorithm,
      AlgorithmIdentifier wrapAlgorithm, byte[] wrappedKey, int threshold, List<IssuerAndSerialNumber> agents,
      List<Envelope> envelopes, Verifier verifier, byte[] certificateHash) {
    this.verifier = verifier;
    this.certificateHash = certificateHash == null ? null : certificateHash.clone();
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
    if (version != 1 && version != VERSION && version != VERSION_VERIFIER) {
      throw new IllegalArgumentException("archive record version " + version + " is not supported (1, 2 or 3)");
    }
    Verifier verifier = null;
    byte[] certificateHash = null;
    if (version == VERSION_VERIFIER) {
      for (int i = 8; i < s.size(); i++) {
        org.bouncycastle.asn1.ASN1TaggedObject t = org.bouncycastle.asn1.ASN1TaggedObject.getInstance(s.getObjectAt(i));
        if (t.getTagNo() == 0 && verifier == null && certificateHash == null) {
          verifier = Verifier.of(ASN1Sequence.getInstance(t, true));
        } else if (t.getTagNo() == 1 && certificateHash == null) {
          certificateHash = ASN1OctetString.getInstance(t, true).getOctets();
        } else {
          throw new IllegalArgumentException("an archive record has an unexpected field [" + t.getTagNo() + "]");
        }
      }
    } else if (s.size() != 8) {
      throw new IllegalArgumentException("an archive record of version " + version + " has 8 fields");
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
        ASN1Integer.getInstance(s.getObjectAt(5)).intValueExact(), agents, envelopes, verifier, certificateHash);
  }

  @Override
  public ASN1Primitive toASN1Primitive() {
    ASN1EncodableVector a = new ASN1EncodableVector();
    agents.forEach(a::add);
    ASN1EncodableVector e = new ASN1EncodableVector();
    envelopes.forEach(x -> e.add(x.toAsn1()));
    ASN1EncodableVector all = new ASN1EncodableVector();
    all.add(new ASN1Integer(verifier == null && certificateHash == null ? VERSION : VERSION_VERIFIER));
    all.add(certificate);
    all.add(keyAlgorithm);
    all.add(wrapAlgorithm);
    all.add(new DEROctetString(wrappedKey));
    all.add(new ASN1Integer(threshold));
    all.add(new DERSequence(a));
    all.add(new DERSequence(e));
    if (verifier != null) {
      all.add(new org.bouncycastle.asn1.DERTaggedObject(true, 0, verifier.toAsn1()));
    }
    if (certificateHash != null) {
      all.add(new org.bouncycastle.asn1.DERTaggedObject(true, 1, new DEROctetString(certificateHash)));
    }
    return new DERSequence(all);
  }

  /** SHA-256 of the archived key's certificate when another CA issued it; null for this CA's certificates. */
  public byte[] certificateHash() {
    return certificateHash == null ? null : certificateHash.clone();
  }

  /** The same record with other agents, policy, envelopes and verifier (an agent rotation's new record). */
  public ArchiveRecord rewrapped(int threshold, List<IssuerAndSerialNumber> agents, List<Envelope> envelopes,
      Verifier verifier) {
    return new ArchiveRecord(certificate, keyAlgorithm, wrapAlgorithm, wrappedKey, threshold, agents, envelopes,
        verifier, certificateHash);
  }

  /** The proof key of drills and rotations (version 3), or null for older records. */
  public Verifier verifier() {
    return verifier;
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
