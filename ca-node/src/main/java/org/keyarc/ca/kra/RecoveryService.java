package org.keyarc.ca.kra;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.auth.Authorization;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.RecoveryStatus;
import org.keyarc.ca.store.RecoveryStore;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.support.Texts;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.archive.ArchiveRecord;
import org.keyarc.protocol.archive.RecoveryProgress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.keyarc.ca.support.Digests.hex;

/**
 * Online recovery: a certificate manager opens one (it holds the CA-signed blob); recovery agents do their
 * steps with their cards and hand back the partial recovery; who did which step is recorded and audited.
 */
public final class RecoveryService {
  private static final Logger LOG = LoggerFactory.getLogger(RecoveryService.class);

  private final Store store;
  private final ArchiveService archives;
  private final Clock clock;
  private final String issuer;

  public RecoveryService(Store store, ArchiveService archives, Clock clock, String issuer) {
    this.store = store;
    this.archives = archives;
    this.clock = clock;
    this.issuer = issuer;
  }

  /** Opens an online recovery of the key of certificate {@code serial}. Certificate manager; audited. */
  public long open(Identity who, BigInteger serial) throws CaException {
    ArchiveService.KeyBlob b = archives.getKey(who, serial, null, null).get(0);
    Instant now = clock.instant();
    return store.inTransaction(tx -> {
      long id = tx.recoveries().open(hex(b.serial()), b.subject(), b.threshold(), b.blob(), who.actor(), now);
      Audit.append(tx, who.actor(), AuditAction.RECOVERY_OPEN, "recovery:" + id, "serial=" + hex(b.serial())
          + " threshold=" + b.threshold(), now);
      return id;
    });
  }

  /** Recoveries (open ones unless {@code all}). Certificate managers and recovery agents. */
  public List<RecoveryStore.Row> list(Identity who, boolean all) throws CaException {
    Authorization.require(who, Role.MANAGER, Role.RECOVERY_AGENT);
    return store.inTransaction(tx -> tx.recoveries().list(!all));
  }

  public RecoveryStore.Row show(Identity who, long id) throws CaException {
    Authorization.require(who, Role.MANAGER, Role.RECOVERY_AGENT);
    return store.inTransaction(tx -> tx.recoveries().find(id)).orElseThrow(() -> new CaException(ErrorCode.NOT_FOUND,
        "no recovery " + id));
  }

  /**
   * The blob and the latest partial recovery of open recovery {@code id}, for an agent of its archive who has its
   * step still to do (the same checks as the step itself: not revoked, not done yet); audited. Completed
   * recoveries keep no partial recovery. Anyone else is refused: a recovery agent of another archive or one who
   * already did its step with BAD_REQUEST, others NOT_AUTHORIZED.
   */
  public RecoveryStore.Row material(Identity who, long id) throws CaException {
    Authorization.require(who, Role.RECOVERY_AGENT);
    RecoveryStore.Row r = show(who, id);
    if (r.status() != RecoveryStatus.OPEN) {
      throw new CaException(ErrorCode.BAD_REQUEST, "recovery " + id + " is " + r.status().name().toLowerCase()
          + ": its material is no longer handed out");
    }
    ArchiveRecord rec = archives.record(new BigInteger(r.serial(), 16));
    BigInteger mine = null;
    for (var a : rec.agents()) {
      BigInteger serial = a.getSerialNumber().getValue();
      var cert = store.inTransaction(tx -> tx.certificates().find(issuer, serial));
      if (cert.isPresent() && cert.get().subject().equals(who.name())) {
        mine = serial;
      }
    }
    if (mine == null) {
      throw new CaException(ErrorCode.BAD_REQUEST, who.actor() + " is not one of the recovery agents of the archive "
          + "of recovery " + id);
    }
    step(who, id, mine, "", null, true); // refuses (and audits) a revoked agent or one whose step is done
    BigInteger agent = mine;
    store.inTransaction(tx -> Audit.append(tx, who.actor(), AuditAction.RECOVERY_MATERIAL, "recovery:" + id,
        "agentCert=" + hex(agent) + (r.progress() == null ? " first step" : " partial recovery"), clock.instant()));
    return r;
  }

  /**
   * A receipt of completed recovery {@code id} that the key's owner can be sent (issue 18): which certificate's key
   * was recovered, who opened the recovery and when, which agent did which step with which card and when, and when
   * it completed — as text in a CMS SignedData signed by the CA key, which {@code openssl cms -verify -CAfile ca.crt}
   * checks. Certificate managers only; an open recovery has none (BAD_REQUEST); audited.
   */
  public byte[] receipt(Identity who, long id) throws CaException {
    Authorization.require(who, Role.MANAGER);
    RecoveryStore.Row r = show(who, id);
    if (r.status() != RecoveryStatus.COMPLETED) {
      throw new CaException(ErrorCode.BAD_REQUEST, "recovery " + id + " is still open: a receipt is for a completed "
          + "recovery");
    }
    StringBuilder t = new StringBuilder();
    t.append("keyarc key recovery receipt\n");
    t.append("CA:          ").append(issuer).append('\n');
    t.append("recovery:    ").append(id).append('\n');
    t.append("key of:      certificate ").append(r.serial()).append(", ").append(r.subject()).append('\n');
    t.append("opened by:   ").append(r.openedBy()).append(" at ").append(r.openedAt()).append('\n');
    for (RecoveryStore.Step s : steps(who, id)) {
      t.append("step ").append(s.step()).append(":      ").append(s.agent()).append(" (agent certificate ")
          .append(s.agentCert()).append(", card ").append(s.card().isEmpty() ? "-" : s.card()).append(") at ")
          .append(s.at()).append('\n');
    }
    t.append("completed:   ").append(r.closedAt()).append('\n');
    t.append("issued:      ").append(clock.instant()).append('\n');
    byte[] signed = archives.signedByCa(new org.bouncycastle.cms.CMSProcessableByteArray(
        t.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)), List.of(archives.caCert()),
        "the recovery receipt");
    store.inTransaction(tx -> Audit.append(tx, who.actor(), AuditAction.RECOVERY_RECEIPT, "recovery:" + id,
        "serial=" + r.serial(), clock.instant()));
    return signed;
  }

  public List<RecoveryStore.Step> steps(Identity who, long id) throws CaException {
    Authorization.require(who, Role.MANAGER, Role.RECOVERY_AGENT);
    return store.inTransaction(tx -> tx.recoveries().steps(id));
  }

  /**
   * Records an agent's step: the agent (a recovery agent whose certificate subject is that of the Key
   * Recovery Agent certificate {@code agentCert}) hands back the new partial recovery, or reports that
   * its step completed the recovery ({@code progress} null). Recovery agents only; audited.
   */
  public void step(Identity who, long id, BigInteger agentCert, String card, byte[] progress) throws CaException {
    step(who, id, agentCert, card, progress, false);
  }

  /**
   * With {@code check}, only checks that this agent may do the next step of recovery {@code id} (an agent
   * asks before it opens anything with its card) and records nothing.
   */
  public void step(Identity who, long id, BigInteger agentCert, String card, byte[] progress, boolean check)
      throws CaException {
    try {
      checkedStep(who, id, agentCert, card, progress, check);
    } catch (CaException e) {
      if (e.code() != ErrorCode.NOT_AUTHORIZED || who.has(Role.RECOVERY_AGENT)) {
        try {
          store.inTransaction(tx -> Audit.append(tx, who.actor(), AuditAction.RECOVERY_REFUSED, "recovery:" + id,
              "agentCert=" + hex(agentCert) + " card=" + Texts.printable(card) + " code=" + e.code().number() + " "
                  + Texts.printable(e.getMessage()), clock.instant()));
        } catch (CaException ignored) {
          LOG.warn("could not audit a refused recovery step: {}", ignored.getMessage());
        }
      }
      throw e;
    }
  }

  private void checkedStep(Identity who, long id, BigInteger agentCert, String card, byte[] progress,
      boolean check) throws CaException {
    Authorization.require(who, Role.RECOVERY_AGENT);
    RecoveryStore.Row r = show(who, id);
    if (r.status() != RecoveryStatus.OPEN) {
      throw new CaException(ErrorCode.BAD_REQUEST, "recovery " + id + " is already " + r.status().name().toLowerCase());
    }
    ArchiveRecord rec = archives.record(new BigInteger(r.serial(), 16));
    int index = -1;
    for (int i = 0; i < rec.agents().size(); i++) {
      if (rec.agents().get(i).getSerialNumber().getValue().equals(agentCert)) {
        index = i;
      }
    }
    if (index < 0) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "certificate " + hex(agentCert) + " is not an agent of this "
          + "archive");
    }
    CertRecord agentRecord = store.inTransaction(tx -> tx.certificates().find(issuer, agentCert)).orElseThrow(
        () -> new CaException(ErrorCode.NOT_FOUND, "no agent certificate " + hex(agentCert)));
    if (agentRecord.status() == CertRecord.Status.REVOKED) {
      throw new CaException(ErrorCode.CERT_REVOKED, "the agent certificate " + hex(agentCert) + " ("
          + agentRecord.subject() + ") was revoked on " + agentRecord.revokedAt() + ": it can no longer take part in "
          + "a recovery");
    }
    if (!agentRecord.subject().equals(who.name())) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, who.actor() + " is not the agent " + agentRecord.subject());
    }
    List<RecoveryStore.Step> done = steps(who, id);
    for (RecoveryStore.Step st : done) {
      if (st.agentCert().equals(hex(agentCert))) {
        throw new CaException(ErrorCode.BAD_REQUEST, agentRecord.subject() + " already did a step of recovery " + id);
      }
    }
    if (check) {
      return;
    }
    if (progress == null && done.size() != r.threshold() - 1) {
      throw new CaException(ErrorCode.BAD_REQUEST, "recovery " + id + " needs " + r.threshold() + " steps; "
          + done.size() + " are done, so this one cannot be the last");
    }
    if (progress != null) {
      RecoveryProgress p = RecoveryProgress.parse(progress);
      if (p == null || p.done().size() != done.size() + 1 || !p.done().contains(index)) {
        throw new CaException(ErrorCode.BAD_INPUT, "the partial recovery does not record this agent's step");
      }
    }
    Instant now = clock.instant();
    RecoveryStore.Step step = new RecoveryStore.Step(done.size() + 1, who.actor(), hex(agentCert), card, now);
    store.inTransaction(tx -> {
      tx.recoveries().step(id, step, progress);
      Audit.append(tx, who.actor(), progress == null ? AuditAction.RECOVERY_COMPLETE : AuditAction.RECOVERY_STEP,
          "recovery:" + id, "step=" + step.step() + " agentCert=" + hex(agentCert) + " card=" + Texts.printable(card),
          now);
      return null;
    });
  }
}
