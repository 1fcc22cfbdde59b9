package org.keyarc.ca.audit;

import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.keyarc.ca.audit.log.AuditBacklog;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.auth.Authorization;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.CaKeyStore;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.support.HsmCalls;
import org.keyarc.ca.support.PublicKeys;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.hsm.SignatureAlgorithm;
import org.keyarc.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log's operations: signed checkpoints of the chain head (with the HSM audit key), each chained to the
 * one before and remembered in the CA token ({@link AuditAnchor}) and exported ({@link CheckpointExport});
 * rollback detection, which halts issuance ({@link AuditGuard}) until an administrator acknowledges it;
 * verification and reading for auditors; the record of the node's effective configuration when it changes.
 */
public final class AuditService {
  private static final Logger LOG = LoggerFactory.getLogger(AuditService.class);
  /** Most records one list call returns. */
  public static final int MAX_PAGE = 1000;

  private final Store store;
  private final HsmToken token;
  private final KeyHandle auditKey;
  private final Clock clock;
  private final AuditGuard guard;
  private final CheckpointExport export;
  private final AuditBacklog backlog;
  /** When checkpoints started failing, or null while they work. */
  private volatile Instant failingSince;

  /**
   * {@code auditKey}: the private audit key in {@code token}, which signs the checkpoints; {@code guard} halts
   * issuance on a rollback; {@code export} receives every checkpoint signed.
   */
  public AuditService(Store store, HsmToken token, KeyHandle auditKey, Clock clock, AuditGuard guard,
      CheckpointExport export, AuditBacklog backlog) {
    this.store = store;
    this.backlog = backlog;
    this.token = token;
    this.auditKey = auditKey;
    this.clock = clock;
    this.guard = guard;
    this.export = export;
  }

  /** The node's fail-closed switch. */
  public AuditGuard guard() {
    return guard;
  }

  /**
   * Signs every chain's head if one moved, chained to the last checkpoint, then remembers the checkpoint in the CA
   * token and exports it. Refuses (and halts issuance) when the store ends before the checkpoint the token
   * remembers or no longer holds it: the audit was rolled back or rewritten. Returns the new checkpoint's number,
   * or -1 when nothing was new.
   */
  public long checkpoint() throws CaException {
    String problem;
    AuditStore.Checkpoint cp;
    try {
      backlog.drain(); // refusals' records that waited for the store come first, so this checkpoint covers them
      problem = checkAnchor();
      cp = problem != null ? null : signHeads(store, signer(token, auditKey), clock.instant());
      if (cp != null) {
        remember(cp);
      }
    } catch (CaException | RuntimeException e) {
      if (failingSince == null) {
        failingSince = clock.instant();
      }
      throw e;
    }
    if (problem != null) { // halted: readiness says so through the guard, until acknowledged
      throw new CaException(ErrorCode.AUDIT_HALTED, problem + "; no checkpoint was signed");
    }
    checkpointed(cp);
    return cp == null ? -1 : cp.num();
  }

  /** After failed checkpoints (a full disk, a lost token session), the first good one says so in the log. */
  private void checkpointed(AuditStore.Checkpoint cp) {
    Instant since = failingSince;
    if (since != null) {
      failingSince = null;
      LOG.info("audit checkpoints work again (failing since {}); {}", since,
          cp == null ? "nothing was left uncovered" : "checkpoint " + cp.num() + " covers every record now");
    }
  }

  /**
   * Why the audit cannot be relied on right now, or null: issuance halted on a rollback, or the last checkpoint
   * could not be signed or stored (a full disk, the token gone). {@code /health} answers 503 while this is set.
   */
  public String notReady() {
    if (guard.reason() != null) {
      return "audit halted";
    }
    if (failingSince != null) {
      return "audit checkpoints failing since " + failingSince;
    }
    int waiting = backlog.waiting();
    return waiting > 0 ? waiting + " audit records wait for the store" : null;
  }

  /** Writes the refusal records that waited for the store (every node, every few seconds); returns how many. */
  public int drainBacklog() {
    return backlog.drain();
  }

  /** Signs the heads of {@code store}'s chains with {@code signer} unless they are signed already (tests, tools). */
  public static long checkpoint(Store store, CheckpointSigner signer, Instant at) throws CaException {
    AuditStore.Checkpoint cp = signHeads(store, signer, at);
    return cp == null ? -1 : cp.num();
  }

  /**
   * Signs every chain's head as the next checkpoint, unless no head moved since the last one. The heads are read
   * as committed (each head row and its records commit together), so nothing needs to wait for the signature;
   * two nodes that both think they lead collide on the checkpoint's number and one of them fails.
   */
  private static AuditStore.Checkpoint signHeads(Store store, CheckpointSigner signer, Instant at)
      throws CaException {
    return store.inTransaction(tx -> {
      List<AuditStore.Head> heads = tx.audit().heads().stream().filter(h -> h.seq() > 0).toList();
      Optional<AuditStore.Checkpoint> last = tx.audit().lastCheckpoint();
      if (heads.isEmpty() || last.isPresent() && new java.util.HashSet<>(last.get().heads()).containsAll(heads)) {
        return null;
      }
      long prevNum = last.map(AuditStore.Checkpoint::num).orElse(0L);
      long num;
      try {
        num = Math.addExact(prevNum, 1);
      } catch (ArithmeticException e) {
        throw new CaException(ErrorCode.AUDIT_HALTED, "the store's last audit checkpoint has number " + prevNum
            + ": no checkpoint can follow it (the store was edited)");
      }
      Instant when = Instant.ofEpochMilli(at.toEpochMilli());
      byte[] sig;
      try {
        sig = signer.sign(AuditChain.checkpointData(num, when, prevNum,
            last.map(AuditStore.Checkpoint::signature).orElse(null), heads));
      } catch (Exception e) {
        throw new CaException(ErrorCode.HSM_ERROR, "cannot sign the audit checkpoint: " + e.getMessage(), e);
      }
      AuditStore.Checkpoint cp = new AuditStore.Checkpoint(num, AuditChain.CHECKPOINT_VERSION, when,
          signer.keyLabel(), prevNum, heads, sig);
      tx.audit().insertCheckpoint(cp);
      return cp;
    });
  }

  /** Remembers {@code cp} in the CA token (unless the token already remembers a later one) and exports it. */
  private void remember(AuditStore.Checkpoint cp) throws CaException {
    try {
      Optional<AuditAnchor> now = AuditAnchor.read(token);
      if (now.isPresent() && now.get().num() > cp.num()) {
        throw new CaException(ErrorCode.AUDIT_HALTED, "checkpoint " + cp.num() + " was signed, but the CA token "
            + "remembers checkpoint " + now.get().num() + ", a later one: the store's checkpoints were renumbered");
      }
      AuditAnchor.of(cp).write(token);
    } catch (org.keyarc.hsm.HsmException e) {
      throw HsmCalls.failure("checkpoint " + cp.num() + " was signed but the CA token could not remember it: ", e);
    }
    exportCatchingUp(cp);
  }

  /**
   * Exports {@code cp} after the checkpoints the file missed (an export that failed, on a full disk say): the file
   * stays an unbroken run of checkpoints, which {@code audit verify --anchor} requires.
   */
  private void exportCatchingUp(AuditStore.Checkpoint cp) throws CaException {
    long last = export.lastExported();
    if (last >= 0 && last < cp.num() - 1) {
      for (AuditStore.Checkpoint missed : store.inTransaction(tx -> tx.audit().checkpointsAfter(last))) {
        if (missed.num() < cp.num()) {
          export.export(missed);
        }
      }
    }
    export.export(cp);
  }

  /**
   * Compares the store with the checkpoint the CA token remembers; on a rollback or rewrite, halts issuance,
   * audits the finding (once) and returns it; null when the store is whole. Run at start and before every
   * checkpoint.
   */
  public String checkAnchor() throws CaException {
    String problem = anchorProblem(store, token);
    if (problem == null) {
      return guard.reason();
    }
    if (guard.reason() == null) {
      guard.halt(problem);
      LOG.error("audit: {}; the CA stops issuing until an administrator runs 'keyarc audit acknowledge'", problem);
      store.inTransaction(tx -> Audit.append(tx, Audit.NODE, AuditAction.AUDIT_ROLLBACK, "audit", problem,
          clock.instant()));
    }
    return guard.reason();
  }

  /** What is wrong between {@code store} and the checkpoint {@code token} remembers, or null. */
  static String anchorProblem(Store store, HsmToken token) throws CaException {
    Optional<AuditAnchor> anchor;
    try {
      anchor = AuditAnchor.read(token);
    } catch (org.keyarc.hsm.HsmException e) {
      throw HsmCalls.failure("cannot read the audit anchor from the CA token: ", e);
    }
    if (anchor.isEmpty()) {
      return null;
    }
    AuditAnchor a = anchor.get();
    // the store's side in one unit of work; the token's audit keys only when checkpoints follow the remembered one
    record Found(String problem, AuditStore.Checkpoint remembered, List<AuditStore.Checkpoint> later) {
      static Found problem(String problem) {
        return new Found(problem, null, List.of());
      }
    }
    Found found = store.inTransaction(tx -> {
      Optional<AuditStore.Checkpoint> cp = a.num() > 0 ? tx.audit().checkpoint(a.num())
          : tx.audit().checkpoints().stream().filter(c -> c.version() < 3 && c.head(AuditStore.MAIN)
              .map(h -> h.seq() == a.legacySeq()).orElse(false)).findFirst();
      Map<String, AuditStore.Head> heads = new HashMap<>();
      tx.audit().heads().forEach(h -> heads.put(h.chain(), h));
      if (cp.isEmpty()) {
        if (a.num() == 0) {
          long main = heads.containsKey(AuditStore.MAIN) ? heads.get(AuditStore.MAIN).seq() : 0;
          return Found.problem(main < a.legacySeq() ? "the store's audit log ends at record " + main + " but this "
              + "CA signed a checkpoint at record " + a.legacySeq() + ": records were removed (rolled back)"
              : "the checkpoint this CA signed at record " + a.legacySeq() + " is missing from the store: "
              + "checkpoints were removed (rolled back)");
        }
        long last = tx.audit().lastCheckpoint().map(AuditStore.Checkpoint::num).orElse(0L);
        return Found.problem("the store's audit checkpoints end at " + (last == 0 ? "none" : "checkpoint " + last)
            + " but this CA signed checkpoint " + a.num() + ": " + (last < a.num()
            ? "checkpoints were removed (rolled back)" : "it was removed"));
      }
      if (!a.matches(cp.get())) {
        return Found.problem(a.checkpointName() + " in the store is not the one this CA signed: rewritten");
      }
      for (AuditStore.Head signed : cp.get().heads()) {
        AuditStore.Head now = heads.get(signed.chain());
        long at = now == null ? 0 : now.seq();
        String chain = signed.chain().equals(AuditStore.MAIN) ? "the store's audit log" : "audit chain '"
            + signed.chain() + "'";
        if (at < signed.seq()) {
          return Found.problem(chain + (now == null ? " is gone" : " ends at record " + at) + " but this CA signed "
              + a.checkpointName() + " over its record " + signed.seq() + ": records were removed (rolled "
              + "back)");
        }
        // the signed record itself: a chain rewritten up to it (and re-hashed) is not signed over again
        List<AuditStore.Row> r = signed.seq() == 0 ? List.of() : tx.audit().records(signed.chain(), signed.seq(),
            signed.seq());
        if (signed.seq() > 0 && (r.isEmpty() || !r.get(0).hash().equals(signed.hash()))) {
          return Found.problem("record " + signed.seq() + " of " + chain + ", which this CA signed in "
              + a.checkpointName() + ", " + (r.isEmpty() ? "is gone" : "was rewritten") + " in the store");
        }
      }
      return new Found(null, cp.get(), tx.audit().checkpointsAfter(cp.get().num()));
    });
    if (found.problem() != null || found.later().isEmpty()) {
      return found.problem();
    }
    // checkpoints after the remembered one: only what a crash between storing a checkpoint and remembering it
    // leaves, each signed by this CA's audit key and chained to the one before; anything else was put there
    Map<String, PublicKey> auditKeys = tokenAuditKeys(store, token);
    AuditStore.Checkpoint previous = found.remembered();
    for (AuditStore.Checkpoint later : found.later()) {
      PublicKey key = auditKeys.get(later.keyLabel());
      if (later.prevNum() != previous.num() || key == null || !AuditChain.signedBy(key, later, previous)) {
        return AuditChain.name(later) + " in the store, after " + a.checkpointName() + " which this CA remembers, "
            + "is not one this CA signed: it was put there (forged)";
      }
      previous = later;
    }
    return null;
  }

  /** The audit public keys by label, read from the CA token itself (a database writer cannot swap them). */
  private static Map<String, PublicKey> tokenAuditKeys(Store store, HsmToken token) throws CaException {
    Map<String, PublicKey> keys = new HashMap<>();
    for (CaKeyStore.Row r : store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.AUDIT))) {
      try {
        keys.put(r.keyLabel(), token.call(s -> s.publicKey(s.findKey(KeyHandle.KeyClass.PRIVATE, r.keyLabel()))));
      } catch (org.keyarc.hsm.HsmException e) {
        // a label the token does not hold signs nothing this CA accepts
      }
    }
    return keys;
  }

  /**
   * An administrator's acknowledgement of a halt: audited with the finding and {@code note}, then the current
   * head is signed and remembered as the new anchor, and issuance resumes.
   */
  public long acknowledge(Identity who, String note) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR);
    String problem = anchorProblem(store, token);
    String finding = problem != null ? problem : guard.reason();
    if (finding == null) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the audit log is whole and the CA is issuing: nothing to "
          + "acknowledge");
    }
    Instant now = clock.instant();
    store.inTransaction(tx -> Audit.append(tx, who.actor(), AuditAction.AUDIT_ACKNOWLEDGE, "audit",
        "finding=" + finding + " note=" + org.keyarc.ca.support.Texts.printable(note), now));
    AuditStore.Checkpoint cp = signHeads(store, signer(token, auditKey), now);
    if (cp == null) {
      cp = store.inTransaction(tx -> tx.audit().lastCheckpoint()).orElseThrow();
    }
    try {
      AuditAnchor.of(cp).write(token);
    } catch (org.keyarc.hsm.HsmException e) {
      throw HsmCalls.failure("cannot write the new audit anchor: ", e);
    }
    exportCatchingUp(cp);
    guard.resume();
    LOG.warn("audit: {} acknowledged by {}; the CA issues again from checkpoint {}", finding, who.actor(), cp.num());
    return cp.num();
  }

  /** The audit key {@code auditKey} in {@code token} as a checkpoint signer. */
  public static CheckpointSigner signer(HsmToken token, KeyHandle auditKey) {
    return new CheckpointSigner() {
      @Override
      public String keyLabel() {
        return auditKey.label();
      }

      @Override
      public byte[] sign(byte[] data) throws Exception {
        return token.call(s -> s.sign(auditKey, SignatureAlgorithm.SHA256_WITH_ECDSA, data));
      }
    };
  }

  /** Verifies the chain with the audit public keys read from the CA token. Auditor only. */
  public AuditChain.Verification verify(Identity who) throws CaException {
    Authorization.require(who, Role.AUDITOR);
    return verify(store, token);
  }

  /**
   * Verifies the chain of {@code store} with the audit public keys read from the CA token itself, so
   * that someone who can write the database cannot swap the key and re-sign the checkpoints.
   */
  public static AuditChain.Verification verify(Store store, HsmToken token) throws CaException {
    AuditChain.Verification v = verifyWithTokenKeys(store, token);
    String anchor = anchorProblem(store, token);
    if (anchor == null) {
      return v;
    }
    List<String> problems = new ArrayList<>(v.problems());
    problems.add(anchor);
    return new AuditChain.Verification(v.records(), v.chains(), v.checkpoints(), v.uncovered(), problems);
  }

  private static AuditChain.Verification verifyWithTokenKeys(Store store, HsmToken token) throws CaException {
    List<CaKeyStore.Row> rows = store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.AUDIT));
    Map<String, PublicKey> auditKeys = new HashMap<>();
    List<String> mismatch = new ArrayList<>();
    for (CaKeyStore.Row r : rows) {
      PublicKey inToken = HsmCalls.call(() -> token.call(s -> s.publicKey(s.findKey(
          KeyHandle.KeyClass.PRIVATE, r.keyLabel()))));
      auditKeys.put(r.keyLabel(), inToken);
      if (!Arrays.equals(inToken.getEncoded(), r.publicKey())) {
        mismatch.add("the audit key '" + r.keyLabel() + "' in the store is not the one in token " + token.label()
            + ": the store was edited");
      }
    }
    AuditChain.Verification v = verify(store, auditKeys);
    if (mismatch.isEmpty()) {
      return v;
    }
    mismatch.addAll(v.problems());
    return new AuditChain.Verification(v.records(), v.chains(), v.checkpoints(), v.uncovered(), mismatch);
  }

  /** Verifies the chain of {@code store} with the audit keys recorded at init. */
  public static AuditChain.Verification verify(Store store) throws CaException {
    Map<String, PublicKey> auditKeys = store.inTransaction(tx -> {
      Map<String, PublicKey> m = new HashMap<>();
      for (CaKeyStore.Row r : tx.caKeys().list(CaKeyStore.Kind.AUDIT)) {
        m.put(r.keyLabel(), PublicKeys.publicKey(SubjectPublicKeyInfo.getInstance(r.publicKey())));
      }
      return m;
    });
    return verify(store, auditKeys);
  }

  /**
   * Verifies every chain of {@code store} with the given audit keys (label to public key). Nodes may append while
   * this reads, so it reads in an order that makes their work look whole: the checkpoints, then the heads, then
   * the records (every record up to a head read before is there; newer records are left to the next
   * verification), then the heads again (no record may be beyond a head read after it: that head was moved back).
   */
  public static AuditChain.Verification verify(Store store, Map<String, PublicKey> auditKeys) throws CaException {
    return store.inTransaction(tx -> {
      List<AuditStore.Checkpoint> checkpoints = tx.audit().checkpoints();
      Map<String, Long> before = new HashMap<>();
      List<AuditStore.Head> heads = tx.audit().heads();
      heads.forEach(h -> before.put(h.chain(), h.seq()));
      java.util.TreeSet<String> chains = new java.util.TreeSet<>(tx.audit().recordChains());
      chains.addAll(before.keySet());
      Map<String, List<AuditStore.Row>> rows = new java.util.TreeMap<>();
      for (String chain : chains) {
        rows.put(chain, tx.audit().records(chain, 0, Long.MAX_VALUE));
      }
      Map<String, Long> after = new HashMap<>();
      tx.audit().heads().forEach(h -> after.put(h.chain(), h.seq()));
      List<AuditStore.Row> records = new ArrayList<>();
      List<String> movedBack = new ArrayList<>();
      for (var e : rows.entrySet()) {
        if (!before.containsKey(e.getKey()) && after.containsKey(e.getKey())) {
          continue; // a node that started meanwhile made this chain: the next verification reads it
        }
        long upTo = before.getOrDefault(e.getKey(), Long.MAX_VALUE);
        e.getValue().stream().filter(r -> r.seq() <= upTo).forEach(records::add);
        long last = e.getValue().isEmpty() ? 0 : e.getValue().get(e.getValue().size() - 1).seq();
        Long headAfter = after.get(e.getKey());
        if (headAfter != null && last > headAfter) {
          movedBack.add((e.getKey().equals(AuditStore.MAIN) ? "" : "chain '" + e.getKey() + "': ") + "the head says "
              + headAfter + " but records go on to " + last + ": the head was moved back");
        }
      }
      AuditChain.Verification v = AuditChain.verify(records, heads, checkpoints, auditKeys);
      if (movedBack.isEmpty()) {
        return v;
      }
      List<String> problems = new ArrayList<>(movedBack);
      problems.addAll(v.problems());
      return new AuditChain.Verification(v.records(), v.chains(), v.checkpoints(), v.uncovered(), problems);
    });
  }

  /**
   * Verifies the store against checkpoints exported from it ({@link CheckpointExport}, kept off the host): each
   * exported checkpoint must verify with the audit key and be in the store as it was exported, and the store
   * must reach the last one. {@code exported} are in file order.
   */
  public AuditChain.Verification verifyExported(Identity who, List<AuditStore.Checkpoint> exported)
      throws CaException {
    Authorization.require(who, Role.AUDITOR);
    return verifyExported(store, token, exported);
  }

  /** {@link #verifyExported(Identity, List)} for the local operator at the CA host. */
  public static AuditChain.Verification verifyExported(Store store, HsmToken token,
      List<AuditStore.Checkpoint> exported) throws CaException {
    AuditChain.Verification v = verify(store, token);
    Map<String, PublicKey> keys = new HashMap<>();
    for (CaKeyStore.Row r : store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.AUDIT))) {
      keys.put(r.keyLabel(), PublicKeys.publicKey(SubjectPublicKeyInfo.getInstance(r.publicKey())));
    }
    List<String> problems = new ArrayList<>(v.problems());
    // the exported checkpoints among themselves: signatures and their chain (no records needed)
    AuditChain.Verification file = AuditChain.verify(List.of(), List.of(), exported, keys);
    for (String p : file.problems()) {
      if (!p.contains(" is gone: truncated") && !p.contains("differs from what")) {
        problems.add("in the exported checkpoints: " + p);
      }
    }
    Optional<AuditStore.Checkpoint> last = store.inTransaction(tx -> tx.audit().lastCheckpoint());
    for (AuditStore.Checkpoint e : exported) {
      // checkpoints exported before they were numbered are found by the record they signed
      Optional<AuditStore.Checkpoint> inStore = e.version() < 3 ? store.inTransaction(tx -> tx.audit().checkpoints())
          .stream().filter(c -> c.version() < 3 && new java.util.HashSet<>(c.heads()).equals(new java.util.HashSet<>(
              e.heads()))).findFirst()
          : store.inTransaction(tx -> tx.audit().checkpoint(e.num()));
      String name = AuditChain.name(e);
      if (inStore.isEmpty()) {
        boolean beyondStore = e.version() >= 3 && last.map(l -> l.num() < e.num()).orElse(true);
        problems.add("the exported " + name + " is missing from the store" + (beyondStore
            ? " and the store's checkpoints end " + last.map(l -> "at " + AuditChain.name(l)).orElse("before it")
            + ": rolled back" : ": removed"));
      } else if (!new java.util.HashSet<>(inStore.get().heads()).equals(new java.util.HashSet<>(e.heads()))
          || !Arrays.equals(inStore.get().signature(), e.signature())) {
        problems.add("the " + name + " in the store differs from the exported one: rewritten");
      }
    }
    return new AuditChain.Verification(v.records(), v.chains(), v.checkpoints(), v.uncovered(), problems);
  }

  /** Audit records for an auditor, filtered and paged (at most {@link #MAX_PAGE}); the reading is audited. */
  public List<AuditStore.Row> list(Identity who, long fromSeq, Instant since, Instant until, String action,
      String actor, String target, int limit) throws CaException {
    Authorization.require(who, Role.AUDITOR);
    if (limit < 1 || limit > MAX_PAGE) {
      throw new CaException(ErrorCode.BAD_REQUEST, "limit must be 1.." + MAX_PAGE + ", not " + limit);
    }
    Instant now = clock.instant();
    return store.inTransaction(tx -> {
      List<AuditStore.Row> rows = tx.audit().records(Math.max(1, fromSeq), since, until, action, actor, target,
          limit);
      Audit.append(tx, who.actor(), AuditAction.AUDIT_READ, "audit", "from=" + fromSeq + " since=" + since
          + " until=" + until + " action=" + action + " actor=" + actor + " target=" + target + " returned="
          + rows.size(), now);
      return rows;
    });
  }

  /**
   * Records the node's effective configuration in the audit log when it differs from the last one
   * recorded (a configuration change is an audited event). Returns true when a record was written.
   */
  public boolean recordConfiguration(String effectiveJson) throws CaException {
    String digest = Digests.sha256Hex(effectiveJson.getBytes(StandardCharsets.UTF_8));
    Instant now = clock.instant();
    return store.inTransaction(tx -> {
      Optional<String> last = tx.audit().lastDetail(AuditAction.CONFIG_CHANGE.id());
      if (last.isPresent() && last.get().startsWith("sha256=" + digest)) {
        return false;
      }
      String detail = "sha256=" + digest + " " + effectiveJson;
      Audit.append(tx, Audit.NODE, AuditAction.CONFIG_CHANGE, "node", detail.length() > 4000
          ? detail.substring(0, 3997) + "..." : detail, now);
      return true;
    });
  }
}
