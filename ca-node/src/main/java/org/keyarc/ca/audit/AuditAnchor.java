package org.keyarc.ca.audit;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmToken;

/**
 * The last checkpoint this CA signed, remembered outside the database: a private data object in the CA token,
 * which only a session logged in with the token's PIN can read or replace. A database writer who deletes
 * records and checkpoints back to an older checkpoint (a rollback) cannot move it back, so the node sees the
 * store end before the checkpoint it remembers. Value: DER {@code SEQUENCE { num INTEGER, signatureDigest OCTET
 * STRING }} (the checkpoint's number and the SHA-256 of its signature). An anchor written before checkpoints were
 * numbered, {@code SEQUENCE { seq INTEGER, hash OCTET STRING, signatureDigest OCTET STRING }}, names the record of
 * the {@code main} chain its checkpoint signed ({@code legacySeq}; {@code num} 0) and is still understood.
 */
public record AuditAnchor(long num, byte[] signatureDigest, long legacySeq) {
  /** The label of the data object in the CA token. */
  public static final String LABEL = org.keyarc.ca.audit.log.Audit.ANCHOR_LABEL;

  /** The anchor of a checkpoint. */
  public static AuditAnchor of(AuditStore.Checkpoint cp) {
    return new AuditAnchor(cp.num(), AuditChain.sha256(cp.signature()), 0);
  }

  /** True when {@code cp} is the checkpoint this anchor remembers (same number or record, same signature). */
  public boolean matches(AuditStore.Checkpoint cp) {
    boolean same = num > 0 ? cp.num() == num
        : cp.version() < 3 && cp.head(AuditStore.MAIN).map(h -> h.seq() == legacySeq).orElse(false);
    return same && Arrays.equals(AuditChain.sha256(cp.signature()), signatureDigest);
  }

  /** The anchor in {@code token}: the newest when a crash left two. */
  public static Optional<AuditAnchor> read(HsmToken token) throws HsmException {
    List<byte[]> values = token.call(s -> s.readData(LABEL));
    AuditAnchor newest = null;
    for (byte[] v : values) {
      AuditAnchor a = v.length == 0 ? null : decode(v); // empty: reset by ca init
      if (a != null && (newest == null || a.num() > newest.num()
          || a.num() == 0 && newest.num() == 0 && a.legacySeq() > newest.legacySeq())) {
        newest = a;
      }
    }
    return Optional.ofNullable(newest);
  }

  /** Replaces the anchor in {@code token}. */
  public void write(HsmToken token) throws HsmException {
    byte[] value = encode();
    token.call(s -> {
      s.writeData(LABEL, value);
      return null;
    });
  }

  byte[] encode() {
    try {
      return new DERSequence(new org.bouncycastle.asn1.ASN1Encodable[] {new ASN1Integer(num),
          new DEROctetString(signatureDigest)}).getEncoded("DER");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The anchor in {@code value}, or null when it is not one. */
  static AuditAnchor decode(byte[] value) {
    try {
      ASN1Sequence s = ASN1Sequence.getInstance(value);
      if (s.size() == 2) {
        return new AuditAnchor(ASN1Integer.getInstance(s.getObjectAt(0)).longValueExact(),
            ASN1OctetString.getInstance(s.getObjectAt(1)).getOctets(), 0);
      }
      return new AuditAnchor(0, ASN1OctetString.getInstance(s.getObjectAt(2)).getOctets(),
          ASN1Integer.getInstance(s.getObjectAt(0)).longValueExact());
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** How messages name the remembered checkpoint. */
  String checkpointName() {
    return num > 0 ? "checkpoint " + num : "the checkpoint at record " + legacySeq;
  }

  @Override
  public String toString() {
    return "AuditAnchor[" + checkpointName() + "]";
  }
}
