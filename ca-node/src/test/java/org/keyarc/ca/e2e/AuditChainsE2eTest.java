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
  }
}
