package org.keyarc.ca.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.GenMsgContent;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.store.jdbc.JdbcStore;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.CmpTransport;
import org.keyarc.protocol.cmp.CmpHeaders;

/**
 * Issue 19: an issuance's answer is written when its commit completes, and no worker waits for the disk meanwhile.
 * A node with one worker; a database lock (held here by a direct connection, as a slow disk would) stalls the
 * issuance's commit. While it is stalled, another client's genm is answered at once; the issuance is answered,
 * granted, once the lock goes. With a worker waiting on the commit, the genm would wait for the lock too.
 */
class AnswerAfterCommitE2eTest {
  private static String describe(CompletableFuture<byte[]> f) {
    try {
      return org.keyarc.protocol.KeyarcCmp.text(org.bouncycastle.asn1.cmp.ErrorMsgContent.getInstance(
          PKIMessage.getInstance(f.get()).getBody().getContent()).getPKIStatusInfo());
    } catch (Exception e) {
      return e.toString();
    }
  }

  /** Waits (at most 10 s) until another database session waits for a lock: the issuance's commit, stalled. */
  private static void awaitBlockedOnLock(TestCa ca) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    try (Connection c = ((JdbcStore) ca.services().store()).dataSource().getConnection();
        Statement st = c.createStatement()) {
      while (System.nanoTime() < deadline) {
        try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS "
            + "WHERE BLOCKER_ID IS NOT NULL")) {
          rs.next();
          if (rs.getLong(1) > 0) {
            return;
          }
        }
        Thread.onSpinWait();
      }
    }
    throw new AssertionError("the issuance's commit never waited for the lock");
  }

  /** Locks the audit chain's head row in {@code lock}'s open transaction, as a slow disk would hold a commit. */
  private static void lockAuditChain(Connection lock) throws Exception {
    lock.setAutoCommit(false);
    try (Statement st = lock.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM audit_chain FOR UPDATE")) {
      assertTrue(rs.next(), "the audit chain's head row, locked");
    }
  }

  @Test
  void aStalledCommitHoldsNoWorker() throws Exception {
    try (TestCa ca = TestCa.start(cfg -> cfg.workers = 1)) {
      TestCa.Enrollee user = ca.enrollUser("CN=Patient");
      byte[] genm = new PKIMessage(CmpHeaders.unprotectedRequest(CmpHeaders.noName(),
          new GeneralName(ca.caCert().getSubject()), null, null, null).build(),
          new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(new InfoTypeAndValue(CMPObjectIdentifiers.id_it_caCerts))))
          .getEncoded();
      try (CmpClient client = ca.signedClient(ca.binaryUrl(), user); CmpTransport other = ca.transport(ca.binaryUrl())) {
        other.send(genm).get(30, TimeUnit.SECONDS); // its connection is up before the lock
        java.security.KeyPair kp = TestCa.ecKey();
        byte[] request = client.prepareCertRequests(PKIBody.TYPE_CERT_REQ, new X500Name("CN=Patient"),
            List.of(new CmpClient.CertRequestEntry(TestCa.spki(kp), TestCa.pop(kp), null)), null);
        CompletableFuture<byte[]> issuance;
        try (Connection lock = ((JdbcStore) ca.services().store()).dataSource().getConnection()) {
          lockAuditChain(lock);
          issuance = client.transport().send(request);
          awaitBlockedOnLock(ca); // the issuance is read, checked, signed, and its commit waits for the lock
          long t0 = System.nanoTime();
          PKIMessage answer = PKIMessage.getInstance(other.send(genm).get(30, TimeUnit.SECONDS));
          long ms = (System.nanoTime() - t0) / 1_000_000;
          assertEquals(PKIBody.TYPE_GEN_REP, answer.getBody().getType());
          assertFalse(issuance.isDone(), () -> "the issuance still waits for its commit (the lock): " + describe(issuance));
          assertTrue(ms < 300, "the genm was answered in " + ms + " ms while the only worker's issuance waited");
          lock.rollback();
        }
        List<CmpClient.CertResult> results = client.certificatesOf(issuance.get(30, TimeUnit.SECONDS));
        assertNotNull(results.get(0).cert(), () -> String.valueOf(results.get(0).refusal()));
      }
    }
  }
  /**
   * The reviewer's replay race: copies of one signed ir that arrive before the first copy's unit of work committed each
   * passed the store's replay read, and each did the whole proof-of-possession check, HSM signature and commit before
   * being refused. Now the node claims the (transactionID, senderNonce) in memory when it checks it: with the first
   * copy's commit stalled, a second copy is refused as a replay at once, and only the first is issued.
   */
  @Test
  void aCopyArrivingWhileTheFirstWaitsForItsCommitIsRefusedAtOnce() throws Exception {
    try (TestCa ca = TestCa.start()) {
      TestCa.Enrollee user = ca.enrollUser("CN=Twice");
      try (CmpClient client = ca.signedClient(ca.binaryUrl(), user); CmpTransport other = ca.transport(ca.binaryUrl())) {
        java.security.KeyPair kp = TestCa.ecKey();
        byte[] request = client.prepareCertRequests(PKIBody.TYPE_CERT_REQ, new X500Name("CN=Twice"),
            List.of(new CmpClient.CertRequestEntry(TestCa.spki(kp), TestCa.pop(kp), null)), null);
        CompletableFuture<byte[]> first;
        CompletableFuture<byte[]> copy;
        try (Connection lock = ((JdbcStore) ca.services().store()).dataSource().getConnection()) {
          lockAuditChain(lock);
          double caughtBefore = ca.metric("keyarc_cmp_replays_total", "caught=\"in-flight\"");
          first = client.transport().send(request);
          awaitBlockedOnLock(ca);
          copy = other.send(request);
          // the copy is caught before it does any work (its refusal's audit record then waits for the lock too)
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
          while (ca.metric("keyarc_cmp_replays_total", "caught=\"in-flight\"") < caughtBefore + 1
              && System.nanoTime() < deadline) {
            Thread.sleep(10);
          }
          assertEquals(caughtBefore + 1, ca.metric("keyarc_cmp_replays_total", "caught=\"in-flight\""),
              "the copy is caught as a copy of a request in flight while the first waits for its commit");
          assertFalse(first.isDone(), () -> "the first copy still waits for its commit: " + describe(first));
          lock.rollback();
        }
        String refusal = describe(copy.orTimeout(30, TimeUnit.SECONDS));
        assertTrue(refusal.contains("keyarc 59"), "the copy is refused as a replay: " + refusal);
        List<CmpClient.CertResult> results = client.certificatesOf(first.get(30, TimeUnit.SECONDS));
        assertNotNull(results.get(0).cert(), () -> String.valueOf(results.get(0).refusal()));
        long stored = ca.services().store().inTransaction(tx -> tx.certificates().list(null, "CN=Twice", 1000))
            .stream().filter(c -> c.subject().equals("CN=Twice")).count();
        assertEquals(2, stored, "the enrollee's own certificate and the first copy's: the copy issued nothing");
      }
    }
  }
}
