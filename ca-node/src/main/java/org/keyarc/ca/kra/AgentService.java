package org.keyarc.ca.kra;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.auth.Authorization;
import org.keyarc.ca.auth.FourEyes;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.IdentityService;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.store.AgentStore;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.RequestRecord;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.SecretRecord;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.support.Encodings;
import org.keyarc.ca.template.Template;
import org.keyarc.ca.template.Templates;
import org.keyarc.protocol.CardEvidence;
import org.keyarc.protocol.ErrorCode;

import static org.keyarc.ca.support.Digests.hex;

/**
 * The recovery agents and the archival policy (N agents each archived key is encrypted to, M of them
 * needed to recover): who they are, whether each can serve now, and the administrator's changes.
 */
public final class AgentService {
  private final Store store;
  private final Clock clock;
  private final String issuer;
  private final CaKeyring keys;

  /** {@code keys}: the CA key (agent certificates are checked against it) and the secret-MAC key (the seal). */
  public AgentService(Store store, Clock clock, String issuer, CaKeyring keys) {
    this.store = store;
    this.clock = clock;
    this.issuer = issuer;
    this.keys = keys;
  }

  /** One configured agent and what is wrong with it (null when it can be used). */
  public record AgentStatus(AgentStore.Agent agent, X509CertificateHolder cert, String problem) {}

  /** Every configured agent with its state, in order (one transaction for the agents and their records). */
  public List<AgentStatus> status() throws CaException {
    Instant now = clock.instant();
    record Configured(AgentStore.Agent agent, Optional<CertRecord> rec) {}
    List<Configured> configured = store.inTransaction(tx -> {
      List<Configured> l = new ArrayList<>();
      for (AgentStore.Agent a : tx.agents().list()) {
        l.add(new Configured(a, tx.certificates().find(issuer, a.serial())));
      }
      return l;
    });
    List<AgentStatus> out = new ArrayList<>();
    for (Configured a : configured) {
      X509CertificateHolder cert;
      try {
        cert = new X509CertificateHolder(a.agent().cert());
      } catch (java.io.IOException e) {
        out.add(new AgentStatus(a.agent(), null, "certificate unreadable"));
        continue;
      }
      String problem = problem(cert, a.rec(), now);
      out.add(new AgentStatus(a.agent(), cert, problem != null ? problem : provenanceProblem(a.agent(), cert,
          a.rec().orElseThrow())));
    }
    return out;
  }

  /** What keeps a certificate from serving as a recovery agent now, or null; {@code rec} is its store record. */
  static String problem(X509CertificateHolder cert, Optional<CertRecord> rec, Instant now) {
    if (!cert.isValidOn(Date.from(now))) {
      return now.isAfter(cert.getNotAfter().toInstant()) ? "expired " + cert.getNotAfter().toInstant()
          : "not valid before " + cert.getNotBefore().toInstant();
    }
    Extension eku = cert.getExtension(Extension.extendedKeyUsage);
    if (eku == null || !ExtendedKeyUsage.getInstance(eku.getParsedValue())
        .hasKeyPurposeId(KeyPurposeId.getInstance(Template.EKU_KEY_RECOVERY_AGENT))) {
      return "no Key Recovery Agent extended key usage";
    }
    if (!cert.getSubjectPublicKeyInfo().getAlgorithm().getAlgorithm().equals(PKCSObjectIdentifiers.rsaEncryption)) {
      return "not an RSA key";
    }
    if (rec.isEmpty()) {
      return "not issued by this CA";
    }
    if (rec.get().status() == CertRecord.Status.REVOKED) {
      return "revoked " + rec.get().revokedAt();
    }
    if (rec.get().status() == CertRecord.Status.UNCONFIRMED) {
      // a key that proves possession by decrypting its certificate has proven nothing until its certConf
      return "not confirmed by its requester: possession of the key is not proven yet (the agent runs 'kra "
          + "init-card --resume' with its card)";
    }
    return null;
  }

  /** How long before an agent's certificate ends the node warns (log, metric, kra list). */
  public static final java.time.Duration EXPIRY_WARNING = java.time.Duration.ofDays(30);

  /**
   * Warnings about valid agents whose certificates end within {@link #EXPIRY_WARNING}: each names the agent and the
   * day, and says when archival will be refused because too few valid agents are left by then. Empty when none.
   */
  public List<String> expiryWarnings() throws CaException {
    Instant now = clock.instant();
    List<AgentStatus> valid = status().stream().filter(a -> a.problem() == null && a.cert() != null).toList();
    int needed = policy().agents();
    List<String> out = new ArrayList<>();
    List<Instant> ends = valid.stream().map(a -> a.cert().getNotAfter().toInstant()).sorted().toList();
    for (AgentStatus a : valid) {
      Instant end = a.cert().getNotAfter().toInstant();
      if (end.isAfter(now.plus(EXPIRY_WARNING))) {
        continue;
      }
      long days = java.time.Duration.between(now, end).toDays();
      long leftAfter = ends.stream().filter(e -> e.isAfter(end)).count();
      out.add("recovery agent " + a.agent().subject() + " (serial " + a.agent().serial().toString(16) + "): its "
          + "certificate ends " + end + ", in " + days + " day" + (days == 1 ? "" : "s") + "; renew it (kra "
          + "init-card, approval, kra add)" + (leftAfter < needed ? "; from then archival is refused: " + leftAfter
          + " valid agents left, the policy needs " + needed : ""));
    }
    return out;
  }

  /**
   * What a database writer could have changed about an agent: a certificate not signed by this CA's key, one
   * that differs from the certificate this CA recorded under its serial, or one not issued from the Key
   * Recovery Agent template. Null when it is the CA's own.
   */
  private String provenanceProblem(AgentStore.Agent agent, X509CertificateHolder cert, CertRecord rec) {
    try {
      if (keys.issuerOf(cert).isEmpty()) {
        return "not signed by this CA's key";
      }
    } catch (RuntimeException e) {
      return "its signature cannot be checked";
    }
    if (!java.util.Arrays.equals(agent.cert(), rec.der())) {
      return "not the certificate this CA issued under serial " + hex(agent.serial());
    }
    if (!Templates.KEY_RECOVERY_AGENT.equals(rec.template())) {
      return "issued from template " + rec.template() + ", not " + Templates.KEY_RECOVERY_AGENT;
    }
    return null;
  }

  /**
   * Refuses (ARCHIVAL_CONFIG_TAMPERED, audited) when the agent list and policy in the store are not the ones an
   * administrator sealed: a store edit never silently decides where archived keys go.
   */
  private void checkSeal(AgentStore.Policy policy) throws CaException {
    record State(java.util.Optional<byte[]> seal, List<AgentStore.Agent> agents, AgentStore.Policy stored) {}
    State st = store.inTransaction(tx -> new State(tx.agents().seal(), tx.agents().list(), tx.agents().policy()));
    String problem = null;
    if (!st.stored().equals(policy)) {
      problem = "the policy changed while the request was being checked";
    } else if (st.seal().isEmpty()) {
      if (!st.agents().isEmpty()) {
        problem = "the recovery-agent list and policy carry no seal (made before keyarc sealed them, or the seal "
            + "was removed): an administrator must confirm them with 'keyarc kra policy'";
      }
    } else if (!java.security.MessageDigest.isEqual(st.seal().get(), AgentSeal.compute(keys, st.stored(),
        st.agents()))) {
      problem = "the recovery-agent list or policy in the store is not the one an administrator sealed: the store "
          + "was edited";
    }
    if (problem != null) {
      String why = problem;
      store.inTransaction(tx -> Audit.append(tx, Audit.NODE, AuditAction.KRA_CONFIG_TAMPERED, "archive", why,
          clock.instant()));
      throw new CaException(ErrorCode.ARCHIVAL_CONFIG_TAMPERED, why + "; nothing was stored");
    }
  }

  /** Seals the agent list and policy as {@code tx} leaves them (inside the administrator's change). */
  private void reseal(org.keyarc.ca.store.StoreTx tx, Identity who, Instant now) throws CaException {
    tx.agents().setSeal(AgentSeal.compute(keys, tx.agents().policy(), tx.agents().list()), now, who.actor());
  }

  /** The N agents archival uses now: the first N valid ones in configuration order, once the seal holds. */
  public List<X509CertificateHolder> archivalAgents(AgentStore.Policy policy) throws CaException {
    checkSeal(policy);
    List<AgentStatus> all = status();
    List<X509CertificateHolder> valid = new ArrayList<>();
    StringBuilder invalid = new StringBuilder();
    java.util.Map<org.bouncycastle.asn1.x509.SubjectPublicKeyInfo, AgentStatus> keysSeen = new java.util.HashMap<>();
    for (AgentStatus a : all) {
      // one card is one agent: a second certificate for a key already counted does not raise the threshold
      AgentStatus sameKey = a.problem() == null ? keysSeen.putIfAbsent(a.cert().getSubjectPublicKeyInfo(), a) : null;
      if (sameKey != null) {
        invalid.append("; ").append(a.agent().subject()).append(" (serial ").append(hex(a.agent().serial()))
            .append("): the same key as ").append(sameKey.agent().subject()).append(" (serial ")
            .append(hex(sameKey.agent().serial())).append(")");
      } else if (a.problem() == null) {
        valid.add(a.cert());
      } else {
        invalid.append("; ").append(a.agent().subject()).append(" (serial ").append(hex(a.agent().serial()))
            .append("): ").append(a.problem());
      }
    }
    if (valid.size() < policy.agents()) {
      throw new CaException(ErrorCode.RECOVERY_AGENTS_UNAVAILABLE, "archival needs " + policy.agents()
          + " valid recovery agents and " + valid.size() + " of " + all.size() + " configured are valid"
          + (all.isEmpty() ? " (add agents with 'keyarc kra add')" : invalid) + "; nothing was stored");
    }
    return valid.subList(0, policy.agents());
  }

  /**
   * Where an agent's certificate came from, as {@code kra add} shows it: the held request it was approved from,
   * who requested it (and who made the secret the request used), who approved it, and the card evidence the
   * request carried (null: none).
   */
  public record Provenance(RequestRecord request, String secretMadeBy, CardEvidence evidence) {}

  /** An added agent and where its certificate came from. */
  public record Added(AgentStore.Agent agent, Provenance provenance) {}

  /** Adds an agent by the serial of a KeyRecoveryAgent certificate this CA issued. Administrator only. */
  public AgentStore.Agent add(Identity who, BigInteger serial) throws CaException {
    return add(who, serial, false).agent();
  }

  /**
   * Adds an agent by the serial of a KeyRecoveryAgent certificate this CA issued through a certificate
   * manager's approval (four eyes held: its requester did not approve it), whose request carried card evidence
   * that shows a key made on a card ({@code withoutCardEvidence}: the administrator accepts a certificate
   * without it, audited). Administrator only; every refusal is audited.
   */
  public Added add(Identity who, BigInteger serial, boolean withoutCardEvidence) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR);
    try {
      return checkedAdd(who, serial, withoutCardEvidence);
    } catch (CaException e) {
      if (!IdentityService.isAuthorizationRefusal(e.code())) { // those the protocol edge audits
        try {
          store.inTransaction(tx -> Audit.append(tx, who.actor(), AuditAction.KRA_ADD_REFUSED, "serial:" + hex(serial),
              "code=" + e.code().number() + " " + e.getMessage().replaceAll("[^\\x20-\\x7e]", "?"), clock.instant()));
        } catch (CaException ignored) {
          // the refusal stands; the node's log has it
        }
      }
      throw e;
    }
  }

  private Added checkedAdd(Identity who, BigInteger serial, boolean withoutCardEvidence) throws CaException {
    record Found(CertRecord rec, RequestRecord request, SecretRecord secret) {}
    Found f = store.inTransaction(tx -> {
      CertRecord rec = tx.certificates().find(issuer, serial).orElseThrow(
          () -> new CaException(ErrorCode.NOT_FOUND, "this CA issued no certificate with serial " + hex(serial)));
      RequestRecord req = rec.requestId() == null ? null : tx.requests().find(rec.requestId()).orElse(null);
      SecretRecord sec = req != null && req.requester().startsWith("secret:")
          ? tx.secrets().find(req.requester().substring("secret:".length())).orElse(null) : null;
      return new Found(rec, req, sec);
    });
    CertRecord rec = f.rec();
    X509CertificateHolder cert = Encodings.certificate(rec.der());
    Instant now = clock.instant();
    String problem = problem(cert, Optional.of(rec), now);
    if (problem != null) {
      throw new CaException(ErrorCode.BAD_REQUEST, "certificate " + hex(serial) + " (" + rec.subject()
          + ") cannot be a recovery agent: " + problem);
    }
    if (!Templates.KEY_RECOVERY_AGENT.equals(rec.template())) {
      throw new CaException(ErrorCode.BAD_REQUEST, "certificate " + hex(serial) + " (" + rec.subject() + ") was issued "
          + "from template " + rec.template() + ", not " + Templates.KEY_RECOVERY_AGENT + ": only a Key Recovery Agent "
          + "certificate approved by a certificate manager can be a recovery agent");
    }
    RequestRecord r = f.request();
    if (r == null || r.status() != RequestRecord.Status.APPROVED || !hex(serial).equals(r.certSerial())) {
      throw new CaException(ErrorCode.BAD_REQUEST, "certificate " + hex(serial) + " (" + rec.subject() + ") was not "
          + "issued through a certificate manager's approval of a held request: it cannot be a recovery agent");
    }
    FourEyes.checkDecided(r);
    CardEvidence evidence = null;
    if (r.cardEvidence() != null) {
      try {
        evidence = CardEvidence.parse(r.cardEvidence());
      } catch (IllegalArgumentException e) {
        evidence = null;
      }
    }
    if (!withoutCardEvidence) {
      if (evidence == null) {
        throw new CaException(ErrorCode.BAD_REQUEST, "the request of certificate " + hex(serial) + " (" + rec.subject()
            + ", request " + r.id() + ") carried no card evidence: its key may have been made in software; make the "
            + "agent's key with 'keyarc kra init-card', or add it anyway with --without-card-evidence (audited)");
      }
      if (!evidence.showsCardKey()) {
        throw new CaException(ErrorCode.BAD_REQUEST, "the card evidence of certificate " + hex(serial) + " ("
            + rec.subject() + ") does not show a key made on a card: " + String.join(", ", evidence.problems())
            + "; add it anyway with --without-card-evidence (audited)");
      }
    }
    Provenance p = new Provenance(r, f.secret() == null ? null : f.secret().createdBy(), evidence);
    AgentStore.Agent a = new AgentStore.Agent(issuer, serial, rec.subject(), rec.der(), who.actor(), now);
    String detail = "subject=" + rec.subject() + " request=" + r.id() + " requestedBy=" + r.requester()
        + (p.secretMadeBy() == null ? "" : " secretMadeBy=" + p.secretMadeBy()) + " approvedBy=" + r.decidedBy()
        + (evidence == null ? " cardEvidence=none" : " cardEvidence=" + evidence.summary())
        + (withoutCardEvidence && (evidence == null || !evidence.showsCardKey())
            ? " accepted=--without-card-evidence" : "");
    boolean added = store.inTransaction(tx -> {
      for (AgentStore.Agent other : tx.agents().list()) {
        if (!other.serial().equals(serial) && Encodings.certificate(other.cert()).getSubjectPublicKeyInfo()
            .equals(cert.getSubjectPublicKeyInfo())) {
          throw new CaException(ErrorCode.BAD_REQUEST, "certificate " + hex(serial) + " (" + rec.subject()
              + ") certifies the key of recovery agent " + other.subject() + " (serial " + hex(other.serial())
              + "): one card counts as one agent; nothing was changed");
        }
      }
      boolean ok = tx.agents().add(a);
      if (ok) {
        Audit.append(tx, who.actor(), AuditAction.KRA_ADD, "serial:" + hex(serial), detail, now);
        reseal(tx, who, now);
      }
      return ok;
    });
    if (!added) {
      throw new CaException(ErrorCode.BAD_REQUEST, rec.subject() + " (serial " + hex(serial)
          + ") is already a recovery agent");
    }
    return new Added(a, p);
  }

  /** Removes an agent (keys archived before stay encrypted to it). Administrator only. */
  public void remove(Identity who, BigInteger serial) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR);
    Instant now = clock.instant();
    boolean removed = store.inTransaction(tx -> {
      boolean ok = tx.agents().remove(issuer, serial);
      if (ok) {
        Audit.append(tx, who.actor(), AuditAction.KRA_REMOVE, "serial:" + hex(serial), "", now);
        reseal(tx, who, now);
      }
      return ok;
    });
    if (!removed) {
      throw new CaException(ErrorCode.NOT_FOUND, "serial " + hex(serial) + " is not a recovery agent");
    }
  }

  /** Sets N (agents per archived key) and M (threshold). Administrator only. */
  public void setPolicy(Identity who, int agents, int threshold) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR);
    if (threshold < 1 || threshold > agents || agents > 16) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the policy needs 1 <= M <= N <= 16, not N=" + agents + ", M="
          + threshold);
    }
    Instant now = clock.instant();
    store.inTransaction(tx -> {
      tx.agents().setPolicy(new AgentStore.Policy(agents, threshold));
      Audit.append(tx, who.actor(), AuditAction.KRA_POLICY, "archive", "agents=" + agents + " threshold="
          + threshold, now);
      reseal(tx, who, now);
      return null;
    });
  }

  public AgentStore.Policy policy() throws CaException {
    return store.inTransaction(tx -> tx.agents().policy());
  }
}
