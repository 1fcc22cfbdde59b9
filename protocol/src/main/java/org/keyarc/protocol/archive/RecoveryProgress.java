package org.keyarc.protocol.archive;

import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;

/**
 * A partial recovery, what an agent's step writes when more agents must follow (M > 1):
 *
 * <pre>
 * RecoveryProgress ::= SEQUENCE {
 *   version     INTEGER (1),
 *   blob        OCTET STRING,              -- the CA-signed recovery blob, unchanged
 *   done        SEQUENCE OF INTEGER,       -- agents (indexes into the record's agents) that did their step
 *   candidates  SEQUENCE OF SEQUENCE {
 *     envelope  INTEGER,                   -- index into the record's envelopes
 *     peeled    INTEGER,                   -- layers removed so far
 *     layers    OCTET STRING } }           -- what is left: still encrypted to the envelope's remaining agents
 * </pre>
 *
 * It holds no more than the blob does for anyone without the remaining agents' cards.
 */
public record RecoveryProgress(byte[] blob, List<Integer> done, List<Candidate> candidates) {
  public static final int VERSION = 1;

  /** One envelope still open, peeled down to {@code layers}. */
  public record Candidate(int envelope, int peeled, byte[] layers) {}

  public byte[] encoded() {
    ASN1EncodableVector d = new ASN1EncodableVector();
    done.forEach(i -> d.add(new ASN1Integer(i)));
    ASN1EncodableVector c = new ASN1EncodableVector();
    for (Candidate x : candidates) {
      c.add(new DERSequence(new ASN1Encodable[] {new ASN1Integer(x.envelope()), new ASN1Integer(x.peeled()),
          new DEROctetString(x.layers())}));
    }
    try {
      return new DERSequence(new ASN1Encodable[] {new ASN1Integer(VERSION), new DEROctetString(blob),
          new DERSequence(d), new DERSequence(c)}).getEncoded("DER");
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Parses a partial recovery file; null when {@code der} is not one (it may be a blob). */
  public static RecoveryProgress parse(byte[] der) {
    try {
      ASN1Sequence s = ASN1Sequence.getInstance(der);
      if (s.size() != 4 || !(s.getObjectAt(0) instanceof ASN1Integer v) || v.intValueExact() != VERSION
          || !(s.getObjectAt(1) instanceof ASN1OctetString)) {
        return null;
      }
      List<Integer> done = new ArrayList<>();
      for (ASN1Encodable e : ASN1Sequence.getInstance(s.getObjectAt(2))) {
        done.add(ASN1Integer.getInstance(e).intValueExact());
      }
      List<Candidate> candidates = new ArrayList<>();
      for (ASN1Encodable e : ASN1Sequence.getInstance(s.getObjectAt(3))) {
        ASN1Sequence c = ASN1Sequence.getInstance(e);
        candidates.add(new Candidate(ASN1Integer.getInstance(c.getObjectAt(0)).intValueExact(),
            ASN1Integer.getInstance(c.getObjectAt(1)).intValueExact(),
            ASN1OctetString.getInstance(c.getObjectAt(2)).getOctets()));
      }
      return new RecoveryProgress(ASN1OctetString.getInstance(s.getObjectAt(1)).getOctets(), List.copyOf(done),
          List.copyOf(candidates));
    } catch (RuntimeException e) {
      return null;
    }
  }
}
