package org.keyarc.ca.e2e;

import java.sql.PreparedStatement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.AuditChain;
import org.keyarc.ca.audit.AuditService;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.DirectSql;
import org.keyarc.protocol.ErrorCode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node on an audit chain of its own ({@code audit.chain}), as each node of a cluster is: its records go to that
 * chain, checkpoints sign it with the others, and a rollback of that one chain is found through the CA token's
 * anchor as a rollback of the single chain is ({@link AuditRollbackE2eTest}).
 */
class AuditChainsE2eTest {
  private static TestCa ca;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> cfg.audit.chain = "node-a");
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  /**
   * A node on a chain of its own: one chain cut back behind the leader's checkpoints, which are left alone. The
   * store's checkpoint names the missing record, and the CA token's anchor makes the node halt before it signs
   * anything over the shortened chain.
   */
  @Test
  void oneNodesChainCutBackIsFoundThroughTheAnchor() throws Exception {
    ca.enrollUser("CN=Chain A One");
    ca.enrollUser("CN=Chain A Two");
    long signed = ca.services().audit().checkpoint();
    AuditStore.Head head = ca.services().store().inTransaction(tx -> tx.audit().head());
    assertEquals("node-a", head.chain());
    String earlier = ca.services().store().inTransaction(tx -> tx.audit().records(head.seq() - 2,
        head.seq() - 2)).get(0).hash();
    DirectSql.run(ca.services().store(), c -> {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM audit_record WHERE chain = 'node-a' AND seq > ?")) {
        ps.setLong(1, head.seq() - 2);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("UPDATE audit_chain SET seq = ?, hash = ? WHERE chain = "
          + "'node-a'")) {
        ps.setLong(1, head.seq() - 2);
        ps.setString(2, earlier);
        ps.executeUpdate();
      }
      return null;
    });
    AuditChain.Verification v = AuditService.verify(ca.services().store(), ca.services().keys().token());
    assertTrue(v.problems().contains("checkpoint " + signed + " signs record " + head.seq() + " of chain 'node-a', "
        + "which is gone: truncated or deleted"), v.problems().toString());
    assertTrue(v.problems().contains("audit chain 'node-a' ends at record " + (head.seq() - 2) + " but this CA "
        + "signed checkpoint " + signed + " over its record " + head.seq() + ": records were removed (rolled back)"),
        v.problems().toString());
    CaException refused = assertThrows(CaException.class, ca.services().audit()::checkpoint);
    assertEquals(ErrorCode.AUDIT_HALTED, refused.code(), refused.getMessage());
    assertEquals(signed, ca.services().store().inTransaction(tx -> tx.audit().lastCheckpoint()).orElseThrow()
        .num(), "nothing was signed over the shortened chain");
    resume();
  }

  /**
   * The reviewer's anchor freeze: a checkpoint put into the store with the highest number (and no valid signature),
   * so that the next real one would wrap around and never be remembered. The node refuses to sign after a
   * checkpoint it did not make.
   */
  @Test
  void aCheckpointPutIntoTheStoreIsNotSignedAfter() throws Exception {
    ca.enrollUser("CN=Before The Fake");
    long signed = ca.services().audit().checkpoint();
    DirectSql.run(ca.services().store(), c -> {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_checkpoint (num, version, at, key_label, "
          + "prev_num, signature) VALUES (?, 3, 0, 'audit-signing', ?, ?)")) {
        ps.setLong(1, Long.MAX_VALUE);
        ps.setLong(2, signed);
        ps.setBytes(3, new byte[] {0x30, 0x00});
        ps.executeUpdate();
      }
      return null;
    });
    ca.enrollUser("CN=After The Fake");
    CaException refused = assertThrows(CaException.class, ca.services().audit()::checkpoint);
    assertEquals(ErrorCode.AUDIT_HALTED, refused.code(), refused.getMessage());
    assertTrue(refused.getMessage().contains("checkpoint " + Long.MAX_VALUE + " in the store, after checkpoint " + signed
        + " which this CA remembers, is not one this CA signed"), refused.getMessage());
    DirectSql.run(ca.services().store(), c -> {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM audit_checkpoint WHERE num = ?")) {
        ps.setLong(1, Long.MAX_VALUE);
        ps.executeUpdate();
      }
      return null;
    });
    resume();
  }

  /**
   * The reviewer's rewrite: a record the last checkpoint covers changed and its chain re-hashed to the head, so the
   * chain is consistent again. The node does not sign over it: the record it signed is not the one in the store.
   */
  @Test
  void aCoveredRecordRewrittenIsNotSignedOver() throws Exception {
    ca.enrollUser("CN=Rewritten Later");
    long signed = ca.services().audit().checkpoint();
    AuditStore.Head head = ca.services().store().inTransaction(tx -> tx.audit().head());
    java.util.List<AuditStore.Row> rows = ca.services().store().inTransaction(tx -> tx.audit().records("node-a", 1,
        head.seq()));
    DirectSql.run(ca.services().store(), c -> {
      String prev = AuditChain.genesis("node-a");
      for (AuditStore.Row r : rows) {
        String detail = r.seq() == 1 ? "forged" : r.detail();
        String h = AuditChain.hash(r.seq(), r.at().toEpochMilli(), r.actor(), r.action(), r.target(), detail, prev);
        try (PreparedStatement ps = c.prepareStatement("UPDATE audit_record SET detail = ?, prev_hash = ?, hash = ? "
            + "WHERE chain = 'node-a' AND seq = ?")) {
          ps.setString(1, detail);
          ps.setString(2, prev);
          ps.setString(3, h);
          ps.setLong(4, r.seq());
          ps.executeUpdate();
        }
        prev = h;
      }
      try (PreparedStatement ps = c.prepareStatement("UPDATE audit_chain SET hash = ? WHERE chain = 'node-a'")) {
        ps.setString(1, prev);
        ps.executeUpdate();
      }
      return null;
    });
    ca.enrollUser("CN=After The Rewrite");
    CaException refused = assertThrows(CaException.class, ca.services().audit()::checkpoint);
    assertEquals(ErrorCode.AUDIT_HALTED, refused.code(), refused.getMessage());
    assertTrue(refused.getMessage().contains("record " + head.seq() + " of audit chain 'node-a', which this CA signed "
        + "in checkpoint " + signed + ", was rewritten in the store"), refused.getMessage());
    resume();
  }

  /** An administrator acknowledges the finding, so the next test starts from a CA that issues. */
  private static void resume() throws Exception {
    ca.services().audit().acknowledge(org.keyarc.ca.auth.Identity.localOperator(), "test finding looked at");
  }
}
