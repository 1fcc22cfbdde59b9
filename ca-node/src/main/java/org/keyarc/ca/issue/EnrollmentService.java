package org.keyarc.ca.issue;

import java.io.IOException;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.CMPException;
import org.bouncycastle.cert.cmp.CertificateStatus;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.keyarc.ca.audit.log.AuditBacklog;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.RoleService;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.kra.AgentService;
import org.keyarc.ca.kra.KeyArchiver;
import org.keyarc.ca.revoke.CrlService;
import org.keyarc.ca.store.AgentStore;
import org.keyarc.ca.store.ArchiveStore;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.RequestRecord;
import org.keyarc.ca.store.RequestStore;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.support.Encodings;
import org.keyarc.ca.support.Texts;
import org.keyarc.ca.template.NameRules;
import org.keyarc.ca.template.Template;
import org.keyarc.ca.template.TemplateRules;
import org.keyarc.protocol.ErrorCode;

import static org.keyarc.ca.support.Digests.hex;

/**
 * Enrollment: a request is checked against its template, then issued (with its key archived first when the
 * template says so) or held for a certificate manager; the client confirms what was issued, and polls for
 * what was held. Certificates never confirmed are revoked by {@link #reapUnconfirmed}.
 *
 * <p>What is issued or held records its requester's principal and origin: only that requester confirms,
 * rejects or polls, and nobody among them approves it (four eyes, {@link ApprovalService}). No certificate is
 * issued for a role holder's name except to the holder itself or from the secret of the ceremony that grants
 * the role, whose role is then bound to the new certificate's key ({@link RoleService}).
 */
public final class EnrollmentService implements Enrollment {

  private final Store store;
  private final Issuer issuer;
  private final AuditBacklog backlog;
  private final AgentService agents;
  private final KeyArchiver archiver;
  private final CrlService crls;
  private final String issuerName;
  private final int pollIntervalSeconds;

  public EnrollmentService(Store store, Issuer issuer, AgentService agents, KeyArchiver archiver, CrlService crls,
      String issuerName, int pollIntervalSeconds, AuditBacklog backlog) {
    this.store = store;
    this.backlog = backlog;
    this.issuer = issuer;
    this.agents = agents;
    this.archiver = archiver;
    this.crls = crls;
    this.issuerName = issuerName;
    this.pollIntervalSeconds = pollIntervalSeconds;
  }

  @Override
  public Outcome enroll(EnrollRequest r, InSameUnit alsoStore) throws CaException {
    return org.keyarc.ca.support.Futures.join(enrollAsync(r, alsoStore));
  }

  /**
   * The plain issuance (no approval, no archive) is answered from its commit: the HSM signs on the caller's thread,
   * and the future completes once the certificate is stored. Held and archived requests are done before it returns.
   */
  @Override
  public java.util.concurrent.CompletableFuture<Outcome> enrollAsync(EnrollRequest r, InSameUnit alsoStore) {
    try {
      return enrollChecked(r, alsoStore);
    } catch (CaException | RuntimeException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    }
  }

  private java.util.concurrent.CompletableFuture<Outcome> enrollChecked(EnrollRequest r, InSameUnit alsoStore)
      throws CaException {
    issuer.checkIssuing();
    Template t = r.template();
    TemplateRules.checkSubject(t, r.subject());
    if (r.keyGen() == null) {
      TemplateRules.checkKey(t, r.publicKey()); // a generated key is checked once it exists
    } else if (!t.centralKeygen() || !t.archivePrivateKey()) {
      throw new CaException(ErrorCode.BAD_REQUEST, "template " + t.name() + " does not generate keys centrally: send "
          + "the public key");
    }
    NameRules.checkIssued(t, r.subjectAltNames());
    if (t.archivePrivateKey()) {
      return java.util.concurrent.CompletableFuture.completedFuture(enrollWithArchive(r, alsoStore));
    }
    if (r.archive() != null) {
      throw new CaException(ErrorCode.BAD_REQUEST, "template " + t.name() + " does not archive private keys, but the "
          + "request carries archive options; leave them out (nothing was stored)");
    }
    Instant now = issuer.now();
    String requester = principal(r.requester());
    String origin = originOf(r.requester());
    if (t.requiresApproval()) {
      byte[] spki = Encodings.der(r.publicKey());
      // the granted subjectAltNames (never the request's extensions), shown at request show
      byte[] ext = r.subjectAltNames() == null ? null : Encodings.der(NameRules.asExtensions(r.subjectAltNames()));
      byte[] evidence = r.cardEvidence() == null ? null : r.cardEvidence().encoded();
      String parties = partiesOf(r.requester(), r.subject());
      long id = store.inTransaction(tx -> {
        also(alsoStore, tx);
        RoleService.checkNameFree(tx, r.subject(), exempt(r.requester()), r.secretReference());
        SecretService.consume(tx, r.secretReference(), r.ref().transaction(), now);
        long rid = tx.requests().insertPending(new RequestStore.Held(r.ref().transaction(), r.ref().item(),
            actor(r.requester()), requester, origin, parties, t.name(), r.subject().toString(), r.ref().form(), spki,
            ext, evidence, now, r.indirectPop() ? RequestRecord.POP_ENCR_CERT : null));
        Audit.append(tx, actor(r.requester()), AuditAction.REQUEST_PENDING, "request:" + rid,
            "template=" + t.name() + " subject=" + r.subject() + names(r)
                + (evidence == null ? "" : " cardEvidence=yes") + (r.indirectPop() ? " pop=encrCert" : ""), now);
        return rid;
      });
      return java.util.concurrent.CompletableFuture.completedFuture(new Outcome.Pending(id));
    }
    // a key proven by decryption counts only once its certConf shows it opened the certificate
    boolean confirmed = r.implicitConfirm() && !r.indirectPop();
    return issuer.issueAndStoreAsync(actor(r.requester()), t, r.subject(), r.publicKey(),
        r.subjectAltNames(), confirmed ? CertRecord.Status.ISSUED : CertRecord.Status.UNCONFIRMED,
        confirmed ? null : issuer.confirmDeadline(now), null, null, r.ref().transaction(), requester, origin, now,
        (tx, issued) -> {
          also(alsoStore, tx);
          RoleService.checkNameFree(tx, r.subject(), exempt(r.requester()), r.secretReference());
          SecretService.consume(tx, r.secretReference(), r.ref().transaction(), now);
          RoleService.bindOnIssue(tx, r.secretReference(), issued, now);
        }).thenApply(cert -> new Outcome.Issued(cert, confirmed, null, r.indirectPop()));
  }

  private static void also(InSameUnit alsoStore, org.keyarc.ca.store.StoreTx tx) throws CaException {
    if (alsoStore != null) {
      alsoStore.run(tx);
    }
  }

  /**
   * Invariant 3, no archive, no certificate: the key is unwrapped, checked and re-wrapped to the agents
   * in the HSM first; then the certificate, the archive record, the secret's use and the audit record
   * commit in one unit of work. A refusal leaves only its audit record.
   */
  private Outcome enrollWithArchive(EnrollRequest r, InSameUnit alsoStore) throws CaException {
    Template t = r.template();
    Instant now = issuer.now();
    String requester = principal(r.requester());
    String origin = originOf(r.requester());
    // a role holder's name is refused before any archival work (and checked again in the issuing unit of work)
    store.inTransaction(tx -> {
      RoleService.checkNameFree(tx, r.subject(), exempt(r.requester()), r.secretReference());
      return null;
    });
    try {
      if (r.keyGen() != null) {
        return enrollGenerated(r, now, requester, origin, alsoStore);
      }
      if (r.archive() == null) {
        throw new CaException(ErrorCode.ARCHIVAL_REQUIRED, "template " + t.name() + " archives the subject's private "
            + "key: send it in PKIArchiveOptions (keyarc enroll --archive); nothing was stored");
      }
      AgentStore.Policy policy = agents.policy();
      List<X509CertificateHolder> to = agents.archivalAgents(policy);
      KeyArchiver.Sealed sealed = archiver.seal(r.archive(), r.publicKey(), to, policy.threshold(), now);
      X509CertificateHolder cert = issueArchived(r, r.publicKey(), sealed, policy, to, now, requester, origin,
          sealed.softwareUnwrap() ? " unwrap=software (archival.allowSoftwareUnwrap)" : " unwrap=hsm", alsoStore);
      boolean confirmed = r.implicitConfirm();
      return new Outcome.Issued(cert, confirmed);
    } catch (CaException e) {
      auditRefusal(r, e);
      throw e;
    }
  }

  /** Central key generation: the key made and archived in the HSM, the certificate for it, the key to the requester. */
  private Outcome enrollGenerated(EnrollRequest r, Instant now, String requester, String origin,
      InSameUnit alsoStore) throws CaException {
    if (r.archive() != null) {
      throw new CaException(ErrorCode.BAD_REQUEST, "a request without a public key cannot also send a private key");
    }
    AgentStore.Policy policy = agents.policy();
    List<X509CertificateHolder> to = agents.archivalAgents(policy);
    KeyArchiver.Generated g = archiver.generate(r.keyGen().spec(), r.keyGen().to(), to, policy.threshold());
    org.keyarc.ca.template.TemplateRules.checkKey(r.template(), g.publicKey());
    // never implicitly confirmed: the certificate counts only once the requester has opened its key (certConf)
    EnrollRequest confirming = new EnrollRequest(r.requester(), r.ref(), r.template(), r.subject(), null,
        r.subjectAltNames(), false, r.secretReference(), null, r.cardEvidence(), r.keyGen());
    X509CertificateHolder cert = issueArchived(confirming, g.publicKey(), g.sealed(), policy, to, now, requester, origin,
        " generated=hsm " + r.keyGen().spec().name().toLowerCase() + " returned="
            + (r.keyGen().to() instanceof KeyArchiver.Delivery.ToSecret ? "secret" : "requester-key"), alsoStore);
    return new Outcome.Issued(cert, false, g.delivered());
  }

  /** The certificate, the archive record, the secret's use and the audit record, in one unit of work. */
  private X509CertificateHolder issueArchived(EnrollRequest r, org.bouncycastle.asn1.x509.SubjectPublicKeyInfo key,
      KeyArchiver.Sealed sealed, AgentStore.Policy policy, List<X509CertificateHolder> to, Instant now,
      String requester, String origin, String how, InSameUnit alsoStore) throws CaException {
    Template t = r.template();
    boolean confirmed = r.implicitConfirm();
    return issuer.issueAndStore(actor(r.requester()), t, r.subject(), key,
        r.subjectAltNames(), confirmed ? CertRecord.Status.ISSUED : CertRecord.Status.UNCONFIRMED, null,
        r.ref().transaction(), requester, origin, now, (tx, issued) -> {
          also(alsoStore, tx);
          RoleService.checkNameFree(tx, r.subject(), exempt(r.requester()), r.secretReference());
          SecretService.consume(tx, r.secretReference(), r.ref().transaction(), now);
          RoleService.bindOnIssue(tx, r.secretReference(), issued, now);
          byte[] der = Encodings.der(issued);
          tx.archives().insert(new ArchiveStore.Row(issuerName, issued.getSerialNumber(), r.subject().toString(),
              Digests.sha256Hex(der), Digests.sha1Hex(der), policy.threshold(), to.size(), now,
              Encodings.der(sealed.record(issued))));
          StringBuilder who = new StringBuilder();
          for (X509CertificateHolder a : to) {
            who.append(who.length() == 0 ? "" : ",").append(hex(a.getSerialNumber()));
          }
          Audit.append(tx, actor(r.requester()), AuditAction.KEY_ARCHIVE, "serial:" + hex(issued.getSerialNumber()),
              "threshold=" + policy.threshold() + " agents=" + who + how, now);
        });
  }

  // ------------------------------------------------------------------ who asked

  private static String actor(Identity who) {
    return who == null ? Audit.NODE : who.actor();
  }

  private static String principal(Identity who) {
    return who == null ? null : who.principal();
  }

  /**
   * Who vouched for the requester, stored with what it gets: a secret's creator; for a certificate holder the
   * origin of its own certificate (the creator of the secret at the root of its enrollments), else the holder.
   */
  static String originOf(Identity who) {
    if (who == null) {
      return null;
    }
    if (who.origin() != null && !who.origin().isBlank()) {
      return who.origin();
    }
    return who.kind() == Identity.Kind.CERTIFICATE ? who.aliasesText() : who.principal();
  }

  /** Everyone who may not approve the request: the requester, its origin, and the name it asks for. */
  static String partiesOf(Identity who, X500Name subject) {
    java.util.Set<String> p = new java.util.LinkedHashSet<>();
    if (who != null) {
      p.addAll(who.parties());
      p.addAll(Identity.split(originOf(who)));
    }
    p.add(Identity.labelOf(subject.toString()));
    return String.join(" ", p);
  }

  /** The holders a role row of the requester itself would have: a role holder may renew its own name. */
  private static List<String> exempt(Identity who) {
    if (who == null || who.kind() != Identity.Kind.CERTIFICATE || who.keyId() == null) {
      return List.of();
    }
    return List.of(who.principal(), Identity.certPrincipal(who.serial()));
  }

  private static String names(EnrollRequest r) {
    return r.subjectAltNames() == null ? "" : " subjectAltNames=" + String.join(",", NameRules.texts(r.subjectAltNames()));
  }

  private void auditRefusal(EnrollRequest r, CaException e) {
    backlog.append(r.requester().actor(), AuditAction.KEY_ARCHIVE_REFUSED, "subject:" + r.subject(), "code="
        + e.code().number() + " " + Texts.printable(e.getMessage()), issuer.now());
  }

  /**
   * Only the identity that started the transaction (the same key, or the same one-time secret) may confirm or
   * reject its certificates, and a rejection revokes only a certificate still waiting for confirmation: a
   * confirmed one is revoked by rr alone (its holder or a certificate manager). Every status is checked before
   * anything changes.
   */
  @Override
  public int confirm(Identity who, String transaction, CertificateStatus[] statuses) throws CaException {
    if (who == null) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "certConf must be protected by the requester of the "
          + "transaction");
    }
    List<CertRecord> issued = store.inTransaction(tx -> tx.certificates().ofTransaction(transaction));
    if (issued.isEmpty()) {
      throw new CaException(ErrorCode.NOT_FOUND, "this transaction issued no certificate");
    }
    record Decision(CertRecord cert, boolean accepted) {}
    List<Decision> decisions = new java.util.ArrayList<>();
    for (CertificateStatus st : statuses) {
      CertRecord m = null;
      for (CertRecord rec : issued) {
        try {
          if (st.isVerified(new X509CertificateHolder(rec.der()), new JcaDigestCalculatorProviderBuilder().build())) {
            m = rec;
          }
        } catch (CMPException | IOException | OperatorCreationException e) {
          throw new CaException(ErrorCode.BAD_MESSAGE, "the certConf hash cannot be checked: " + e.getMessage());
        }
      }
      if (m == null) {
        throw new CaException(ErrorCode.BAD_REQUEST, "certConf names a certificate hash this transaction did not "
            + "issue");
      }
      boolean accepted = st.getStatusInfo() == null || st.getStatusInfo().getStatus().intValue() <= 1;
      // a certificate issued before requesters were recorded may still be accepted once confirmed (a no-op)
      boolean mine = m.requester() != null ? m.requester().equals(who.principal())
          : m.status() == CertRecord.Status.ISSUED && accepted;
      if (!mine) {
        throw new CaException(ErrorCode.NOT_AUTHORIZED, who.actor() + " did not start transaction " + transaction
            + ": only its requester may confirm or reject certificate " + hex(m.serial()));
      }
      if (m.status() == CertRecord.Status.REVOKED) {
        throw new CaException(ErrorCode.CERT_REVOKED, "certificate " + hex(m.serial()) + " was revoked: its certConf "
            + "came too late or it was rejected before");
      }
      if (m.status() == CertRecord.Status.ISSUED && !accepted) {
        throw new CaException(ErrorCode.NOT_AUTHORIZED, "certificate " + hex(m.serial()) + " is already confirmed: "
            + "certConf can no longer reject it; its holder or a certificate manager revokes it with rr");
      }
      decisions.add(new Decision(m, accepted));
    }
    int confirmed = 0;
    Instant now = issuer.now();
    for (Decision d : decisions) {
      CertRecord match = d.cert();
      if (match.status() == CertRecord.Status.ISSUED) {
        confirmed++; // issued on approval, or confirmed before: nothing to change
        continue;
      }
      boolean changed = store.inTransaction(tx -> {
        if (d.accepted()) {
          if (!tx.certificates().confirm(issuerName, match.serial())) {
            return false;
          }
          Audit.append(tx, who.actor(), AuditAction.CERT_CONFIRM, "serial:" + hex(match.serial()), "subject="
              + match.subject(), now);
        } else {
          if (!tx.certificates().rejectUnconfirmed(issuerName, match.serial(), CRLReason.cessationOfOperation, now)) {
            return false;
          }
          Audit.append(tx, who.actor(), AuditAction.CERT_REVOKE, "serial:" + hex(match.serial()),
              "reason=cessationOfOperation cause=rejected-by-client", now);
        }
        return true;
      });
      if (!changed) {
        // confirmed, rejected or reaped meanwhile
        CertRecord now2 = store.inTransaction(tx -> tx.certificates().find(issuerName, match.serial())).orElseThrow();
        if (now2.status() == CertRecord.Status.ISSUED && d.accepted()) {
          confirmed++;
          continue;
        }
        throw new CaException(now2.status() == CertRecord.Status.REVOKED ? ErrorCode.CERT_REVOKED
            : ErrorCode.NOT_AUTHORIZED, "certificate " + hex(match.serial()) + " is already "
            + now2.status().name().toLowerCase() + ": certConf no longer changes it");
      }
      if (d.accepted()) {
        confirmed++;
      } else {
        crls.publishQuietly();
      }
    }
    return confirmed;
  }

  /** Revokes every certificate whose confirmation never came; returns how many. */
  public int reapUnconfirmed() throws CaException {
    Instant now = issuer.now();
    List<CertRecord> late = store.inTransaction(tx -> tx.certificates().unconfirmedBefore(now));
    for (CertRecord r : late) {
      store.inTransaction(tx -> {
        if (tx.certificates().revoke(issuerName, r.serial(), CRLReason.cessationOfOperation, now)) {
          Audit.append(tx, Audit.NODE, AuditAction.CERT_REVOKE, "serial:" + hex(r.serial()),
              "reason=cessationOfOperation cause=no-certConf", now);
        }
        return null;
      });
    }
    if (!late.isEmpty()) {
      crls.publish(Audit.NODE);
    }
    return late.size();
  }

  @Override
  public PollResult poll(Identity who, String transaction, long item) throws CaException {
    RequestRecord r = store.inTransaction(tx -> tx.requests().findByTransaction(transaction, item))
        .orElseThrow(() -> new CaException(ErrorCode.NOT_FOUND, "no request " + item
            + " in this transaction is waiting"));
    if (who == null || r.requesterId() == null || !r.requesterId().equals(who.principal())) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "only the requester may poll request " + r.id()
          + (r.requesterId() == null ? " (it was stored before requests were bound to their requester's key: a "
          + "certificate manager hands out its certificate)" : ""));
    }
    switch (r.status()) {
      case PENDING:
        return new PollResult.Waiting(pollIntervalSeconds);
      case DENIED:
        return new PollResult.Denied(r.reason(), r.bodyType());
      default:
        BigInteger serial = new BigInteger(r.certSerial(), 16);
        CertRecord cert = store.inTransaction(tx -> {
          if (r.indirectPop()) {
            // delivered now, encrypted to its key: the certConf clock starts with the first delivery
            tx.certificates().startConfirmClock(issuerName, serial, issuer.confirmDeadline(issuer.now()));
          }
          return tx.certificates().find(issuerName, serial);
        }).orElseThrow(() -> new CaException(ErrorCode.STORE_ERROR, "request " + r.id() + " is approved but its "
            + "certificate is missing from the store"));
        return new PollResult.Issued(Encodings.certificate(cert.der()), r.bodyType(), r.indirectPop());
    }
  }
}
