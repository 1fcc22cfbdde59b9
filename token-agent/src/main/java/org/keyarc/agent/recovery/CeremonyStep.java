package org.keyarc.agent.recovery;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.asn1.cms.IssuerAndSerialNumber;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcCmp;
import org.keyarc.protocol.archive.ArchiveRecord;
import org.keyarc.protocol.archive.CeremonyOrder;
import org.keyarc.protocol.archive.CeremonyWork;
import org.keyarc.protocol.archive.Envelopes;
import org.keyarc.protocol.archive.RecoveryProgress;

/**
 * One agent's pass with its card over an agent rotation or a recoverability drill ({@code keyarc kra step}): the
 * same steps as a recovery, over every archive of the ceremony file, except that the last step stops at the archive's
 * key K. There the archived key is opened only to sign the CA's challenge (the proof that the agents can recover it,
 * checked against its certificate) and wiped; at a rotation K is then wrapped, in nested envelopes, to the new agents
 * the CA's signed order names. Neither K nor the private key is written anywhere.
 */
public final class CeremonyStep {
  private CeremonyStep() {}

  /** The KeyRecoveryAgent extended key usage (1.3.6.1.4.1.311.21.6). */
  private static final KeyPurposeId KRA_EKU = KeyPurposeId.getInstance(
      new org.bouncycastle.asn1.ASN1ObjectIdentifier("1.3.6.1.4.1.311.21.6"));

  /** A ceremony file whose order and blobs were checked: the order, each item's blob, the new agents' certificates. */
  public record Checked(CeremonyWork work, CeremonyOrder order, List<RecoveryBlob> blobs,
      List<X509CertificateHolder> newAgents, List<String> changes) {}

  /**
   * Checks a ceremony file before any card is touched: the order is signed by one of the pinned CA certificates
   * {@code cas}; at a rotation each new agent's certificate is in it, issued by the CA, a KeyRecoveryAgent
   * certificate and valid at {@code now}, and the new policy fits them; every item's blob is CA-signed and is one of
   * the order's archives, with the record the order names, each once.
   */
  public static Checked check(byte[] der, List<X509CertificateHolder> cas, Instant now) throws RecoveryException {
    return check(der, cas, List.of(), now, false);
  }

  /**
   * {@link #check(byte[], List, Instant)}, with the CA's CRLs (a new agent they revoke is refused, as one whose
   * certificate expired) and whether a rotation may lower an archive's threshold (else refused: a lower M is fewer
   * people needed to recover the key, which the agents must agree to knowingly).
   */
  public static Checked check(byte[] der, List<X509CertificateHolder> cas, List<org.bouncycastle.cert.X509CRLHolder>
      crls, Instant now, boolean acceptLowerThreshold) throws RecoveryException {
    RecoveryBlob.checkPinned(cas);
    CeremonyWork work;
    CeremonyOrder order;
    RecoveryBlob.CaSigned signed;
    try {
      work = CeremonyWork.parse(der);
      signed = RecoveryBlob.caSigned(work.order(), cas, KeyarcCmp.CEREMONY_ORDER, "ceremony order",
          "ceremony order", "a keyarc ceremony order");
      order = CeremonyOrder.parse(signed.content());
    } catch (IllegalArgumentException e) {
      throw new RecoveryException(ErrorCode.BAD_INPUT, e.getMessage());
    }
    if (now.isAfter(order.notAfter())) {
      throw new RecoveryException(ErrorCode.BAD_INPUT, "the CA's order for " + order.kind().word() + " "
          + order.ceremony() + " expired on " + order.notAfter() + ": ask the certificate manager for a new one");
    }
    List<X509CertificateHolder> newAgents = new ArrayList<>();
    if (order.kind() == CeremonyOrder.Kind.ROTATION) {
      if (order.threshold() < 1 || order.threshold() > order.agents().size() || order.agents().size() > 16) {
        throw new RecoveryException(ErrorCode.BAD_INPUT, "the order's new policy " + order.threshold() + " of "
            + order.agents().size() + " is not possible");
      }
      for (IssuerAndSerialNumber id : order.agents()) {
        X509CertificateHolder c = find(signed.certificates(), id);
        if (c == null) {
          throw new RecoveryException(ErrorCode.BAD_MESSAGE_CHECK, "the order names new agent "
              + id.getSerialNumber().getValue().toString(16) + " without its certificate: it was altered");
        }
        ExtendedKeyUsage eku = ExtendedKeyUsage.fromExtensions(c.getExtensions());
        if (eku == null || !eku.hasKeyPurposeId(KRA_EKU) || c.getExtensions().getExtension(Extension.basicConstraints)
            != null && org.bouncycastle.asn1.x509.BasicConstraints.fromExtensions(c.getExtensions()).isCA()) {
          throw new RecoveryException(ErrorCode.BAD_INPUT, "new agent " + c.getSubject() + " (serial "
              + c.getSerialNumber().toString(16) + ") holds no Key Recovery Agent certificate: K is wrapped only to "
              + "recovery agents");
        }
        List<String> problems = AgentStanding.problems("new agent " + c.getSubject() + " (serial "
            + c.getSerialNumber().toString(16) + ")", c, cas, crls, now);
        if (!problems.isEmpty()) {
          throw new RecoveryException(ErrorCode.CERT_REVOKED, problems.get(0) + ": K is not wrapped to it");
        }
        if (newAgents.contains(c)) {
          throw new RecoveryException(ErrorCode.BAD_INPUT, "the order names new agent " + c.getSubject() + " twice");
        }
        newAgents.add(c);
      }
    }
    List<RecoveryBlob> blobs = new ArrayList<>();
    Set<IssuerAndSerialNumber> seen = new HashSet<>();
    Set<String> changes = new java.util.LinkedHashSet<>();
    for (int i = 0; i < work.items().size(); i++) {
      RecoveryBlob blob;
      try {
        blob = RecoveryBlob.verify(work.items().get(i).blob(), cas);
      } catch (RecoveryException e) {
        throw new RecoveryException(e.code(), "archive " + (i + 1) + " of the file: " + e.getMessage());
      }
      ArchiveRecord rec = blob.record();
      CeremonyOrder.Archive a = order.archive(rec.certificate());
      if (a == null || !java.util.Arrays.equals(a.recordHash(), sha256(blob.recordDer()))) {
        throw new RecoveryException(ErrorCode.BAD_INPUT, "archive " + (i + 1) + " of the file (certificate "
            + rec.certificateSerial().toString(16) + ") is not one the CA's order names, or not in the version it "
            + "names; nothing was opened with the card");
      }
      if (!seen.add(rec.certificate())) {
        throw new RecoveryException(ErrorCode.BAD_INPUT, "the file holds archive " + rec.certificateSerial()
            .toString(16) + " twice");
      }
      if (order.kind() == CeremonyOrder.Kind.ROTATION) {
        String change = rec.threshold() + " of " + rec.agents().size() + " -> " + order.threshold() + " of "
            + order.agents().size();
        if (order.threshold() < rec.threshold() && !acceptLowerThreshold) {
          throw new RecoveryException(ErrorCode.BAD_INPUT, "archive " + rec.certificateSerial().toString(16)
              + " would need fewer agents after the rotation (" + change + "): fewer people could recover it. "
              + "Do the step only if that was agreed (--accept-lower-threshold)");
        }
        changes.add(change);
      }
      blobs.add(blob);
    }
    return new Checked(work, order, List.copyOf(blobs), List.copyOf(newAgents), List.copyOf(changes));
  }

  /** What a pass did: the file to hand on, and how many archives this card stepped, finished, or left to others. */
  public record Outcome(CeremonyWork work, int stepped, int finished, int waiting, List<String> next) {}

  /**
   * This card's step on every item whose next layer is one of {@code onCard}'s agents (per item, from {@link
   * RecoveryStep#agentsOn}); items it cannot serve are left as they are and counted as waiting. A damaged item or a
   * card failure stops the pass (the caller writes nothing then).
   */
  public static Outcome run(Checked c, HsmToken card, List<Map<Integer, KeyHandle>> onCard) throws RecoveryException {
    List<CeremonyWork.Item> out = new ArrayList<>();
    int stepped = 0;
    int finished = 0;
    int waiting = 0;
    Set<String> next = new java.util.LinkedHashSet<>();
    for (int i = 0; i < c.work().items().size(); i++) {
      CeremonyWork.Item item = c.work().items().get(i);
      RecoveryBlob blob = c.blobs().get(i);
      if (item.result() != null || onCard.get(i).isEmpty()) {
        out.add(item);
        waiting += item.result() == null ? 1 : 0;
        continue;
      }
      RecoveryProgress progress = null;
      if (item.progress() != null) {
        progress = RecoveryProgress.parse(item.progress());
        if (progress == null) {
          throw new RecoveryException(ErrorCode.BAD_INPUT, "archive " + (i + 1) + " of the file: its progress "
              + "cannot be read");
        }
      }
      RecoveryStep.Result r;
      try {
        r = RecoveryStep.runToArchiveKey(blob, progress, card, onCard.get(i));
      } catch (RecoveryException e) {
        if (e.code() == ErrorCode.NOT_AUTHORIZED || e.code() == ErrorCode.BAD_REQUEST) {
          out.add(item); // another agent's turn, or this one did its step already
          waiting++;
          continue;
        }
        throw new RecoveryException(e.code(), "archive " + blob.record().certificateSerial().toString(16) + ": "
            + e.getMessage());
      }
      stepped++;
      if (r instanceof RecoveryStep.Result.Partial p) {
        out.add(item.withProgress(p.progress().encoded()));
        next.addAll(p.needed());
        continue;
      }
      try (ArchiveKey k = ((RecoveryStep.Result.Opened) r).key()) {
        out.add(item.withResult(finish(c, blob, k)));
        finished++;
      }
    }
    return new Outcome(new CeremonyWork(c.work().order(), out), stepped, finished, waiting, List.copyOf(next));
  }

  /** The last step of one archive: the new envelopes (rotation) and the proof, signed with the archived key. */
  private static CeremonyWork.Result finish(Checked c, RecoveryBlob blob, ArchiveKey k) throws RecoveryException {
    CeremonyOrder order = c.order();
    List<ArchiveRecord.Envelope> envelopes = order.kind() == CeremonyOrder.Kind.ROTATION
        ? Envelopes.build(c.newAgents(), order.threshold(), order.keyWrap(), last -> k.wrapTo(c.newAgents().get(last),
            order.keyWrap()))
        : List.of();
    ArchiveRecord.Verifier verifier = blob.record().verifier();
    // a rotation of a record made before verifiers gives the new record one (its proof covers it)
    ArchiveKey.NewVerifier made = verifier == null && order.kind() == CeremonyOrder.Kind.ROTATION ? k.newVerifier()
        : null;
    byte[] message = order.proofMessage(order.archive(blob.record().certificate()),
        CeremonyOrder.answerHash(envelopes, made == null ? null : made.verifier()));
    byte[] verifierProof = verifier != null ? k.proveWithVerifier(verifier, message)
        : made != null ? made.sign(message) : null; // null: an old record's drill, proven by the archived key only
    try (RecoveredKey key = k.open(blob.record())) {
      RecoveredKey.Proof proof = key.prove(message, blob.userCertificate());
      return new CeremonyWork.Result(proof.algorithm(), proof.signature(), envelopes, verifierProof,
          made == null ? null : made.verifier());
    }
  }

  private static X509CertificateHolder find(List<X509CertificateHolder> certs, IssuerAndSerialNumber id) {
    for (X509CertificateHolder c : certs) {
      if (c.getSerialNumber().equals(id.getSerialNumber().getValue()) && c.getIssuer().equals(id.getName())) {
        return c;
      }
    }
    return null;
  }

  private static byte[] sha256(byte[] data) {
    try {
      return java.security.MessageDigest.getInstance("SHA-256").digest(data);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
