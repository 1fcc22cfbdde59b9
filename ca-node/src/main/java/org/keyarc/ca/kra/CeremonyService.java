package org.keyarc.ca.kra;

import java.math.BigInteger;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.cms.EnvelopedData;
import org.bouncycastle.asn1.cms.IssuerAndSerialNumber;
import org.bouncycastle.asn1.cms.KeyTransRecipientInfo;
import org.bouncycastle.asn1.cms.RecipientInfo;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.auth.Authorization;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.store.AgentStore;
import org.keyarc.ca.store.ArchiveStore;
import org.keyarc.ca.store.CeremonyStore;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.support.Encodings;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcCmp;
import org.keyarc.protocol.archive.ArchiveRecord;
import org.keyarc.protocol.archive.CeremonyOrder;
import org.keyarc.protocol.archive.CeremonyWork;
import org.keyarc.protocol.archive.Envelopes;
import org.keyarc.protocol.archive.Subsets;

import static org.keyarc.ca.support.Digests.hex;

/**
 * Agent rotation and recoverability drills (docs/recovery.md): a certificate manager starts one over a selection of
 * archives, the node hands out a CA-signed order with each archive's recovery blob, M agents of each archive do their
 * steps with their cards on their own machines, and the last one's answer comes back here. The node never holds K or
 * the private key: at a rotation the last agent wraps K to the new agents; the node checks the answer's proof, a
 * signature made with the archived key over the order's challenge and the new envelopes (so the agents did reach K
 * and K opens the key), checks the envelopes' shape against the order, and stores them as a new record of the
 * archive, keeping the previous record until a drill of the new one passes. A drill's answer is the proof alone.
 */
public final class CeremonyService {
  /** Most archives one ceremony covers (more: start another; the first's archives are skipped while unfinished). */
  public static final int MAX_ARCHIVES = 10_000;
  /** Largest envelope layer accepted in an answer. */
  static final int MAX_LAYER_BYTES = 64 * 1024;

  private final Store store;
  private final ArchiveService archives;
  private final AgentService agents;
  private final CaKeyring keys;
  private final Clock clock;
  private final String issuer;
  private final AlgorithmIdentifier keyWrap;
  private final SecureRandom random = new SecureRandom();

  public CeremonyService(Store store, ArchiveService archives, AgentService agents, CaKeyring keys, Clock clock,
      AlgorithmIdentifier keyWrap) {
    this.store = store;
    this.archives = archives;
    this.agents = agents;
    this.keys = keys;
    this.clock = clock;
    this.issuer = keys.caName().toString();
    this.keyWrap = keyWrap;
  }

  /**
   * Which archives a ceremony takes: {@code serials} (empty: by the rule of the kind), at most {@code limit}; a drill
   * without serials takes the archives whose record a rotation made and no drill proved yet ({@code unverified}), or
   * else a random sample of {@code sample}.
   */
  public record Selection(List<BigInteger> serials, int limit, int sample, boolean unverified) {}

  /** One archive a ceremony would take: its certificate, owner, and its policy before and after. */
  public record Planned(String issuer, BigInteger serial, String subject, String from, String to) {}

  /** A started ceremony. */
  public record Started(long id, CeremonyStore.Kind kind, int archives) {}

  /** The part of a ceremony's file the node hands out: the signed order and the blobs of unfinished archives. */
  public record Work(byte[] signedOrder, List<byte[]> blobs, int unfinished) {}

  /** The last agent's answer for one archive. */
  public record Answer(BigInteger serial, AlgorithmIdentifier proofAlgorithm, byte[] proof,
      List<ArchiveRecord.Envelope> envelopes, byte[] verifierProof, ArchiveRecord.Verifier newVerifier) {}

  /** What became of one answer. */
  public record Outcome(BigInteger serial, boolean accepted, String detail) {}

  /** The dry run: what a ceremony of {@code kind} over {@code sel} would take, and what a rotation would change. */
  public List<Planned> plan(Identity who, CeremonyStore.Kind kind, Selection sel) throws CaException {
    Authorization.require(who, Role.MANAGER, Role.ADMINISTRATOR);
    return select(kind, sel, target(kind));
  }

  /** Starts a ceremony (certificate manager, audited): its order, signed by the CA, and its archives. */
  public Started start(Identity who, CeremonyStore.Kind kind, Selection sel) throws CaException {
    Authorization.require(who, Role.MANAGER);
    Target target = target(kind);
    List<Planned> chosen = select(kind, sel, target);
    if (chosen.isEmpty()) {
      throw new CaException(ErrorCode.NOT_FOUND, kind == CeremonyStore.Kind.ROTATION
          ? "no archive needs a rotation: every selected archive is encrypted to the current agents and policy"
          : "no archive to drill in the selection");
    }
    Instant now = clock.instant();
    List<CeremonyOrder.Archive> entries = new ArrayList<>();
    for (Planned p : chosen) {
      ArchiveStore.Row row = row(p.issuer(), p.serial());
      entries.add(new CeremonyOrder.Archive(ArchiveRecord.getInstance(row.record()).certificate(),
          org.keyarc.ca.support.Digests.sha256(row.record())));
    }
    byte[] nonce = new byte[32];
    random.nextBytes(nonce);
    long id = store.inTransaction(tx -> tx.ceremonies().create(kind, who.actor(), now));
    CeremonyOrder order = new CeremonyOrder(kind == CeremonyStore.Kind.ROTATION ? CeremonyOrder.Kind.ROTATION
        : CeremonyOrder.Kind.DRILL, id, nonce, entries, target.threshold(), ids(target.agents()), keyWrap != null
        ? keyWrap : org.keyarc.protocol.OaepCapabilities.forAll(target.agents()).algorithmIdentifier(),
        now.plus(CeremonyOrder.VALIDITY));
    List<X509CertificateHolder> certs = new ArrayList<>(List.of(keys.caCert()));
    certs.addAll(target.agents());
    byte[] signed = archives.signedByCa(new CMSProcessableByteArray(KeyarcCmp.CEREMONY_ORDER, order.encoded()), certs,
        "the ceremony order");
    store.inTransaction(tx -> {
      tx.ceremonies().setOrder(id, signed);
      for (Planned p : chosen) {
        tx.ceremonies().addItem(id, p.issuer(), p.serial());
        tx.ceremonies().supersede(kind, p.issuer(), p.serial(), id, now); // an older order's answers count no more
      }
      Audit.append(tx, who.actor(), AuditAction.KRA_CEREMONY_START, "ceremony:" + id, kind.name().toLowerCase()
          + " archives=" + chosen.size() + (kind == CeremonyStore.Kind.ROTATION ? " to=" + target.threshold() + " of "
          + target.agents().size() : ""), now);
      return null;
    });
    return new Started(id, kind, chosen.size());
  }

  /**
   * The order and the blobs of the ceremony's unfinished archives from {@code offset}, at most {@code limit} (a file
   * is fetched in pages; fetched again to resume). Certificate manager, audited.
   */
  public Work work(Identity who, long id, int offset, int limit) throws CaException {
    return work(who, id, offset, limit, false);
  }

  /**
   * {@link #work(Identity, long, int, int)}; {@code restartOnline}: the file agents hand through the node starts
   * again from the blobs (after a damaged one was handed back), audited.
   */
  public Work work(Identity who, long id, int offset, int limit, boolean restartOnline) throws CaException {
    Authorization.require(who, Role.MANAGER);
    CeremonyStore.Row c = ceremony(id);
    order(c); // the stored order must be this CA's, for this ceremony: never hand out a swapped one
    if (restartOnline) {
      Instant at = clock.instant();
      store.inTransaction(tx -> {
        tx.ceremonies().setProgress(id, null, who.actor(), at, tx.ceremonies().progress(id).version());
        Audit.append(tx, who.actor(), AuditAction.KRA_CEREMONY_WORK, "ceremony:" + id, "online file restarted", at);
        return null;
      });
    }
    List<CeremonyStore.Item> open = unfinished(id);
    List<byte[]> blobs = new ArrayList<>();
    for (int i = Math.max(0, offset); i < open.size() && blobs.size() < Math.max(1, Math.min(limit, 500)); i++) {
      blobs.add(archives.blob(row(open.get(i).issuer(), open.get(i).serial())));
    }
    Instant now = clock.instant();
    store.inTransaction(tx -> Audit.append(tx, who.actor(), AuditAction.KRA_CEREMONY_WORK, "ceremony:" + id,
        "from=" + offset + " blobs=" + blobs.size() + " unfinished=" + open.size(), now));
    return new Work(c.signedOrder(), blobs, open.size());
  }

  /** Ceremonies, newest first (manager, administrator, auditor). */
  public List<CeremonyStore.Row> list(Identity who) throws CaException {
    Authorization.require(who, Role.MANAGER, Role.ADMINISTRATOR, Role.AUDITOR);
    return store.inTransaction(tx -> tx.ceremonies().list(100));
  }

  /** One ceremony's archives and how far each got (manager, administrator, auditor). */
  public List<CeremonyStore.Item> items(Identity who, long id) throws CaException {
    Authorization.require(who, Role.MANAGER, Role.ADMINISTRATOR, Role.AUDITOR);
    ceremony(id);
    return store.inTransaction(tx -> tx.ceremonies().items(id));
  }

  /** The order a ceremony's agents work from. */
  public CeremonyOrder order(CeremonyStore.Row c) throws CaException {
    try {
      CMSSignedData sd = new CMSSignedData(c.signedOrder());
      boolean signed = false;
      for (org.bouncycastle.cms.SignerInformation si : sd.getSignerInfos().getSigners()) {
        for (CaKeyring.Generation g : keys.generations()) {
          signed |= si.getSID().match(g.cert()) && si.verify(new org.bouncycastle.cms.jcajce
              .JcaSimpleSignerInfoVerifierBuilder().setProvider(org.keyarc.protocol.Bc.PROVIDER).build(g.cert()));
        }
      }
      if (!signed) {
        throw new CaException(ErrorCode.STORE_ERROR, "the stored order of ceremony " + c.id() + " is not signed by "
            + "this CA: the store was changed");
      }
      CeremonyOrder o = CeremonyOrder.parse((byte[]) sd.getSignedContent().getContent());
      if (o.ceremony() != c.id()) {
        throw new CaException(ErrorCode.STORE_ERROR, "the stored order of ceremony " + c.id() + " is ceremony "
            + o.ceremony() + "'s: the store was changed");
      }
      return o;
    } catch (org.bouncycastle.cms.CMSException | org.bouncycastle.operator.OperatorCreationException
        | java.security.cert.CertificateException | IllegalArgumentException e) {
      throw new CaException(ErrorCode.STORE_ERROR, "the stored order of ceremony " + c.id() + " cannot be read");
    }
  }

  /**
   * The last agents' answers (certificate manager): each checked and stored on its own, so one bad answer leaves the
   * others; a refused one is FAILED and can be answered again.
   */
  public List<Outcome> submit(Identity who, long id, List<Answer> answers) throws CaException {
    Authorization.require(who, Role.MANAGER);
    return answered(who, ceremony(id), answers);
  }

  /** Most bytes of a ceremony file handed through the node (a larger ceremony travels as files). */
  static final int ONLINE_MAX_BYTES = 700_000;
  /** Most bytes of the order and blobs a ceremony may start online with: the file grows with each step. */
  static final int ONLINE_START_BYTES = ONLINE_MAX_BYTES / 3;

  /** The online file an agent fetched, and the version its step must replace. */
  public record Material(byte[] work, int version) {}

  /**
   * Online, for a recovery agent: the ceremony file as the last agent handed it back (or, before any, the order and
   * the blobs of the archives not done). The agent must hold the recovery_agent role under the subject of an
   * unrevoked agent certificate of one of the ceremony's archives. Audited.
   */
  public Material material(Identity who, long id) throws CaException {
    CeremonyStore.Row c = ceremony(id);
    CeremonyOrder order = order(c);
    live(order);
    Set<BigInteger> mine = agentCertificates(who, order);
    CeremonyStore.Progress p = store.inTransaction(tx -> tx.ceremonies().progress(id));
    if (p.work() == null) {
      // the first fetch fixes the file (its blobs as signed now): every later step is compared with it byte for byte
      byte[] first = fresh(c).encoded();
      Instant at = clock.instant();
      int version = p.version();
      store.inTransaction(tx -> tx.ceremonies().setProgress(id, first, who.actor(), at, version));
      p = store.inTransaction(tx -> tx.ceremonies().progress(id));
    }
    byte[] work = p.work();
    Instant now = clock.instant();
    store.inTransaction(tx -> Audit.append(tx, who.actor(), AuditAction.KRA_CEREMONY_MATERIAL, "ceremony:" + id,
        "agentCerts=" + serials(mine) + " bytes=" + work.length, now));
    return new Material(work, p.version());
  }

  /** The order and the blobs of the archives not done, as the first agent gets them online. */
  private CeremonyWork fresh(CeremonyStore.Row c) throws CaException {
    List<CeremonyWork.Item> items = new ArrayList<>();
    long bytes = c.signedOrder().length;
    for (CeremonyStore.Item i : unfinished(c.id())) {
      byte[] blob = archives.blob(row(i.issuer(), i.serial()));
      ArchiveRecord rec = ArchiveRecord.getInstance((byte[]) parseBlob(blob)[0]);
      if (rec.threshold() > 1 && rec.envelopes().stream().anyMatch(e -> e.innerLayerHashes().isEmpty())) {
        throw new CaException(ErrorCode.BAD_REQUEST, "archive " + hex(i.serial()) + " is a record from before layer "
            + "hashes: an agent could not tell planted layers from its own online; use files (--resume "
            + c.id() + " --out FILE)");
      }
      bytes += blob.length;
      if (bytes > ONLINE_START_BYTES) {
        throw new CaException(ErrorCode.BAD_REQUEST, "ceremony " + c.id() + " is too large to hand through the node; "
            + "the certificate manager writes its file (kra rotate/drill --resume " + c.id() + " --out FILE)");
      }
      items.add(new CeremonyWork.Item(blob, null, null));
    }
    return new CeremonyWork(c.signedOrder(), items);
  }

  /**
   * Online, for a recovery agent: the ceremony file after its pass, replacing the version it fetched. The node checks
   * that the file changes only what this agent's step may: the same archives as before; an archive answered before is
   * as it was; for each other archive either nothing changed, or one more step was done, by one of this agent's
   * certificates (the blob kept, the steps before kept), or this agent's step answered it. The answers are checked and
   * stored at once, as {@link #submit} does; a refused answer is not kept in the file. Audited.
   */
  public List<Outcome> onlineStep(Identity who, long id, String card, byte[] work, int version) throws CaException {
    CeremonyStore.Row c = ceremony(id);
    CeremonyOrder order = order(c);
    live(order);
    if (work.length > ONLINE_MAX_BYTES) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the ceremony file is over " + ONLINE_MAX_BYTES + " bytes");
    }
    Set<BigInteger> mine = agentCertificates(who, order);
    CeremonyWork w;
    try {
      w = CeremonyWork.parse(work);
    } catch (IllegalArgumentException e) {
      throw new CaException(ErrorCode.BAD_INPUT, e.getMessage());
    }
    CeremonyStore.Progress p = store.inTransaction(tx -> tx.ceremonies().progress(id));
    if (p.version() != version) {
      throw new CaException(ErrorCode.BAD_REQUEST, "another agent handed ceremony " + id + " back meanwhile: fetch "
          + "it again and do the step on that (nothing was stored)");
    }
    if (p.work() == null) {
      throw new CaException(ErrorCode.BAD_REQUEST, "ceremony " + id + "'s online file was started again: fetch it");
    }
    CeremonyWork before = CeremonyWork.parse(p.work());
    if (!Arrays.equals(w.order(), c.signedOrder()) || w.items().size() != before.items().size()) {
      throw new CaException(ErrorCode.BAD_INPUT, "the file does not carry this ceremony's order and archives");
    }
    List<Answer> answers = new ArrayList<>();
    List<CeremonyWork.Item> kept = new ArrayList<>();
    int stepped = 0;
    for (int n = 0; n < w.items().size(); n++) {
      CeremonyWork.Item now = w.items().get(n);
      CeremonyWork.Item was = before.items().get(n);
      if (!Arrays.equals(now.blob(), was.blob())) {
        throw new CaException(ErrorCode.BAD_INPUT, "archive " + (n + 1) + " of the file is not the one handed out");
      }
      if (Arrays.equals(itemDer(now), itemDer(was))) {
        kept.add(was);
        continue;
      }
      if (was.result() != null) {
        throw new CaException(ErrorCode.BAD_INPUT, "archive " + (n + 1) + " was answered before; its answer may not "
            + "change");
      }
      ArchiveRecord rec = ArchiveRecord.getInstance((byte[]) parseBlob(now.blob())[0]);
      List<Integer> doneBefore = was.progress() == null ? List.of() : progressOf(was.progress(), now.blob()).done();
      if (now.result() == null) {
        org.keyarc.protocol.archive.RecoveryProgress np = progressOf(now.progress(), now.blob());
        if (np.done().size() != doneBefore.size() + 1 || !np.done().subList(0, doneBefore.size()).equals(doneBefore)
            || !mine.contains(rec.agents().get(np.done().get(doneBefore.size())).getSerialNumber().getValue())) {
          throw new CaException(ErrorCode.BAD_INPUT, "archive " + (n + 1) + ": the file records steps this agent did "
              + "not do (only one more, by this agent, may be added)");
        }
        kept.add(now);
        stepped++;
      } else {
        if (doneBefore.size() + 1 != rec.threshold() || rec.agents().stream().noneMatch(x -> mine.contains(
            x.getSerialNumber().getValue()))) {
          throw new CaException(ErrorCode.BAD_INPUT, "archive " + (n + 1) + ": an answer can come only from its "
              + "last step, by one of its agents");
        }
        answers.add(new Answer(rec.certificateSerial(), now.result().proofAlgorithm(), now.result().proof(),
            now.result().envelopes(), now.result().verifierProof(), now.result().newVerifier()));
        kept.add(now);
        stepped++;
      }
    }
    List<Outcome> outcomes = answers.isEmpty() ? List.of() : answered(who, c, answers);
    // a refused answer goes back to the step before it, so that the last agent can answer again
    Set<BigInteger> refused = new HashSet<>();
    outcomes.stream().filter(o -> !o.accepted()).forEach(o -> refused.add(o.serial()));
    List<CeremonyWork.Item> stored = new ArrayList<>();
    for (int n = 0; n < kept.size(); n++) {
      CeremonyWork.Item k = kept.get(n);
      boolean back = k.result() != null && before.items().get(n).result() == null && refused.contains(
          ArchiveRecord.getInstance((byte[]) parseBlob(k.blob())[0]).certificateSerial());
      stored.add(back ? before.items().get(n) : k);
    }
    byte[] file = new CeremonyWork(c.signedOrder(), stored).encoded();
    Instant at = clock.instant();
    int steps = stepped;
    boolean saved = store.inTransaction(tx -> {
      if (!tx.ceremonies().setProgress(id, file, who.actor(), at, version)) {
        return false;
      }
      Audit.append(tx, who.actor(), AuditAction.KRA_CEREMONY_STEP, "ceremony:" + id, "agentCerts=" + serials(mine)
          + " card=" + org.keyarc.ca.support.Texts.printable(card) + " stepped=" + steps + " answered="
          + answers.size() + " refused=" + refused.size(), at);
      return true;
    });
    if (!saved) {
      throw new CaException(ErrorCode.BAD_REQUEST, "another agent handed ceremony " + id + " back meanwhile: fetch it "
          + "again (the answers above, if any, were stored)");
    }
    return outcomes;
  }

  /** An order still to be worked on: not expired. */
  private void live(CeremonyOrder order) throws CaException {
    if (clock.instant().isAfter(order.notAfter())) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the order of ceremony " + order.ceremony() + " expired on "
          + order.notAfter() + ": start a new " + order.kind().word());
    }
  }

  private static byte[] itemDer(CeremonyWork.Item i) {
    return new CeremonyWork(new byte[0], List.of(i)).encoded();
  }

  /** A partial recovery of {@code blob}, or BAD_INPUT. */
  private static org.keyarc.protocol.archive.RecoveryProgress progressOf(byte[] der, byte[] blob) throws CaException {
    org.keyarc.protocol.archive.RecoveryProgress p = der == null ? null
        : org.keyarc.protocol.archive.RecoveryProgress.parse(der);
    if (p == null || !Arrays.equals(p.blob(), blob)) {
      throw new CaException(ErrorCode.BAD_INPUT, "a step's progress in the file cannot be read, or is for another "
          + "archive");
    }
    return p;
  }

  /** A blob's signed content (the record DER) and the parsed CMS. */
  private static Object[] parseBlob(byte[] blob) throws CaException {
    try {
      CMSSignedData sd = new CMSSignedData(blob);
      return new Object[] {sd.getSignedContent().getContent(), sd};
    } catch (org.bouncycastle.cms.CMSException | RuntimeException e) {
      throw new CaException(ErrorCode.BAD_INPUT, "an archive of the file cannot be read");
    }
  }

  /**
   * The agent certificates of {@code who} among the order's archives' agents: a recovery agent, under its own name,
   * its certificates not revoked. At least one, else refused.
   */
  private Set<BigInteger> agentCertificates(Identity who, CeremonyOrder order) throws CaException {
    Authorization.require(who, Role.RECOVERY_AGENT);
    Set<BigInteger> agents = new java.util.LinkedHashSet<>();
    Set<String> seenPanels = new HashSet<>();
    store.inTransaction(tx -> {
      for (CeremonyOrder.Archive a : order.archives()) {
        List<ArchiveStore.Row> rows = tx.archives().bySerial(a.certificate().getName().toString(),
            a.certificate().getSerialNumber().getValue());
        if (!rows.isEmpty()) {
          ArchiveRecord rec = ArchiveRecord.getInstance(rows.get(0).record());
          if (seenPanels.add(rec.agents().toString())) {
            rec.agents().forEach(x -> agents.add(x.getSerialNumber().getValue()));
          }
        }
      }
      return null;
    });
    Set<BigInteger> mine = new java.util.LinkedHashSet<>();
    String revoked = null;
    for (BigInteger serial : agents) {
      Optional<org.keyarc.ca.store.CertRecord> cert = store.inTransaction(tx -> tx.certificates().find(issuer,
          serial));
      if (cert.isPresent() && cert.get().subject().equals(who.name())) {
        if (cert.get().revokedAt() == null) {
          mine.add(serial);
        } else {
          revoked = "agent certificate " + hex(serial) + " was revoked on " + cert.get().revokedAt();
        }
      }
    }
    if (!mine.isEmpty()) {
      return mine;
    }
    if (revoked != null) {
      throw new CaException(ErrorCode.CERT_REVOKED, revoked + ": it takes part in no ceremony");
    }
    throw new CaException(ErrorCode.NOT_AUTHORIZED, who.actor() + " is an agent of none of this ceremony's archives");
  }

  private static String serials(Set<BigInteger> s) {
    List<String> out = new ArrayList<>();
    s.forEach(x -> out.add(hex(x)));
    return String.join(",", out);
  }

  /** The answers, each checked and stored on its own (for {@link #submit} and online steps). */
  private List<Outcome> answered(Identity who, CeremonyStore.Row c, List<Answer> answers) throws CaException {
    long id = c.id();
    CeremonyOrder order = order(c);
    if (clock.instant().isAfter(order.notAfter())) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the order of ceremony " + id + " expired on " + order.notAfter()
          + ": start a new " + order.kind().word());
    }
    List<X509CertificateHolder> newAgents = new ArrayList<>();
    if (order.kind() == CeremonyOrder.Kind.ROTATION) {
      Target now = target(CeremonyStore.Kind.ROTATION); // the sealed configuration as it is now
      if (now.threshold() != order.threshold() || !ids(now.agents()).equals(order.agents())) {
        throw new CaException(ErrorCode.BAD_REQUEST, "the recovery agents or the policy changed since rotation " + id
            + " was ordered (it re-wraps to " + order.threshold() + " of " + order.agents().size() + "); nothing "
            + "was stored: start a new rotation");
      }
      X509CertificateHolder[] byId = new X509CertificateHolder[order.agents().size()];
      for (Object o : signedCerts(c)) {
        X509CertificateHolder h = (X509CertificateHolder) o;
        int i = order.agents().indexOf(new IssuerAndSerialNumber(h.getIssuer(), h.getSerialNumber()));
        if (i >= 0) {
          byId[i] = h;
        }
      }
      newAgents.addAll(Arrays.asList(byId));
    }
    List<Outcome> out = new ArrayList<>();
    Set<BigInteger> seen = new HashSet<>();
    List<CeremonyStore.Item> items = store.inTransaction(tx -> tx.ceremonies().items(c.id()));
    for (Answer a : answers) {
      if (!seen.add(a.serial())) {
        out.add(new Outcome(a.serial(), false, "answered twice in one submission"));
        continue;
      }
      // answers name their archive by serial: unambiguous within one ceremony, else refused
      List<CeremonyStore.Item> match = items.stream().filter(i -> i.serial().equals(a.serial())).toList();
      if (match.size() > 1) {
        out.add(new Outcome(a.serial(), false, "two archives of this ceremony have certificate serial "
            + hex(a.serial()) + " (of different CAs): answer them with files of their own ceremonies"));
        continue;
      }
      out.add(accept(who, c, order, newAgents, a, match.stream().findFirst()));
    }
    return out;
  }

  private Outcome accept(Identity who, CeremonyStore.Row c, CeremonyOrder order, List<X509CertificateHolder> newAgents,
      Answer a, Optional<CeremonyStore.Item> item) throws CaException {
    Instant now = clock.instant();
    String problem = null;
    ArchiveStore.Row row = null;
    if (item.isEmpty()) {
      return new Outcome(a.serial(), false, "archive " + hex(a.serial()) + " is not part of ceremony " + c.id());
    }
    if (item.get().status() == CeremonyStore.ItemStatus.DONE) {
      return new Outcome(a.serial(), false, "archive " + hex(a.serial()) + " is done already in ceremony " + c.id());
    }
    if (item.get().status() == CeremonyStore.ItemStatus.SUPERSEDED) {
      return new Outcome(a.serial(), false, "archive " + hex(a.serial()) + " was taken over by a later ceremony ("
          + item.get().detail() + "); this answer counts no more");
    }
    row = row(item.get().issuer(), a.serial());
    ArchiveRecord current = ArchiveRecord.getInstance(row.record());
    CeremonyOrder.Archive entry = order.archive(current.certificate());
    if (entry == null || !Arrays.equals(entry.recordHash(),
        org.keyarc.ca.support.Digests.sha256(row.record()))) {
      problem = "the archive's record changed since the order was made (another rotation?): start a new ceremony";
    } else {
      problem = envelopeProblem(order, newAgents, a.envelopes());
      if (problem == null) {
        problem = proofProblem(order, entry, a, current, certificateOf(row));
      }
    }
    final ArchiveStore.Row r = row;
    final String refused = problem;
    if (refused != null) {
      store.inTransaction(tx -> {
        tx.ceremonies().setStatus(c.id(), r.issuer(), a.serial(), CeremonyStore.ItemStatus.FAILED, now, refused);
        Audit.append(tx, who.actor(), AuditAction.KRA_CEREMONY_REFUSED, "serial:" + hex(a.serial()), "ceremony="
            + c.id() + " " + refused, now);
        return null;
      });
      return new Outcome(a.serial(), false, refused);
    }
    if (order.kind() == CeremonyOrder.Kind.ROTATION) {
      // the verifier stays (it is wrapped under K, which the rotation keeps); a record without one gets the agent's
      ArchiveRecord next = current.rewrapped(order.threshold(), order.agents(), a.envelopes(),
          current.verifier() != null ? current.verifier() : a.newVerifier());
      byte[] der = Encodings.der(next);
      String detail = "ceremony=" + c.id() + " from=" + current.threshold() + " of " + current.agents().size()
          + " to=" + order.threshold() + " of " + order.agents().size() + " (the previous record is kept until a "
          + "drill passes)";
      boolean replaced = store.inTransaction(tx -> {
        if (!tx.archives().replaceRecord(r.issuer(), a.serial(), r.record(), der, order.threshold(),
            order.agents().size())) {
          return false;
        }
        tx.ceremonies().setStatus(c.id(), r.issuer(), a.serial(), CeremonyStore.ItemStatus.DONE, now, detail);
        Audit.append(tx, who.actor(), AuditAction.KEY_ROTATE, "serial:" + hex(a.serial()), detail, now);
        return true;
      });
      return replaced ? new Outcome(a.serial(), true, "re-wrapped to " + order.threshold() + " of "
          + order.agents().size() + " agents (record kept until a drill passes)")
          : new Outcome(a.serial(), false, "the archive's record changed meanwhile: start a new ceremony");
    }
    // only a proof made with K (the verifier) shows that the agents opened the record; one made with the archived
    // key alone (a record from before verifiers) could come from the key's owner, so it never drops a kept record
    // a verifier counts as proof of K only if it is the one made in the HSM at archival: one a rotation of an older
    // record brought was chosen by whoever answered it (an owner of the key could have made it with a K of its own)
    boolean byK = current.verifier() != null && verifierIsOriginal(r.issuer(), a.serial(), current);
    String said = byK ? "the agents reached its key K and the key matches its certificate"
        : "proven without a verifier made at archival (the record is from before verifiers, or a rotation gave it "
            + "one): the key matches its certificate, but whoever holds that key could have made the proof; the kept "
            + "record stays";
    String result = store.inTransaction(tx -> {
      ArchiveStore.Versions v = tx.archives().versions(r.issuer(), a.serial());
      boolean drop = byK && v != null && v.previous() != null;
      if (!tx.archives().markVerified(r.issuer(), a.serial(), r.record(), now, drop)) {
        return null;
      }
      String detail = "ceremony=" + c.id() + " passed" + (byK ? " (verifier)" : " (no original verifier)")
          + (drop ? "; the record before the last rotation is dropped" : "");
      tx.ceremonies().setStatus(c.id(), r.issuer(), a.serial(), CeremonyStore.ItemStatus.DONE, now, detail);
      Audit.append(tx, who.actor(), AuditAction.KEY_DRILL, "serial:" + hex(a.serial()), detail, now);
      return detail;
    });
    return result == null ? new Outcome(a.serial(), false, "the archive's record changed meanwhile: drill it again")
        : new Outcome(a.serial(), true, said);
  }

  /**
   * True when the record's verifier came from the HSM: the record was made with it (it has no previous record, so no
   * rotation made it), or the record it replaced carried the same verifier.
   */
  private boolean verifierIsOriginal(String archiveIssuer, BigInteger serial, ArchiveRecord current)
      throws CaException {
    ArchiveStore.Versions v = store.inTransaction(tx -> tx.archives().versions(archiveIssuer, serial));
    if (v == null) {
      return false;
    }
    if (v.previous() == null) {
      return v.version() == 1 || v.verifiedAt() != null; // made so at archival, or proven with it before
    }
    ArchiveRecord.Verifier before = ArchiveRecord.getInstance(v.previous()).verifier();
    return before != null && before.publicKey().equals(current.verifier().publicKey())
        && java.util.Arrays.equals(before.wrappedPrivate(), current.verifier().wrappedPrivate());
  }

  /**
   * The certificate of an archive as this CA issued it: signed by one of its keys and the one the archive row names
   * (by SHA-256), so that a store edit of the certificate row cannot choose the key a proof is checked with.
   */
  private X509CertificateHolder certificateOf(ArchiveStore.Row row) throws CaException {
    boolean external = !row.issuer().equals(issuer);
    X509CertificateHolder cert;
    if (external) { // an imported key of another CA's certificate: the one kept with it (and hashed in its record)
      byte[] der = store.inTransaction(tx -> tx.archives().externalCertificate(row.issuer(), row.serial()));
      if (der == null) {
        throw new CaException(ErrorCode.STORE_ERROR, "external archive " + hex(row.serial()) + " has no certificate");
      }
      cert = Encodings.certificate(der);
    } else {
      cert = archives.certificate(row.serial());
    }
    if ((!external && keys.issuerOf(cert).isEmpty()) || !org.keyarc.ca.support.Digests.sha256Hex(Encodings.der(cert))
        .equalsIgnoreCase(row.certSha256())) {
      throw new CaException(ErrorCode.STORE_ERROR, "the stored certificate " + hex(row.serial()) + " is not the one "
          + "this CA issued for the archive: the store was changed");
    }
    return cert;
  }

  /**
   * What is wrong with a rotation's new envelopes, or null: one per M-subset of the new agents in order, the order's
   * key wrap, M-1 layer hashes, layers of a sane size, and each outermost layer a CMS EnvelopedData to the subset's
   * first agent (or, for M = 1, an RSA-OAEP block of that agent's modulus size). What is inside the layers only the
   * agents can check: a drill of the new record does.
   */
  static String envelopeProblem(CeremonyOrder order, List<X509CertificateHolder> newAgents,
      List<ArchiveRecord.Envelope> envelopes) {
    if (order.kind() == CeremonyOrder.Kind.DRILL) {
      return envelopes.isEmpty() ? null : "a drill's answer carries no envelopes";
    }
    if (newAgents.contains(null) || newAgents.size() != order.agents().size()) {
      return "the order lacks a new agent's certificate";
    }
    List<int[]> subsets = Subsets.of(order.agents().size(), order.threshold());
    if (envelopes.size() != subsets.size()) {
      return "the answer has " + envelopes.size() + " envelopes; " + order.threshold() + " of "
          + order.agents().size() + " needs " + subsets.size();
    }
    for (int e = 0; e < subsets.size(); e++) {
      ArchiveRecord.Envelope env = envelopes.get(e);
      List<Integer> want = new ArrayList<>();
      for (int i : subsets.get(e)) {
        want.add(i);
      }
      if (!env.agentIndexes().equals(want) || !env.keyWrap().equals(order.keyWrap())
          || env.innerLayerHashes().size() != order.threshold() - 1 || env.layers().length > MAX_LAYER_BYTES
          || env.innerLayerHashes().stream().anyMatch(h -> h.length != 32)) {
        return "envelope " + e + " is not the one the order asks for (agents " + want + ", the order's key wrap, "
            + (order.threshold() - 1) + " layer hashes)";
      }
      X509CertificateHolder first = newAgents.get(want.get(0));
      if (order.threshold() == 1) {
        int modulus = (((java.security.interfaces.RSAPublicKey) Envelopes.publicKey(first)).getModulus().bitLength()
            + 7) / 8;
        if (env.layers().length != modulus) {
          return "envelope " + e + " is not an RSA-OAEP block for " + first.getSubject();
        }
        continue;
      }
      try {
        ContentInfo ci = ContentInfo.getInstance(env.layers());
        EnvelopedData ed = EnvelopedData.getInstance(ci.getContent());
        RecipientInfo ri = RecipientInfo.getInstance(ed.getRecipientInfos().getObjectAt(0));
        KeyTransRecipientInfo kt = KeyTransRecipientInfo.getInstance(ri.getInfo());
        IssuerAndSerialNumber rid = IssuerAndSerialNumber.getInstance(kt.getRecipientIdentifier().getId());
        if (ed.getRecipientInfos().size() != 1 || !rid.equals(new IssuerAndSerialNumber(first.getIssuer(),
            first.getSerialNumber()))) {
          return "envelope " + e + "'s outer layer is not encrypted to " + first.getSubject() + " alone";
        }
      } catch (RuntimeException x) {
        return "envelope " + e + "'s outer layer is not a CMS EnvelopedData to one agent";
      }
    }
    return null;
  }

  /**
   * What is wrong with an answer's proof, or null. The proof message (the order's challenge, the archive, and what
   * the answer brings) must be signed by the archived key (it matches its certificate) and, when the record has a
   * verifier, by the verifier key, which only who reaches K can unwrap; a rotation of a record without one brings a
   * new verifier and signs with it.
   */
  static String proofProblem(CeremonyOrder order, CeremonyOrder.Archive entry, Answer a, ArchiveRecord current,
      X509CertificateHolder cert) {
    ASN1ObjectIdentifier alg = a.proofAlgorithm().getAlgorithm();
    String name = alg.equals(PKCSObjectIdentifiers.sha256WithRSAEncryption) ? "SHA256withRSA"
        : alg.equals(X9ObjectIdentifiers.ecdsa_with_SHA256) ? "SHA256withECDSA" : null;
    if (name == null || a.proof().length > 1024) {
      return "the proof is not a SHA-256 RSA or ECDSA signature";
    }
    ArchiveRecord.Verifier verifier = current.verifier();
    if (verifier != null && a.newVerifier() != null) {
      return "the archive has a verifier; an answer cannot bring another";
    }
    if (verifier == null && order.kind() == CeremonyOrder.Kind.ROTATION) {
      if (a.newVerifier() == null || a.newVerifier().wrappedPrivate().length > 512 || !a.newVerifier().publicKey()
          .getAlgorithm().equals(new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey,
              org.bouncycastle.asn1.sec.SECObjectIdentifiers.secp256r1))) {
        return "a rotation of a record without a verifier must bring one (EC P-256, wrapped under K)";
      }
      verifier = a.newVerifier();
    }
    byte[] message = order.proofMessage(entry, order.kind() == CeremonyOrder.Kind.ROTATION
        ? CeremonyOrder.answerHash(a.envelopes(), a.newVerifier()) : new byte[0]);
    if (!verifies(name, cert.getSubjectPublicKeyInfo(), message, a.proof())) {
      return "the proof does not verify with certificate " + hex(cert.getSerialNumber()) + ": the agents did not open "
          + "this archive for this ceremony (or the envelopes were changed after they did)";
    }
    if (verifier != null && (a.verifierProof() == null || a.verifierProof().length > 256 || !verifies(
        "SHA256withECDSA", verifier.publicKey(), message, a.verifierProof()))) {
      return "the proof of K (the archive's verifier signature) is missing or does not verify: this answer was not "
          + "made by agents who opened the archive";
    }
    return null;
  }

  private static boolean verifies(String alg, org.bouncycastle.asn1.x509.SubjectPublicKeyInfo spki, byte[] message,
      byte[] signature) {
    try {
      PublicKey key = CaKeyring.publicKey(spki); // a malformed key (an answer's) is a failed proof, not an error
      Signature v = Signature.getInstance(alg, org.keyarc.protocol.Bc.PROVIDER);
      v.initVerify(key);
      v.update(message);
      return v.verify(signature);
    } catch (java.security.GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  /** The target of a ceremony: the current archival agents and policy (rotation), nothing (drill). */
  private record Target(int threshold, List<X509CertificateHolder> agents) {}

  private Target target(CeremonyStore.Kind kind) throws CaException {
    if (kind == CeremonyStore.Kind.DRILL) {
      return new Target(0, List.of());
    }
    AgentStore.Policy policy = agents.policy();
    return new Target(policy.threshold(), agents.archivalAgents(policy)); // the sealed configuration, valid agents
  }

  private List<Planned> select(CeremonyStore.Kind kind, Selection sel, Target target) throws CaException {
    int most = sel.limit() <= 0 ? 1000 : Math.min(sel.limit(), MAX_ARCHIVES);
    boolean sampled = kind == CeremonyStore.Kind.DRILL && sel.serials().isEmpty() && !sel.unverified();
    int limit = sampled ? Math.min(most, sel.sample() <= 0 ? 5 : sel.sample()) : most;
    List<IssuerAndSerialNumber> to = ids(target.agents());
    String toText = kind == CeremonyStore.Kind.ROTATION ? target.threshold() + " of " + to.size() + " " + names(
        target.agents()) : "";
    return store.inTransaction(tx -> {
      Set<ArchiveStore.Key> busy = new HashSet<>(tx.ceremonies().unfinished(kind));
      List<ArchiveStore.Key> candidates = new ArrayList<>();
      if (sel.serials().isEmpty()) { // every archive: this CA's and imported ones of other CAs
        candidates.addAll(tx.archives().keys(ArchiveService.NAME_SEARCH_LIMIT));
      } else { // named by serial: this CA's certificates
        sel.serials().forEach(x -> candidates.add(new ArchiveStore.Key(issuer, x)));
      }
      if (sampled) {
        Collections.shuffle(candidates, random);
      }
      List<Planned> out = new ArrayList<>();
      for (ArchiveStore.Key key : candidates) {
        if (out.size() >= limit) {
          break;
        }
        BigInteger s = key.serial();
        List<ArchiveStore.Row> rows = tx.archives().bySerial(key.issuer(), s);
        if (rows.isEmpty()) {
          if (!sel.serials().isEmpty()) {
            throw new CaException(ErrorCode.NOT_FOUND, "no archived key for certificate " + hex(s));
          }
          continue;
        }
        if (busy.contains(key) && sel.serials().isEmpty()) {
          continue; // an unfinished ceremony of this kind waits for it: resume that one (or name it to take it over)
        }
        ArchiveRecord rec = ArchiveRecord.getInstance(rows.get(0).record());
        if (kind == CeremonyStore.Kind.ROTATION && rec.threshold() == target.threshold() && rec.agents().equals(to)) {
          continue; // already for the current agents and policy
        }
        if (kind == CeremonyStore.Kind.ROTATION && tx.archives().versions(key.issuer(), s).previous() != null) {
          if (!sel.serials().isEmpty()) {
            throw new CaException(ErrorCode.BAD_REQUEST, "archive " + hex(s) + " was rotated and no drill has proved "
                + "its new record yet: drill it first (keyarc kra drill --unverified), so that the kept record is not "
                + "lost");
          }
          continue;
        }
        if (kind == CeremonyStore.Kind.DRILL && sel.unverified() && tx.archives().versions(key.issuer(), s)
            .previous() == null) {
          continue;
        }
        out.add(new Planned(key.issuer(), s, rows.get(0).subject(), rec.threshold() + " of " + rec.agents().size() + " "
            + serials(rec.agents()), toText));
      }
      return out;
    });
  }

  private static String names(List<X509CertificateHolder> certs) {
    List<String> out = new ArrayList<>();
    certs.forEach(c -> out.add(hex(c.getSerialNumber())));
    return out.toString();
  }

  private static String serials(List<IssuerAndSerialNumber> ids) {
    List<String> out = new ArrayList<>();
    ids.forEach(i -> out.add(hex(i.getSerialNumber().getValue())));
    return out.toString();
  }

  private static List<IssuerAndSerialNumber> ids(List<X509CertificateHolder> certs) {
    List<IssuerAndSerialNumber> out = new ArrayList<>();
    certs.forEach(c -> out.add(new IssuerAndSerialNumber(c.getIssuer(), c.getSerialNumber())));
    return out;
  }

  private CeremonyStore.Row ceremony(long id) throws CaException {
    Optional<CeremonyStore.Row> c = store.inTransaction(tx -> tx.ceremonies().find(id));
    if (c.isEmpty() || c.get().signedOrder() == null) {
      throw new CaException(ErrorCode.NOT_FOUND, "no ceremony " + id);
    }
    return c.get();
  }

  private List<CeremonyStore.Item> unfinished(long id) throws CaException {
    List<CeremonyStore.Item> out = new ArrayList<>();
    for (CeremonyStore.Item i : store.inTransaction(tx -> tx.ceremonies().items(id))) {
      if (i.status() != CeremonyStore.ItemStatus.DONE) {
        out.add(i);
      }
    }
    return out;
  }

  private static java.util.Collection<?> signedCerts(CeremonyStore.Row c) throws CaException {
    try {
      return new CMSSignedData(c.signedOrder()).getCertificates().getMatches(null);
    } catch (org.bouncycastle.cms.CMSException e) {
      throw new CaException(ErrorCode.STORE_ERROR, "the stored order of ceremony " + c.id() + " cannot be read");
    }
  }

  private ArchiveStore.Row row(String archiveIssuer, BigInteger serial) throws CaException {
    List<ArchiveStore.Row> rows = store.inTransaction(tx -> tx.archives().bySerial(archiveIssuer, serial));
    if (rows.isEmpty()) {
      throw new CaException(ErrorCode.NOT_FOUND, "no archived key for certificate " + hex(serial));
    }
    return rows.get(0);
  }


}
