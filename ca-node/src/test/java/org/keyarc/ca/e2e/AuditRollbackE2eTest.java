package org.keyarc.ca.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.AuditChain;
import org.keyarc.ca.audit.AuditService;
import org.keyarc.ca.audit.CheckpointExport;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.DirectSql;
import org.keyarc.ca.store.Role;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.client.CmpClientException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reviewer's rollback, tried again: a database writer deletes the records and checkpoints after an old
 * checkpoint and moves the head back. The store alone still verifies (that was the attack), but the CA token
 * remembers the last checkpoint it signed, so the node names the rollback, stops issuing (error 64) and signs
 * nothing until an administrator acknowledges; the exported checkpoint file shows it without the node too.
 */
class AuditRollbackE2eTest {
  private static TestCa ca;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start();
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  @Test
  void rollbackIsFoundHaltsIssuanceAndNeedsAnAcknowledgement() throws Exception {
    AuditService audit = ca.services().audit();
    ca.enrollUser("CN=Before Rollback");
    long old = audit.checkpoint();
    assertTrue(old > 0);
    ca.enrollUser("CN=Erased One");
    ca.enrollUser("CN=Erased Two");
    long latest = audit.checkpoint();
    assertTrue(latest > old);
    Path export = ca.services().settings().audit().file();
    assertTrue(Files.readAllLines(export).size() >= 2, "every checkpoint is exported as it is signed");
    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(export)));

    // the attacker, with write access to the database only: back to checkpoint 'old', consistently
    AuditStore.Head oldHead = ca.services().store().inTransaction(tx -> tx.audit().checkpoint(old)).orElseThrow()
        .head(AuditStore.MAIN).orElseThrow();
    DirectSql.run(ca.services().store(), c -> {
      for (String sql : new String[] {"DELETE FROM audit_record WHERE seq > ?", "DELETE FROM audit_checkpoint_head "
          + "WHERE num > ?", "DELETE FROM audit_checkpoint WHERE num > ?"}) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          ps.setLong(1, sql.contains("audit_record") ? oldHead.seq() : old);
          ps.executeUpdate();
        }
      }
      try (PreparedStatement ps = c.prepareStatement("UPDATE audit_chain SET seq = ?, hash = ? WHERE chain = 'main'")) {
        ps.setLong(1, oldHead.seq());
        ps.setString(2, oldHead.hash());
        ps.executeUpdate();
      }
      return null;
    });
    assertEquals(List.of(), AuditService.verify(ca.services().store()).problems(),
        "the store alone is consistent again: this is what fooled verification before");

    // what the CA and an auditor now see
    AuditChain.Verification v = AuditService.verify(ca.services().store(), ca.services().keys().token());
    assertTrue(v.problems().stream().anyMatch(p -> p.contains("this CA signed checkpoint " + latest + ": checkpoints were removed (rolled back)")),
        v.problems().toString());
    assertEquals("200 ok", health(), "healthy until the node looks");
    CaException refused = assertThrows(CaException.class, audit::checkpoint);
    assertEquals(ErrorCode.AUDIT_HALTED, refused.code(), refused.getMessage());
    assertEquals("503 not ready: audit halted", health(), "a load balancer takes the halted node out");
    assertEquals(old, ca.services().store().inTransaction(tx -> tx.audit().lastCheckpoint()).orElseThrow().num(),
        "nothing was signed over the truncated head");
    CmpClientException enroll = assertThrows(CmpClientException.class, () -> ca.enrollUser("CN=During Halt"));
    assertEquals(ErrorCode.AUDIT_HALTED, enroll.code(), enroll.getMessage());
    assertTrue(ca.services().store().inTransaction(tx -> tx.certificates().list(null, "CN=During Halt", 10))
        .isEmpty(), "no certificate while halted");

    // the exported file shows the rollback without the token
    List<AuditStore.Checkpoint> exported = CheckpointExport.read(Files.readAllLines(export));
    AuditChain.Verification fromFile = AuditService.verifyExported(ca.services().store(),
        ca.services().keys().token(), exported);
    assertTrue(fromFile.problems().stream().anyMatch(p -> p.contains("exported checkpoint " + latest
        + " is missing from the store and the store's checkpoints end at checkpoint " + old + ": rolled back")), fromFile.problems().toString());

    // only an administrator can acknowledge; then the CA issues again and both facts are in the audit
    Identity auditor = new Identity(Identity.Kind.CERTIFICATE, "CN=Some Auditor", java.util.Set.of(Role.AUDITOR));
    CaException notAdmin = assertThrows(CaException.class, () -> audit.acknowledge(auditor, "me"));
    assertEquals(ErrorCode.NOT_AUTHORIZED, notAdmin.code());
    long resumed = audit.acknowledge(Identity.localOperator(), "records 1.. restored from backup; incident 42");
    assertTrue(resumed > old);
    assertEquals("200 ok", health());
    ca.enrollUser("CN=After Acknowledgement");
    List<AuditStore.Row> all = ca.services().store().inTransaction(tx -> tx.audit().all());
    assertTrue(all.stream().anyMatch(r -> r.action().equals("audit.rollback")));
    assertTrue(all.stream().anyMatch(r -> r.action().equals("audit.acknowledge") && r.detail().contains("incident 42")));
    assertTrue(audit.checkpoint() > resumed, "checkpoints are signed again over the new records");
  }

  @Test
  void anUnwritableAuditMakesTheNodeNotReadyUntilACheckpointWorksAgain() throws Exception {
    AuditService audit = ca.services().audit();
    ca.enrollUser("CN=Before The Disk Filled");
    // the checkpoint table cannot be written, as when the disk is full
    DirectSql.run(ca.services().store(), c -> {
      try (var st = c.createStatement()) {
        st.execute("ALTER TABLE audit_checkpoint RENAME TO audit_checkpoint_away");
      }
      return null;
    });
    try {
      CaException failed = assertThrows(CaException.class, audit::checkpoint);
      assertEquals(ErrorCode.STORE_ERROR, failed.code(), failed.getMessage());
      String h = health();
      assertTrue(h.startsWith("503 not ready: audit checkpoints failing since "), h);
      assertTrue(!h.contains("audit_checkpoint"), "no store detail on an unauthenticated page: " + h);
    } finally {
      DirectSql.run(ca.services().store(), c -> {
        try (var st = c.createStatement()) {
          st.execute("ALTER TABLE audit_checkpoint_away RENAME TO audit_checkpoint");
        }
        return null;
      });
    }
    // space is back: the next timer run signs the uncovered tail and the node is ready again by itself
    assertTrue(audit.checkpoint() > 0, "the records written meanwhile are covered");
    assertEquals("200 ok", health());
  }

  /** GET /health as a load balancer sees it: status and body. */
  private static String health() throws Exception {
    java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(ca.httpUrl() + "health")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body().trim();
  }
}
