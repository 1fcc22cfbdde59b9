package org.keyarc.protocol.archive;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;

/**
 * The file an agent rotation or drill passes from agent to agent and back to the node:
 *
 * <pre>
 * CeremonyWork ::= SEQUENCE {
 *   version  INTEGER (1),
 *   order    OCTET STRING,                 -- the CA-signed CeremonyOrder, unchanged
 *   items    SEQUENCE OF Item }
 * Item ::= SEQUENCE {
 *   blob     OCTET STRING,                 -- the CA-signed recovery blob of one archive
 *   progress [0] EXPLICIT OCTET STRING OPTIONAL,   -- RecoveryProgress after some agents' steps
 *   result   [1] EXPLICIT ItemResult OPTIONAL }   -- what the last agent's step made
 * ItemResult ::= SEQUENCE {
 *   proofAlgorithm AlgorithmIdentifier,   -- sha256WithRSAEncryption or ecdsa-with-SHA256
 *   proof          OCTET STRING,          -- the archived key's signature of the CeremonyProof
 *   envelopes      SEQUENCE OF Envelope,  -- rotation: K for the new agents; drill: empty
 *   verifierProof  [0] EXPLICIT OCTET STRING OPTIONAL,  -- ECDSA by the record's verifier key (unwrapped with K)
 *   newVerifier    [1] EXPLICIT Verifier OPTIONAL }     -- rotation of a record without one: a verifier made by
 *                                                       -- the last agent, wrapped under K
 * </pre>
 *
 * Like a partial recovery it holds nothing readable without the agents' cards: layers still encrypted to agents,
 * and the new envelopes, encrypted to the new agents.
 */
public record CeremonyWork(byte[] order, List<Item> items) {
  public static final int VERSION = 1;

  /** One archive's state in the ceremony. */
  public record Item(byte[] blob, byte[] progress, Result result) {
    public Item withProgress(byte[] p) {
      return new Item(blob, p, null);
    }

    public Item withResult(Result r) {
      return new Item(blob, null, r);
    }
  }

  /** The last step's answer: the proof and, for a rotation, the new envelopes. */
  public record Result(AlgorithmIdentifier proofAlgorithm, byte[] proof, List<ArchiveRecord.Envelope> envelopes,
      byte[] verifierProof, ArchiveRecord.Verifier newVerifier) {
    /** An answer without a verifier's proof (a record made before verifiers). */
    public Result(AlgorithmIdentifier proofAlgorithm, byte[] proof, List<ArchiveRecord.Envelope> envelopes) {
      this(proofAlgorithm, proof, envelopes, null, null);
    }
  }

  public CeremonyWork {
    items = List.copyOf(items);
  }

  public byte[] encoded() {
    ASN1EncodableVector it = new ASN1EncodableVector();
    for (Item i : items) {
      ASN1EncodableVector v = new ASN1EncodableVector();
      v.add(new DEROctetString(i.blob()));
      if (i.progress() != null) {
        v.add(new DERTaggedObject(true, 0, new DEROctetString(i.progress())));
      }
      if (i.result() != null) {
        ASN1EncodableVector env = new ASN1EncodableVector();
        i.result().envelopes().forEach(e -> env.add(e.toAsn1()));
        ASN1EncodableVector r = new ASN1EncodableVector();
        r.add(i.result().proofAlgorithm());
        r.add(new DEROctetString(i.result().proof()));
        r.add(new DERSequence(env));
        if (i.result().verifierProof() != null) {
          r.add(new DERTaggedObject(true, 0, new DEROctetString(i.result().verifierProof())));
        }
        if (i.result().newVerifier() != null) {
          r.add(new DERTaggedObject(true, 1, i.result().newVerifier().toAsn1()));
        }
        v.add(new DERTaggedObject(true, 1, new DERSequence(r)));
      }
      it.add(new DERSequence(v));
    }
    try {
      return new DERSequence(new ASN1Encodable[] {new ASN1Integer(VERSION), new DEROctetString(order),
          new DERSequence(it)}).getEncoded("DER");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Parses a work file; IllegalArgumentException when it is not one. */
  public static CeremonyWork parse(byte[] der) {
    try {
      ASN1Sequence s = ASN1Sequence.getInstance(der);
      if (s.size() != 3 || ASN1Integer.getInstance(s.getObjectAt(0)).intValueExact() != VERSION) {
        throw new IllegalArgumentException("not a version-1 ceremony file");
      }
      List<Item> items = new ArrayList<>();
      for (ASN1Encodable e : ASN1Sequence.getInstance(s.getObjectAt(2))) {
        ASN1Sequence i = ASN1Sequence.getInstance(e);
        byte[] blob = ASN1OctetString.getInstance(i.getObjectAt(0)).getOctets();
        byte[] progress = null;
        Result result = null;
        for (int k = 1; k < i.size(); k++) {
          ASN1TaggedObject t = ASN1TaggedObject.getInstance(i.getObjectAt(k));
          if (t.getTagNo() == 0 && progress == null && result == null) {
            progress = ASN1OctetString.getInstance(t, true).getOctets();
          } else if (t.getTagNo() == 1 && result == null) {
            ASN1Sequence r = ASN1Sequence.getInstance(t, true);
            List<ArchiveRecord.Envelope> envs = new ArrayList<>();
            for (ASN1Encodable x : ASN1Sequence.getInstance(r.getObjectAt(2))) {
              envs.add(ArchiveRecord.Envelope.of(ASN1Sequence.getInstance(x)));
            }
            byte[] verifierProof = null;
            ArchiveRecord.Verifier newVerifier = null;
            for (int x = 3; x < r.size(); x++) {
              ASN1TaggedObject o = ASN1TaggedObject.getInstance(r.getObjectAt(x));
              if (o.getTagNo() == 0 && verifierProof == null && newVerifier == null) {
                verifierProof = ASN1OctetString.getInstance(o, true).getOctets();
              } else if (o.getTagNo() == 1 && newVerifier == null) {
                newVerifier = ArchiveRecord.Verifier.of(ASN1Sequence.getInstance(o, true));
              } else {
                throw new IllegalArgumentException("an answer has an unexpected field [" + o.getTagNo() + "]");
              }
            }
            result = new Result(AlgorithmIdentifier.getInstance(r.getObjectAt(0)),
                ASN1OctetString.getInstance(r.getObjectAt(1)).getOctets(), List.copyOf(envs), verifierProof,
                newVerifier);
          } else {
            throw new IllegalArgumentException("an item has an unexpected field [" + t.getTagNo() + "]");
          }
        }
        items.add(new Item(blob, progress, result));
      }
      return new CeremonyWork(ASN1OctetString.getInstance(s.getObjectAt(1)).getOctets(), items);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("the file is not a keyarc ceremony file: " + e.getMessage(), e);
    }
  }
}
