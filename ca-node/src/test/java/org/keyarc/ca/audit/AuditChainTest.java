package org.keyarc.ca.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.store.AuditStore;

/** The chain's rules on rows built in memory: no database, a software EC key for the checkpoints. */
class AuditChainTest {
  private static final String LABEL = "audit-1";
  private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
  private static KeyPair auditKey;
  private static Map<String, PublicKey> keys;

  @BeforeAll
  static void key() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    auditKey = g.generateKeyPair();
    keys = Map.of(LABEL, auditKey.getPublic());
  }

  /** n records chained from the genesis hash, as the store appends them. */
  private static List<AuditStore.Row> chain(int n) {
    List<AuditStore.Row> rows = new ArrayList<>();
    String prev = AuditChain.GENESIS;
    for (long seq = 1; seq <= n; seq++) {
      rows.add(row(seq, "alice", "cert.issue", "serial-" + seq, "detail " + seq, prev));
      prev = rows.get(rows.size() - 1).hash();
    }
    return rows;
  }

  private static AuditStore.Row row(long seq, String actor, String action, String target, String detail,
      String prev) {
    Instant at = T0.plusSeconds(seq);
    return new AuditStore.Row(seq, at, actor, action, target, detail, prev,
        AuditChain.hash(seq, at.toEpochMilli(), actor, action, target, detail, prev));
  }

  private static AuditStore.Head head(List<AuditStore.Row> rows) {
    AuditStore.Row last = rows.get(rows.size() - 1);
    return new AuditStore.Head(last.seq(), last.hash());
  }

  private static AuditStore.Checkpoint checkpoint(AuditStore.Row at) throws Exception {
    Signature s = Signature.getInstance("SHA256withECDSA");
    s.initSign(auditKey.getPrivate());
    s.update(AuditChain.checkpointData(at.seq(), at.hash()));
    return legacy(at.seq(), 1, at, 0, s.sign());
  }

  /** A checkpoint of version 1 or 2 as the migration numbers it: by the record it signed. */
  private static AuditStore.Checkpoint legacy(long num, int version, AuditStore.Row at, long prevNum, byte[] sig) {
    return new AuditStore.Checkpoint(num, version, at.at(), LABEL, prevNum,
        List.of(new AuditStore.Head(at.seq(), at.hash())), sig);
  }

  /** A version-2 checkpoint at {@code at}, chained to {@code prev} (null for the first). */
  private static AuditStore.Checkpoint chained(AuditStore.Row at, AuditStore.Checkpoint prev) throws Exception {
    Signature s = Signature.getInstance("SHA256withECDSA");
    s.initSign(auditKey.getPrivate());
    long prevSeq = prev == null ? 0 : prev.heads().get(0).seq();
    s.update(AuditChain.checkpointData(at.seq(), at.hash(), prevSeq, prev == null ? null : prev.signature()));
    return legacy(at.seq(), 2, at, prevSeq, s.sign());
  }

  @Test
  void chainedCheckpointsVerifyAndADroppedOneIsNamed() throws Exception {
    List<AuditStore.Row> rows = chain(9);
    AuditStore.Checkpoint c3 = chained(rows.get(2), null);
    AuditStore.Checkpoint c6 = chained(rows.get(5), c3);
    AuditStore.Checkpoint c9 = chained(rows.get(8), c6);
    assertEquals(List.of(), problems(rows, head(rows), List.of(c3, c6, c9)));
    // the middle checkpoint deleted: the one after it names the gap
    assertProblem(problems(rows, head(rows), List.of(c3, c9)), "checkpoint at record 9 follows checkpoint 6 which "
        + "is gone");
    // a forged version-1 checkpoint after chained ones is refused
    AuditStore.Checkpoint v1 = checkpoint(rows.get(8));
    assertProblem(problems(rows, head(rows), List.of(c3, c6, v1)), "is of version 1 after checkpoints of version 2: it was forged");
    // a chained checkpoint whose predecessor was swapped for another valid signature breaks its own signature
    AuditStore.Checkpoint c6b = chained(rows.get(5), c3);
    assertProblem(problems(rows, head(rows), List.of(c3, c6b, c9)), "checkpoint at record 9 has a bad signature");
  }

  private static List<String> problems(List<AuditStore.Row> rows, AuditStore.Head head,
      List<AuditStore.Checkpoint> cps) {
    return AuditChain.verify(rows, head, cps, keys).problems();
  }

  private static void assertProblem(List<String> problems, String expected) {
    assertFalse(problems.isEmpty(), "no problem found");
    assertTrue(problems.stream().anyMatch(p -> p.contains(expected)), "expected '" + expected + "' in " + problems);
  }

  @Test
  void intactChainWithCheckpointsHasNoProblem() throws Exception {
    List<AuditStore.Row> rows = chain(6);
    AuditChain.Verification v = AuditChain.verify(rows, head(rows),
        List.of(checkpoint(rows.get(2)), checkpoint(rows.get(5))), keys);
    assertTrue(v.ok(), v.problems().toString());
    assertEquals(6, v.records());
    assertEquals(2, v.checkpoints());
    assertEquals(0, v.uncovered());
  }

  @Test
  void emptyChainIsIntact() {
    assertEquals(List.of(), problems(List.of(), new AuditStore.Head(0, AuditChain.GENESIS), List.of()));
  }

  @Test
  void anEditedRecordIsNamed() throws Exception {
    List<AuditStore.Row> rows = chain(5);
    AuditStore.Row r = rows.get(2);
    rows.set(2, new AuditStore.Row(r.seq(), r.at(), "mallory", r.action(), r.target(), r.detail(), r.prevHash(),
        r.hash()));
    assertProblem(problems(rows, head(rows), List.of(checkpoint(rows.get(4)))), "record 3 (cert.issue) does not "
        + "match its hash: edited");
  }

  @Test
  void aDeletedRecordIsNamed() {
    List<AuditStore.Row> rows = chain(5);
    rows.remove(2);
    List<String> p = problems(rows, head(rows), List.of());
    assertProblem(p, "record 3 is missing: deleted");
  }

  @Test
  void anInsertedRecordIsNamed() {
    List<AuditStore.Row> rows = chain(4);
    // a record slipped in after record 2, rehashed so that it looks well formed itself
    rows.add(2, row(3, "mallory", "role.grant", "mallory", "administrator", rows.get(1).hash()));
    List<String> p = problems(rows, head(rows), List.of());
    assertProblem(p, "record 3 appears out of order: inserted");
  }

  @Test
  void aRecordRehashedInPlaceBreaksTheNextLinkAndTheCheckpoint() throws Exception {
    List<AuditStore.Row> rows = chain(4);
    AuditStore.Checkpoint cp = checkpoint(rows.get(3));
    rows.set(1, row(2, "mallory", "cert.issue", "serial-2", "detail 2", rows.get(0).hash()));
    List<String> p = problems(rows, head(rows), List.of(cp));
    assertProblem(p, "record 3 does not chain to record 2");
  }

  @Test
  void aTruncatedChainIsNamedByTheHeadAndTheCheckpoint() throws Exception {
    List<AuditStore.Row> rows = chain(6);
    AuditStore.Head head = head(rows);
    AuditStore.Checkpoint cp = checkpoint(rows.get(5));
    List<AuditStore.Row> cut = new ArrayList<>(rows.subList(0, 4));
    List<String> p = problems(cut, head, List.of(cp));
    assertProblem(p, "records 5..6 are missing at the end: truncated (the head says 6)");
    assertProblem(p, "checkpoint at record 6 signs a record that is gone");
  }

  @Test
  void aForgedCheckpointSignatureIsNamed() throws Exception {
    List<AuditStore.Row> rows = chain(3);
    AuditStore.Checkpoint cp = checkpoint(rows.get(2));
    byte[] sig = cp.signature().clone();
    sig[sig.length - 1] ^= 1;
    AuditStore.Checkpoint forged = new AuditStore.Checkpoint(cp.num(), 1, cp.at(), LABEL, 0, cp.heads(), sig);
    assertProblem(problems(rows, head(rows), List.of(forged)),
        "checkpoint at record 3 has a bad signature: the checkpoint was forged or edited");
  }

  @Test
  void aCheckpointByAnotherKeyIsForged() throws Exception {
    List<AuditStore.Row> rows = chain(3);
    AuditStore.Checkpoint cp = checkpoint(rows.get(2));
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    Map<String, PublicKey> other = Map.of(LABEL, g.generateKeyPair().getPublic());
    assertProblem(AuditChain.verify(rows, head(rows), List.of(cp), other).problems(), "has a bad signature");
    assertProblem(AuditChain.verify(rows, head(rows), List.of(cp), Map.of()).problems(),
        "signed with unknown key 'audit-1'");
  }

  @Test
  void aRewrittenChainContradictsItsSignedCheckpoint() throws Exception {
    List<AuditStore.Row> rows = chain(3);
    AuditStore.Checkpoint cp = checkpoint(rows.get(2));
    // the whole chain rebuilt consistently with an edited record 1: only the checkpoint can tell
    List<AuditStore.Row> rewritten = new ArrayList<>();
    String prev = AuditChain.GENESIS;
    for (AuditStore.Row r : rows) {
      AuditStore.Row n = row(r.seq(), r.seq() == 1 ? "mallory" : r.actor(), r.action(), r.target(), r.detail(),
          prev);
      rewritten.add(n);
      prev = n.hash();
    }
    List<String> p = problems(rewritten, head(rewritten), List.of(cp));
    assertEquals(1, p.size(), p.toString());
    assertProblem(p, "the chain up to record 3 differs from what its signed checkpoint says");
  }

  @Test
  void aReplacedLastRecordIsNamedByTheHead() {
    List<AuditStore.Row> rows = chain(3);
    AuditStore.Head head = head(rows);
    rows.set(2, row(3, "mallory", "cert.issue", "serial-3", "detail 3", rows.get(1).hash()));
    assertProblem(problems(rows, head, List.of()), "the head hash does not match record 3");
  }
}
