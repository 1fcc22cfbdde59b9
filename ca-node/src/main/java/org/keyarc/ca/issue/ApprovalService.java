package org.keyarc.ca.issue;

import java.time.Instant;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.auth.Authorization;
import org.keyarc.ca.auth.FourEyes;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.RoleService;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.RequestRecord;
import org.keyarc.ca.store.RequestStore;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.template.NameRules;
import org.keyarc.ca.template.Template;
import org.keyarc.ca.template.TemplateRules;
import org.keyarc.ca.template.Templates;
import org.keyarc.protocol.ErrorCode;

import static org.keyarc.ca.support.Digests.hex;

/** The certificate manager's queue: requests held for approval, approved (issued now) or denied. */
public final class ApprovalService {
  private final Store store;
  private final Issuer issuer;
  private final Templates templates;

  public ApprovalService(Store store, Issuer issuer, Templates templates) {
    this.store = store;
    this.issuer = issuer;
    this.templates = templates;
  }

  public List<RequestRecord> list(Identity who, RequestRecord.Status status) throws CaException {
    Authorization.require(who, Role.MANAGER);
    return store.inTransaction(tx -> tx.requests().list(status, 1000));
  }

  public RequestRecord show(Identity who, long id) throws CaException {
    Authorization.require(who, Role.MANAGER);
    return store.inTransaction(tx -> tx.requests().find(id)).orElseThrow(() -> new CaException(ErrorCode.NOT_FOUND,
        "no request " + id));
  }

  /**
   * Approves a pending request. Four eyes: the requester, whoever made the one-time secret it used (or vouched for
   * the requester's certificate), and the holder of the name it asks for may not approve it (FOUR_EYES). When the
   * template needs more than one approval ({@link Template#approvals()}), each manager approves once (by key and by
   * name: FOUR_EYES again) and the approval is recorded; the certificate is issued with the last one and waits for
   * the client's poll. Returns the certificate, or null while more approvals are needed.
   */
  public X509CertificateHolder approve(Identity who, long id) throws CaException {
    RequestRecord r = show(who, id);
    if (r.status() != RequestRecord.Status.PENDING) {
      throw new CaException(ErrorCode.BAD_REQUEST, "request " + id + " is already " + r.status().name().toLowerCase());
    }
    FourEyes.check(who, r);
    Template t = templates.require(r.template());
    RequestStore.Approval mine = new RequestStore.Approval(who.principal(), who.actor(), issuer.now());
    int given = store.inTransaction(tx -> {
      List<RequestStore.Approval> so = tx.requests().approvals(id);
      for (RequestStore.Approval a : so) {
        if (a.approver().equals(mine.approver()) || a.actor().equals(mine.actor())) {
          throw new CaException(ErrorCode.FOUR_EYES, who.actor() + " approved request " + id + " already; it needs "
              + (t.approvals() - so.size()) + " more approval" + (t.approvals() - so.size() == 1 ? "" : "s")
              + " by another certificate manager");
        }
      }
      if (so.size() + 1 < t.approvals()) {
        tx.requests().addApproval(id, mine);
        Audit.append(tx, who.actor(), AuditAction.REQUEST_APPROVE, "request:" + id, "approval=" + (so.size() + 1)
            + " of " + t.approvals(), mine.at());
      }
      return so.size() + 1;
    });
    if (given < t.approvals()) {
      return null;
    }
    X500Name subject = new X500Name(r.subject());
    SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(r.publicKey());
    // the subjectAltNames granted when the request was held (shown at request show), checked again
    GeneralNames sans = r.extensions() == null ? null : NameRules.of(Extensions.getInstance(r.extensions()));
    NameRules.checkIssued(t, sans);
    Instant now = issuer.now();
    // a key that proves possession by decrypting its certificate gets it UNCONFIRMED, with the certConf clock
    // started at its first delivery (EnrollmentService.poll): it counts only once the requester opened it; one
    // never collected is revoked after the collection deadline (timers.secretValidityDays)
    boolean indirect = r.indirectPop();
    Template issued = indirect ? TemplateRules.forIndirectPop(t, spki) : t;
    // the decision, the certificate and both audit records commit together
    // a recovery agent's certificate says which RSA-OAEP its card decrypts (the evidence's trial), for archival
    Boolean oaepSha256 = null;
    if (Templates.KEY_RECOVERY_AGENT.equals(t.name()) && r.cardEvidence() != null) {
      try {
        oaepSha256 = org.keyarc.protocol.CardEvidence.parse(r.cardEvidence()).oaepSha256();
      } catch (IllegalArgumentException e) {
        oaepSha256 = null; // kra add refuses unreadable evidence; the certificate lists nothing
      }
    }
    return issuer.issueAndStore(who.actor(), issued, subject, spki, sans, indirect ? CertRecord.Status.UNCONFIRMED
        : CertRecord.Status.ISSUED, indirect ? issuer.collectionDeadline(now) : null, oaepSha256, id, r.transactionId(),
        r.requesterId(), r.origin(), now, (tx, cert) -> {
          RoleService.checkNameFree(tx, subject, holderOf(r), null);
          String serial = hex(cert.getSerialNumber());
          if (!tx.requests().decide(id, RequestRecord.Status.APPROVED, who.actor(), who.principal(), null, serial,
              now)) {
            throw new CaException(ErrorCode.NOT_FOUND, "request " + id + " was decided by someone else meanwhile");
          }
          if (t.approvals() > 1) {
            tx.requests().addApproval(id, mine);
          }
          Audit.append(tx, who.actor(), AuditAction.REQUEST_APPROVE, "request:" + id, (t.approvals() > 1
              ? "approval=" + t.approvals() + " of " + t.approvals() + " " : "") + "serial=" + serial, now);
        });
  }

  /** The principals of the request's requester as a role holder (a holder may be issued its own name). */
  private static List<String> holderOf(RequestRecord r) {
    return r.requesterId() != null && r.requesterId().startsWith("key:") ? List.of(r.requesterId()) : List.of();
  }

  /** Denies a pending request; the client's next poll gets the denial and the reason. */
  public void deny(Identity who, long id, String reason) throws CaException {
    RequestRecord r = show(who, id);
    if (r.status() != RequestRecord.Status.PENDING) {
      throw new CaException(ErrorCode.BAD_REQUEST, "request " + id + " is already " + r.status().name().toLowerCase());
    }
    String why = reason == null || reason.isBlank() ? "denied" : reason;
    Instant now = issuer.now();
    store.inTransaction(tx -> {
      if (!tx.requests().decide(id, RequestRecord.Status.DENIED, who.actor(), who.principal(), why, null, now)) {
        throw new CaException(ErrorCode.NOT_FOUND, "request " + id + " was decided by someone else meanwhile");
      }
      Audit.append(tx, who.actor(), AuditAction.REQUEST_DENY, "request:" + id, "reason=" + why, now);
      return null;
    });
  }
}
