package org.keyarc.ca.store;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.audit.AuditChain;
import org.keyarc.ca.audit.AuditService;
import org.keyarc.ca.audit.CheckpointSigner;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The store suite: the same tests against every supported database (H2 embedded and PostgreSQL).
 * A subclass says how to open a fresh, empty store and how to open it again after a restart.
 */
abstract class StoreContract {
  static final String ISSUER = "CN=Test CA";
  protected Store store;

  /** A new, empty store. */
  abstract Store openFresh() throws Exception;

  /** A new, empty database, not migrated: its JDBC URL and user. */
  abstract String[] newDatabase() throws Exception;

  /** The same store again, as after a node restart. */
  abstract Store reopen() throws Exception;

  @BeforeEach
  void open() throws Exception {
    store = openFresh();
  }

  @AfterEach
  void close() {
    if (store != null) {
      store.close();
    }
  }

  static CertRecord cert(BigInteger serial, String subject) {
    Instant now = Instant.ofEpochMilli(System.currentTimeMillis());
    return new CertRecord(ISSUER, serial, subject, "User", now, now.plusSeconds(3600), CertRecord.Status.ISSUED, null,
        null, null, null, String.format("%064x", serial), now, new byte[] {0x30, 0x00}, "tx-" + serial);
  }

  @Test
  void aCompletedRecoveryKeepsNoPartialRecovery() throws Exception {
    Instant at = Instant.ofEpochMilli(1_700_000_000_000L);
    long id = store.inTransaction(tx -> tx.recoveries().open("4d", "CN=u", 2, new byte[] {1}, "CN=m", at));
    store.inTransaction(tx -> {
      tx.recoveries().step(id, new RecoveryStore.Step(1, "CN=a", "a1", "card-a", at), new byte[] {7, 7});
      return null;
    });
    assertArrayEquals(new byte[] {7, 7}, store.inTransaction(tx -> tx.recoveries().find(id)).orElseThrow().progress());
    store.inTransaction(tx -> {
      tx.recoveries().step(id, new RecoveryStore.Step(2, "CN=b", "b2", "card-b", at), null);
      return null;
    });
    RecoveryStore.Row done = store.inTransaction(tx -> tx.recoveries().find(id)).orElseThrow();
    assertEquals(RecoveryStatus.COMPLETED, done.status());
    assertEquals(null, done.progress(), "the partial recovery is dropped when the recovery completes");
  }

  @Test
  void serialIsUniquePerIssuerByConstraint() throws Exception {
    store.inTransaction(tx -> {
      tx.certificates().insert(cert(BigInteger.valueOf(0x1234), "CN=a"));
      return null;
    });
    CertRecord again = new CertRecord(ISSUER, BigInteger.valueOf(0x1234), "CN=b", "User", Instant.now(),
        Instant.now(), CertRecord.Status.ISSUED, null, null, null, null, "ff".repeat(32), Instant.now(),
        new byte[] {1}, null);
    StoreException e = assertThrows(StoreException.class, () -> store.inTransaction(tx -> {
      tx.certificates().insert(again);
      return null;
    }));
    assertTrue(e.isConstraintViolation(), e.getMessage());
    assertEquals(1, (long) store.inTransaction(tx -> tx.certificates().count()));
  }

  @Test
  void failedTransactionLeavesNothing() throws Exception {
    assertThrows(IllegalStateException.class, () -> store.inTransaction(tx -> {
      tx.certificates().insert(cert(BigInteger.TEN, "CN=x"));
      Audit.append(tx, "tester", AuditAction.CERT_ISSUE, "serial:a", "", Instant.now());
      throw new IllegalStateException("crash after insert");
    }));
    assertEquals(0, (long) store.inTransaction(tx -> tx.certificates().count()));
    assertEquals(0, store.inTransaction(tx -> tx.audit().records(0, Long.MAX_VALUE)).size());
  }

  @Test
  void restartKeepsEverything() throws Exception {
    Instant at = Instant.ofEpochMilli(1_700_000_000_000L);
    long[] requestId = new long[1];
    store.inTransaction(tx -> {
      tx.certificates().insert(cert(BigInteger.valueOf(77), "CN=kept"));
      tx.certificates().revoke(ISSUER, BigInteger.valueOf(77), 1, at);
      requestId[0] = tx.requests().insertPending("abcd", 1, "CN=r", "KeyRecoveryAgent", "CN=r", "cr", new byte[] {1},
          null, at);
      tx.secrets().insert(new SecretRecord("ref1", new byte[16], "00".repeat(32), "User", "CN=s", "CN=m", at,
          at.plusSeconds(60), null));
      tx.roles().grant(new RoleStore.Member("key:aa", "CN=m", "4d", Role.MANAGER, "CN=a", at));
      Audit.append(tx, "CN=a", AuditAction.CERT_REVOKE, "serial:4d", "reason=keyCompromise", at);
      return null;
    });
    store.close();
    store = reopen();
    CertRecord r = store.inTransaction(tx -> tx.certificates().find(ISSUER, BigInteger.valueOf(77))).orElseThrow();
    assertEquals(CertRecord.Status.REVOKED, r.status());
    assertEquals(at, r.revokedAt());
    assertEquals(RequestRecord.Status.PENDING,
        store.inTransaction(tx -> tx.requests().find(requestId[0])).orElseThrow().status());
    assertTrue(store.inTransaction(tx -> tx.secrets().find("ref1")).isPresent());
    assertEquals(List.of(Role.MANAGER), List.copyOf(store.inTransaction(tx -> tx.roles().rolesOf(List.of("key:aa"),
        "CN=m"))));
    assertTrue(AuditService.verify(store, Map.of()).ok());
  }

  @Test
  void oneTimeSecretIsUsedOnce() throws Exception {
    Instant at = Instant.now();
    store.inTransaction(tx -> {
      tx.secrets().insert(new SecretRecord("ref2", new byte[16], "00".repeat(32), "User", "CN=s", "CN=m", at,
          at.plusSeconds(60), null));
      return null;
    });
    assertTrue((boolean) store.inTransaction(tx -> tx.secrets().markUsed("ref2", at)));
    assertFalse((boolean) store.inTransaction(tx -> tx.secrets().markUsed("ref2", at)));
  }

  @Test
  void secretFailuresAndItsTransactionAreKept() throws Exception {
    Instant at = Instant.ofEpochMilli(System.currentTimeMillis());
    store.inTransaction(tx -> {
      tx.secrets().insert(new SecretRecord("ref3", new byte[16], "00".repeat(32), "User", "CN=s", "CN=m", at,
          at.plusSeconds(60), null));
      return null;
    });
    assertEquals(1, (int) store.inTransaction(tx -> tx.secrets().recordFailure("ref3")));
    assertEquals(2, (int) store.inTransaction(tx -> tx.secrets().recordFailure("ref3")));
    assertEquals(0, (int) store.inTransaction(tx -> tx.secrets().recordFailure("no-such-ref")));
    assertTrue((boolean) store.inTransaction(tx -> tx.secrets().markUsed("ref3", at, "a1b2c3d4e5f60718")));
    store.close();
    store = reopen();
    SecretRecord r = store.inTransaction(tx -> tx.secrets().find("ref3")).orElseThrow();
    assertEquals(2, r.failures());
    assertEquals("a1b2c3d4e5f60718", r.usedTransaction());
    assertEquals(at, r.usedAt());
  }

  @Test
  void aNoncePairIsRememberedOnceEvenInAGroupCommit() throws Exception {
    Instant t = Instant.ofEpochMilli(1_700_000_000_000L);
    store.inTransaction(tx -> {
      tx.nonces().remember("00aa", "11bb", t, t);
      tx.nonces().remember("00aa", "22cc", t, t); // the same transaction, a fresh nonce: another pair
      return null;
    });
    StoreException e = assertThrows(StoreException.class, () -> store.inGroupTransaction(tx -> {
      tx.nonces().remember("00aa", "11bb", t.plusSeconds(5), t.plusSeconds(5));
      return null;
    }));
    assertTrue(e.isConstraintViolation(), e.getMessage());
    // the failed piece left the shared transaction usable (PostgreSQL: rolled back to its savepoint)
    store.inGroupTransaction(tx -> {
      tx.nonces().remember("00aa", "33dd", t.plusSeconds(10), t.plusSeconds(10));
      return null;
    });
    assertEquals(2, (int) store.inTransaction(tx -> tx.nonces().forgetBefore(t.plusSeconds(1))));
    store.inTransaction(tx -> {
      tx.nonces().remember("00aa", "11bb", t.plusSeconds(20), t.plusSeconds(20)); // forgotten: no longer a replay
      return null;
    });
    assertEquals(2, (int) store.inTransaction(tx -> tx.nonces().forgetBefore(t.plusSeconds(60))));
  }

  @Test
  void pendingRequestIsDecidedOnce() throws Exception {
    long id = store.inTransaction(tx -> tx.requests().insertPending("tx", 0, "CN=r", "KeyRecoveryAgent", "CN=r", "ir",
        new byte[] {1}, null, Instant.now()));
    assertTrue((boolean) store.inTransaction(tx -> tx.requests().decide(id, RequestRecord.Status.DENIED, "CN=m", "no",
        null, Instant.now())));
    assertFalse((boolean) store.inTransaction(tx -> tx.requests().decide(id, RequestRecord.Status.APPROVED, "CN=m2", null,
        "ab", Instant.now())));
    RequestRecord r = store.inTransaction(tx -> tx.requests().find(id)).orElseThrow();
    assertEquals(RequestRecord.Status.DENIED, r.status());
    assertEquals("no", r.reason());
  }

  // ---------------------------------------------------------------- roles, requesters (store version 6)

  @Test
  void aRoleIsHeldByItsHolderUnderItsLabel() throws Exception {
    Instant at = Instant.ofEpochMilli(1_700_000_000_000L);
    store.inTransaction(tx -> {
      assertTrue(tx.roles().grant(new RoleStore.Member("key:aa", "CN=Ada", "1a", Role.ADMINISTRATOR, "op", at)));
      assertFalse(tx.roles().grant(new RoleStore.Member("key:aa", "CN=Ada", "1b", Role.ADMINISTRATOR, "op", at)),
          "one row per holder and role");
      tx.roles().addPending(new RoleStore.Pending("ref9", Role.ADMINISTRATOR, "CN=Next", "op", at));
      return null;
    });
    assertEquals(Set.of(Role.ADMINISTRATOR), store.inTransaction(tx -> tx.roles().rolesOf(List.of("key:aa"), "CN=Ada")));
    assertEquals(Set.of(), store.inTransaction(tx -> tx.roles().rolesOf(List.of("key:bb"), "CN=Ada")),
        "another key of the same name holds nothing");
    assertEquals(Set.of(), store.inTransaction(tx -> tx.roles().rolesOf(List.of("key:aa"), "CN=Eve")),
        "the same key under another name holds nothing");
    assertEquals("ref9", store.inTransaction(tx -> tx.roles().pendingFor("ref9")).get(0).secretReference());
    assertEquals(1, (int) store.inTransaction(tx -> tx.roles().removePending("ref9")));
    assertTrue(store.inTransaction(tx -> tx.roles().pending()).isEmpty());
    assertEquals(1, (int) store.inTransaction(tx -> tx.roles().revoke(List.of("key:aa", "cert:1a"), Role.ADMINISTRATOR)));
    assertTrue(store.inTransaction(tx -> tx.roles().list()).isEmpty());
  }

  @Test
  void aCertificateKeepsItsRequesterAndOnlyAnUnconfirmedOneIsRejected() throws Exception {
    Instant now = Instant.ofEpochMilli(System.currentTimeMillis());
    CertRecord waiting = new CertRecord(ISSUER, BigInteger.valueOf(0x51), "CN=w", "User", now, now.plusSeconds(60),
        CertRecord.Status.UNCONFIRMED, now.plusSeconds(30), null, null, null, "51".repeat(32), now, new byte[] {0x30, 0},
        "tx-51", "secret:ref51", "key:cc dn:dd");
    store.inTransaction(tx -> {
      tx.certificates().insert(waiting);
      tx.certificates().insert(cert(BigInteger.valueOf(0x52), "CN=c"));
      return null;
    });
    CertRecord back = store.inTransaction(tx -> tx.certificates().find(ISSUER, BigInteger.valueOf(0x51))).orElseThrow();
    assertEquals("secret:ref51", back.requester());
    assertEquals("key:cc dn:dd", back.origin());
    assertFalse((boolean) store.inTransaction(tx -> tx.certificates().rejectUnconfirmed(ISSUER, BigInteger.valueOf(0x52),
        5, now)), "a confirmed certificate is not rejected");
    assertEquals(CertRecord.Status.ISSUED, store.inTransaction(tx -> tx.certificates().find(ISSUER,
        BigInteger.valueOf(0x52))).orElseThrow().status());
    assertTrue((boolean) store.inTransaction(tx -> tx.certificates().rejectUnconfirmed(ISSUER, BigInteger.valueOf(0x51),
        5, now)));
    assertFalse((boolean) store.inTransaction(tx -> tx.certificates().rejectUnconfirmed(ISSUER, BigInteger.valueOf(0x51),
        5, now)));
  }

  @Test
  void aHeldRequestKeepsItsPartiesAndCardEvidence() throws Exception {
    Instant at = Instant.ofEpochMilli(1_700_000_000_000L);
    long id = store.inTransaction(tx -> tx.requests().insertPending(new RequestStore.Held("tx6", 0, "secret:r6",
        "secret:r6", "key:m dn:m", "secret:r6 key:m dn:m dn:s", "KeyRecoveryAgent", "CN=s", "p10cr", new byte[] {1},
        null, new byte[] {0x30, 0}, at)));
    assertTrue((boolean) store.inTransaction(tx -> tx.requests().decide(id, RequestRecord.Status.APPROVED, "CN=M2",
        "key:m2", null, "ab", at)));
    RequestRecord r = store.inTransaction(tx -> tx.requests().find(id)).orElseThrow();
    assertEquals("secret:r6", r.requesterId());
    assertEquals("key:m dn:m", r.origin());
    assertEquals("secret:r6 key:m dn:m dn:s", r.parties());
    assertEquals("key:m2", r.decidedById());
    assertEquals(2, r.cardEvidence().length);
  }

  /**
   * Store version 6 on a version 3 database: a name-bound role goes to the oldest issued certificate of its
   * name; the administrator of ca init who has not enrolled yet waits on the init secret; a role for a name with
   * no certificate is dropped; requests of secrets keep their requester.
   */
  @Test
  void versionSixBindsTheOldRolesSensibly() throws Exception {
    String[] db = newDatabase();
    org.flywaydb.core.Flyway.configure().dataSource(db[0], db[1], null).locations("classpath:db/migration")
        .target("3").load().migrate();
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(db[0], db[1], null);
        java.sql.Statement st = c.createStatement()) {
      String cert = "INSERT INTO certificate (issuer, serial, subject, template, not_before, not_after, status, "
          + "sha256, issued_at, der) VALUES ('CN=Test CA', '%s', '%s', 'User', 0, 4102444800000, '%s', '%s', %d, %s)";
      String der = c.getMetaData().getDatabaseProductName().contains("H2") ? "X'3000'" : "'\\x3000'";
      st.executeUpdate(String.format(cert, "a1", "CN=Ada", "ISSUED", "a1".repeat(32), 1000, der));
      st.executeUpdate(String.format(cert, "a2", "CN=Ada", "ISSUED", "a2".repeat(32), 2000, der));
      st.executeUpdate(String.format(cert, "a3", "CN=Ada", "REVOKED", "a3".repeat(32), 500, der));
      String role = "INSERT INTO role_member (subject, role, granted_by, granted_at) VALUES ('%s', '%s', 'x', 1)";
      st.executeUpdate(String.format(role, "CN=Ada", "ADMINISTRATOR"));
      st.executeUpdate(String.format(role, "CN=Ghost", "MANAGER"));
      st.executeUpdate(String.format(role, "CN=Init", "ADMINISTRATOR"));
      st.executeUpdate("INSERT INTO enrollment_secret (reference, nonce, secret_hash, template, subject, created_by, "
          + "created_at, expires_at) VALUES ('init1', " + der + ", 'h', 'User', 'CN=Init', 'local-operator', 1, 9)");
      st.executeUpdate("INSERT INTO cert_request (transaction_id, cert_req_id, requester, template, subject, "
          + "body_type, status, public_key, created_at) VALUES ('t1', 0, 'secret:r1', 'KeyRecoveryAgent', 'CN=K', "
          + "'p10cr', 'PENDING', " + der + ", 1)");
      if (!c.getAutoCommit()) {
        c.commit();
      }
    }
    Store migrated = org.keyarc.ca.store.jdbc.JdbcStore.open(db[0], db[1], null, 2);
    try {
      List<RoleStore.Member> members = migrated.inTransaction(tx -> tx.roles().list());
      assertEquals(1, members.size(), members.toString());
      assertEquals("cert:a1", members.get(0).holder(), "the oldest issued certificate of the name");
      assertEquals(Set.of(Role.ADMINISTRATOR), migrated.inTransaction(tx -> tx.roles().rolesOf(List.of("cert:a1"),
          "CN=Ada")));
      assertEquals(Set.of(), migrated.inTransaction(tx -> tx.roles().rolesOf(List.of("cert:a2"), "CN=Ada")));
      List<RoleStore.Pending> pending = migrated.inTransaction(tx -> tx.roles().pending());
      assertEquals(1, pending.size());
      assertEquals("init1", pending.get(0).secretReference());
      assertEquals("CN=Init", pending.get(0).subject());
      RequestRecord r = migrated.inTransaction(tx -> tx.requests().list(null, 10)).get(0);
      assertEquals("secret:r1", r.requesterId());
    } finally {
      migrated.close();
    }
  }

  // ---------------------------------------------------------------- audit chain

  private KeyPair auditKey;

  private CheckpointSigner signer() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    auditKey = g.generateKeyPair();
    return signerOf(auditKey);
  }

  /** Ten records with a checkpoint after record 6; returns the verification of the untouched chain. */
  private AuditChain.Verification tenRecords() throws Exception {
    CheckpointSigner signer = signer();
    for (int i = 1; i <= 10; i++) {
      int n = i;
      store.inTransaction(tx -> Audit.append(tx, "CN=actor", AuditAction.CERT_ISSUE, "serial:" + n, "template=User",
          Instant.now()));
      if (i == 6) {
        AuditService.checkpoint(store, signer, Instant.now());
      }
    }
    return verify();
  }

  private AuditChain.Verification verify() throws Exception {
    return AuditService.verify(store, Map.of("audit-test", auditKey.getPublic()));
  }

  private void sql(String sql) {
    DirectSql.run(store, c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.executeUpdate();
      }
      return null;
    });
  }

  /**
   * Audit appends from group commits (their units share one head in memory, written once per commit) and from plain
   * transactions at the same time, some failing after their append: the chain verifies, and holds exactly the records
   * of the units that committed.
   */
  @Test
  @org.junit.jupiter.api.Timeout(120)
  void concurrentAppendsOfGroupCommitsAndTransactionsKeepOneVerifiableChain() throws Exception {
    CheckpointSigner signer = signer();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    java.util.concurrent.atomic.AtomicInteger committed = new java.util.concurrent.atomic.AtomicInteger();
    try {
      List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
      for (int i = 0; i < 160; i++) {
        int n = i;
        done.add(pool.submit(() -> {
          org.keyarc.ca.store.TxWork<Object> unit = tx -> {
            Audit.append(tx, "CN=actor", AuditAction.CERT_ISSUE, "serial:" + n, "unit " + n, Instant.now());
            if (n % 5 == 0) {
              throw new org.keyarc.ca.CaException(org.keyarc.protocol.ErrorCode.BAD_REQUEST, "unit " + n + " fails");
            }
            return null;
          };
          try {
            if (n % 4 == 0) {
              store.inTransaction(unit);
            } else {
              store.inGroupTransaction(unit);
            }
            committed.incrementAndGet();
          } catch (org.keyarc.ca.CaException e) {
            assertTrue(e.getMessage().contains("unit " + n + " fails"), e.getMessage());
          }
          return null;
        }));
      }
      for (java.util.concurrent.Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(128, committed.get(), "the 32 units of 160 that fail are the multiples of 5");
    AuditService.checkpoint(store, signer, Instant.now());
    AuditChain.Verification v = verify();
    assertTrue(v.ok(), v.problems().toString());
    assertEquals(128, v.records());
  }

  @Test
  void auditVerifyPassesUntouched() throws Exception {
    AuditChain.Verification v = tenRecords();
    assertTrue(v.ok(), v.problems().toString());
    assertEquals(10, v.records());
    assertEquals(4, v.uncovered(), "records 7..10 are newer than the checkpoint");
  }

  @Test
  void auditVerifyNamesEditedRecord() throws Exception {
    tenRecords();
    sql("UPDATE audit_record SET detail = 'template=Admin' WHERE seq = 3");
    AuditChain.Verification v = verify();
    assertEquals(List.of("record 3 (cert.issue) does not match its hash: edited"), v.problems());
  }

  @Test
  void auditVerifyNamesDeletedRecord() throws Exception {
    tenRecords();
    sql("DELETE FROM audit_record WHERE seq = 8");
    AuditChain.Verification v = verify();
    assertEquals(List.of("record 8 is missing: deleted"), v.problems());
  }

  @Test
  void auditVerifyNamesInsertedRecord() throws Exception {
    tenRecords();
    // shift records 8.. up by one and slip a forged record in at 8, chained to record 7
    sql("UPDATE audit_record SET seq = seq + 1000 WHERE seq >= 8");
    sql("UPDATE audit_record SET seq = seq - 999 WHERE seq >= 1000");
    String prev = store.inTransaction(tx -> tx.audit().records(7, 7)).get(0).hash();
    sql("INSERT INTO audit_record (seq, at, actor, action, target, detail, prev_hash, hash) VALUES "
        + "(8, 0, 'CN=forger', 'role.grant', 'CN=forger', 'role=ADMINISTRATOR', '" + prev + "', '" + "ab".repeat(32)
        + "')");
    AuditChain.Verification v = verify();
    assertTrue(v.problems().contains("record 8 (role.grant) does not match its hash: edited"), v.problems().toString());
    assertTrue(v.problems().contains("record 9 does not chain to record 8: a record was inserted or deleted before it"),
        v.problems().toString());
  }

  @Test
  void auditVerifyNamesTruncation() throws Exception {
    tenRecords();
    sql("DELETE FROM audit_record WHERE seq >= 5");
    AuditChain.Verification v = verify();
    assertEquals(List.of("records 5..10 are missing at the end: truncated (the head says 10)",
        "checkpoint 1 signs record 6, which is gone: truncated or deleted"), v.problems());
  }

  @Test
  void auditVerifyCatchesRewrittenChainAgainstCheckpoint() throws Exception {
    tenRecords();
    // a forger who recomputes every hash after editing record 2 still breaks the signed checkpoint
    List<AuditStore.Row> all = store.inTransaction(tx -> tx.audit().all());
    String prev = AuditChain.GENESIS;
    for (AuditStore.Row r : all) {
      String detail = r.seq() == 2 ? "template=Forged" : r.detail();
      String h = AuditChain.hash(r.seq(), r.at().toEpochMilli(), r.actor(), r.action(), r.target(), detail, prev);
      sql("UPDATE audit_record SET detail = '" + detail + "', prev_hash = '" + prev + "', hash = '" + h
          + "' WHERE seq = " + r.seq());
      prev = h;
    }
    String head = prev;
    sql("UPDATE audit_chain SET hash = '" + head + "' WHERE chain = 'main'");
    AuditChain.Verification v = verify();
    assertEquals(List.of("the chain up to record 6 differs from what checkpoint 1 says: records were rewritten"),
        v.problems());
  }

  // ---------------------------------------------------------------- several chains (one per node)

  /**
   * Ten records on 'main' (checkpoint after 6), then three on a second node's chain 'node-b' and a checkpoint over
   * both heads; returns the verification of the untouched store.
   */
  private AuditChain.Verification twoChains() throws Exception {
    tenRecords();
    store.useAuditChain("node-b");
    for (int i = 1; i <= 3; i++) {
      int n = i;
      store.inTransaction(tx -> Audit.append(tx, "CN=other node", AuditAction.CERT_ISSUE, "serial:b" + n,
          "template=User", Instant.now()));
    }
    store.useAuditChain(AuditStore.MAIN);
    AuditService.checkpoint(store, signerOf(auditKey), Instant.now());
    return verify();
  }

  private CheckpointSigner signerOf(KeyPair key) {
    return new CheckpointSigner() {
      @Override
      public String keyLabel() {
        return "audit-test";
      }

      @Override
      public byte[] sign(byte[] data) throws Exception {
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(key.getPrivate());
        s.update(data);
        return s.sign();
      }
    };
  }

  @Test
  void twoChainsVerifyTogetherUnderOneCheckpoint() throws Exception {
    AuditChain.Verification v = twoChains();
    assertEquals(List.of(), v.problems());
    assertEquals(13, v.records());
    assertEquals(2, v.chains());
    assertEquals(0, v.uncovered(), "the second checkpoint signed both heads");
    AuditStore.Checkpoint last = store.inTransaction(tx -> tx.audit().lastCheckpoint()).orElseThrow();
    assertEquals(List.of(new AuditStore.Head("main", 10, store.inTransaction(tx -> tx.audit().head()).hash())),
        last.heads().stream().filter(h -> h.chain().equals("main")).toList());
    assertEquals(3, last.head("node-b").orElseThrow().seq());
    assertEquals(List.of("main", "node-b"), store.inTransaction(tx -> tx.audit().recordChains()));
    // an auditor pages through both chains in the order the records were written
    List<AuditStore.Row> all = store.inTransaction(tx -> tx.audit().all());
    assertEquals(13, all.size());
    assertEquals(List.of("main", "node-b"), all.stream().map(AuditStore.Row::chain).distinct().toList());
  }

  @Test
  void aRecordMovedFromOneChainToAnotherIsNamed() throws Exception {
    twoChains();
    // node-b's first record passed off as the next record of 'main', heads moved to match
    String moved = store.inTransaction(tx -> tx.audit().records("node-b", 1, 1)).get(0).hash();
    sql("UPDATE audit_record SET chain = 'main', seq = 11 WHERE chain = 'node-b' AND seq = 1");
    sql("UPDATE audit_chain SET seq = 11, hash = '" + moved + "' WHERE chain = 'main'");
    List<String> p = verify().problems();
    assertTrue(p.contains("record 11 does not chain to record 10: a record was inserted or deleted before it"),
        p.toString());
    assertTrue(p.contains("chain 'node-b': record 1 is missing: deleted"), p.toString());
  }

  @Test
  void aChainDroppedWholeContradictsTheCheckpoint() throws Exception {
    twoChains();
    sql("DELETE FROM audit_record WHERE chain = 'node-b'");
    sql("DELETE FROM audit_chain WHERE chain = 'node-b'");
    assertEquals(List.of("checkpoint 2 signs record 3 of chain 'node-b', which is gone: truncated or deleted"),
        verify().problems());
  }

  @Test
  void aChainRenamedBreaksAtItsStart() throws Exception {
    twoChains();
    sql("UPDATE audit_record SET chain = 'node-c' WHERE chain = 'node-b'");
    sql("UPDATE audit_chain SET chain = 'node-c' WHERE chain = 'node-b'");
    List<String> p = verify().problems();
    assertTrue(p.contains("chain 'node-c': record 1 does not chain to the chain's start: a record was inserted or "
        + "deleted before it or it belongs to another chain"), p.toString());
    assertTrue(p.contains("checkpoint 2 signs record 3 of chain 'node-b', which is gone: truncated or deleted"),
        p.toString());
  }

  @Test
  void aHeadMovedBackIsNamed() throws Exception {
    twoChains();
    String second = store.inTransaction(tx -> tx.audit().records("node-b", 2, 2)).get(0).hash();
    sql("UPDATE audit_chain SET seq = 2, hash = '" + second + "' WHERE chain = 'node-b'");
    List<String> p = verify().problems();
    assertTrue(p.contains("chain 'node-b': the head says 2 but records go on to 3: the head was moved back"),
        p.toString());
    assertTrue(p.contains("checkpoint 2 signs record 3 of chain 'node-b', which is gone: truncated or deleted"),
        p.toString());
  }

  @Test
  void aChainOfAnotherNodeIsMadeOnceAndAppendsFailWhenItsHeadIsRemoved() throws Exception {
    twoChains();
    sql("DELETE FROM audit_chain WHERE chain = 'node-b'");
    store.useAuditChain("node-b"); // its records are there: the head is not made again from nothing
    StoreException e = assertThrows(StoreException.class, () -> store.inTransaction(tx -> Audit.append(tx,
        "CN=x", AuditAction.CERT_ISSUE, "serial:x", "template=User", Instant.now())));
    assertTrue(e.getMessage().contains("the audit chain 'node-b' has no head in the store"), e.getMessage());
    store.useAuditChain(AuditStore.MAIN);
    assertTrue(verify().problems().contains("chain 'node-b': the chain has records but no head: its head was "
        + "removed"));
    assertThrows(StoreException.class, () -> store.useAuditChain("bad name"));
  }

  /**
   * A store audited before there were several chains (schema version 14: one chain, checkpoints of version 2
   * named by their record) keeps verifying after the migration, and the first new checkpoint chains to the last
   * old one: deleting the old ones afterwards shows.
   */
  @Test
  void checkpointsFromBeforeChainsStillVerifyAndTieToTheNewOnes() throws Exception {
    CheckpointSigner signer = signer();
    String[] db = newDatabase();
    org.flywaydb.core.Flyway.configure().dataSource(db[0], db[1], null).locations("classpath:db/migration")
        .target("14").load().migrate();
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(db[0], db[1], null)) {
      c.setAutoCommit(true);
      String prev = AuditChain.GENESIS;
      long prevCp = 0;
      byte[] prevSig = null;
      for (long seq = 1; seq <= 6; seq++) {
        String h = AuditChain.hash(seq, 1000 * seq, "CN=old", "cert.issue", "serial:" + seq, "d", prev);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_record (seq, at, actor, action, target, "
            + "detail, prev_hash, hash) VALUES (?, ?, 'CN=old', 'cert.issue', ?, 'd', ?, ?)")) {
          ps.setLong(1, seq);
          ps.setLong(2, 1000 * seq);
          ps.setString(3, "serial:" + seq);
          ps.setString(4, prev);
          ps.setString(5, h);
          ps.executeUpdate();
        }
        prev = h;
        if (seq % 3 == 0) { // version-2 checkpoints at records 3 and 6
          byte[] sig = signer.sign(AuditChain.checkpointData(seq, h, prevCp, prevSig));
          try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_checkpoint (seq, hash, at, key_label, "
              + "signature, version, prev_seq) VALUES (?, ?, ?, 'audit-test', ?, 2, ?)")) {
            ps.setLong(1, seq);
            ps.setString(2, h);
            ps.setLong(3, 1000 * seq);
            ps.setBytes(4, sig);
            ps.setLong(5, prevCp);
            ps.executeUpdate();
          }
          prevCp = seq;
          prevSig = sig;
        }
      }
      try (PreparedStatement ps = c.prepareStatement("UPDATE audit_head SET seq = 6, hash = ? WHERE id = 1")) {
        ps.setString(1, prev);
        ps.executeUpdate();
      }
    }
    store.close();
    store = org.keyarc.ca.store.jdbc.JdbcStore.open(db[0], db[1], null, 2);
    assertEquals(List.of(), verify().problems(), "the old chain and its checkpoints verify after the migration");
    assertEquals(2, store.inTransaction(tx -> tx.audit().checkpoints()).size());
    store.useAuditChain("node-b");
    store.inTransaction(tx -> Audit.append(tx, "CN=new", AuditAction.CERT_ISSUE, "serial:n", "d", Instant.now()));
    AuditService.checkpoint(store, signer, Instant.now());
    AuditChain.Verification v = verify();
    assertEquals(List.of(), v.problems());
    assertEquals(2, v.chains());
    assertEquals(0, v.uncovered());
    // the last old checkpoint removed: the first new one no longer follows anything there
    sql("DELETE FROM audit_checkpoint_head WHERE num = 2");
    sql("DELETE FROM audit_checkpoint WHERE num = 2");
    assertEquals(List.of("checkpoint 3 follows checkpoint 2 which is gone: checkpoints were deleted"),
        verify().problems());
  }
}
