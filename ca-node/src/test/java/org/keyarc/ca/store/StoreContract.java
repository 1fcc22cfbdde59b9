package org.keyarc.ca.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.keyarc.ca.audit.AuditLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The store suite: the same tests against every supported database (H2 embedded and PostgreSQL).
 * A subclass says how to open a fresh, empty store and how to open it again after a restart.
 */
abstract class StoreContract {
  static final String ISSUER = "CN=Test CA";
  protected Store store;

  /** A new, empty store. */
  abstract Store openFresh() throws Exception;

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
  void serialIsUniquePerIssuerByConstraint() {
    store.inTransaction(c -> {
      Certificates.insert(c, cert(BigInteger.valueOf(0x1234), "CN=a"));
      return null;
    });
    CertRecord again = new CertRecord(ISSUER, BigInteger.valueOf(0x1234), "CN=b", "User", Instant.now(),
        Instant.now(), CertRecord.Status.ISSUED, null, null, null, null, "ff".repeat(32), Instant.now(),
        new byte[] {1}, null);
    StoreException e = assertThrows(StoreException.class, () -> store.inTransaction(c -> {
      Certificates.insert(c, again);
      return null;
    }));
    assertTrue(e.isConstraintViolation(), e.getMessage());
    assertEquals(1, store.inTransaction(Certificates::count));
  }

  @Test
  void failedTransactionLeavesNothing() {
    assertThrows(IllegalStateException.class, () -> store.inTransaction(c -> {
      Certificates.insert(c, cert(BigInteger.TEN, "CN=x"));
      AuditLog.append(c, "tester", "cert.issue", "serial:a", "", Instant.now());
      throw new IllegalStateException("crash after insert");
    }));
    assertEquals(0, store.inTransaction(Certificates::count));
    assertEquals(0, store.inTransaction(c -> AuditLog.records(c, 0, Long.MAX_VALUE)).size());
  }

  @Test
  void restartKeepsEverything() throws Exception {
    Instant at = Instant.ofEpochMilli(1_700_000_000_000L);
    long[] requestId = new long[1];
    store.inTransaction(c -> {
      Certificates.insert(c, cert(BigInteger.valueOf(77), "CN=kept"));
      Certificates.revoke(c, ISSUER, BigInteger.valueOf(77), 1, at);
      requestId[0] = Requests.insertPending(c, "abcd", 1, "CN=r", "KeyRecoveryAgent", "CN=r", "cr", new byte[] {1},
          null, at);
      Secrets.insert(c, new SecretRecord("ref1", new byte[16], "00".repeat(32), "User", "CN=s", "CN=m", at,
          at.plusSeconds(60), null));
      Roles.grant(c, "CN=m", Roles.Role.MANAGER, "CN=a", at);
      AuditLog.append(c, "CN=a", "cert.revoke", "serial:4d", "reason=keyCompromise", at);
      return null;
    });
    store.close();
    store = reopen();
    CertRecord r = store.inTransaction(c -> Certificates.find(c, ISSUER, BigInteger.valueOf(77))).orElseThrow();
    assertEquals(CertRecord.Status.REVOKED, r.status());
    assertEquals(at, r.revokedAt());
    assertEquals(RequestRecord.Status.PENDING,
        store.inTransaction(c -> Requests.find(c, requestId[0])).orElseThrow().status());
    assertTrue(store.inTransaction(c -> Secrets.find(c, "ref1")).isPresent());
    assertEquals(List.of(Roles.Role.MANAGER), List.copyOf(store.inTransaction(c -> Roles.rolesOf(c, "CN=m"))));
    assertTrue(store.inTransaction(c -> AuditLog.verify(c, Map.of())).ok());
  }

  @Test
  void oneTimeSecretIsUsedOnce() {
    Instant at = Instant.now();
    store.inTransaction(c -> {
      Secrets.insert(c, new SecretRecord("ref2", new byte[16], "00".repeat(32), "User", "CN=s", "CN=m", at,
          at.plusSeconds(60), null));
      return null;
    });
    assertTrue((boolean) store.inTransaction(c -> Secrets.markUsed(c, "ref2", at)));
    assertFalse((boolean) store.inTransaction(c -> Secrets.markUsed(c, "ref2", at)));
  }

  @Test
  void pendingRequestIsDecidedOnce() {
    long id = store.inTransaction(c -> Requests.insertPending(c, "tx", 0, "CN=r", "KeyRecoveryAgent", "CN=r", "ir",
        new byte[] {1}, null, Instant.now()));
    assertTrue((boolean) store.inTransaction(c -> Requests.decide(c, id, RequestRecord.Status.DENIED, "CN=m", "no",
        null, Instant.now())));
    assertFalse((boolean) store.inTransaction(c -> Requests.decide(c, id, RequestRecord.Status.APPROVED, "CN=m2", null,
        "ab", Instant.now())));
    RequestRecord r = store.inTransaction(c -> Requests.find(c, id)).orElseThrow();
    assertEquals(RequestRecord.Status.DENIED, r.status());
    assertEquals("no", r.reason());
  }

  // ---------------------------------------------------------------- audit chain

  private KeyPair auditKey;

  private AuditLog.Signer signer() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    auditKey = g.generateKeyPair();
    return new AuditLog.Signer() {
      @Override
      public String keyLabel() {
        return "audit-test";
      }

      @Override
      public byte[] sign(byte[] data) throws Exception {
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(auditKey.getPrivate());
        s.update(data);
        return s.sign();
      }
    };
  }

  /** Ten records with a checkpoint after record 6; returns the verification of the untouched chain. */
  private AuditLog.Verification tenRecords() throws Exception {
    AuditLog.Signer signer = signer();
    for (int i = 1; i <= 10; i++) {
      int n = i;
      store.inTransaction(c -> AuditLog.append(c, "CN=actor", "cert.issue", "serial:" + n, "template=User",
          Instant.now()));
      if (i == 6) {
        store.inTransaction(c -> {
          try {
            return AuditLog.checkpoint(c, signer, Instant.now());
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
      }
    }
    return verify();
  }

  private AuditLog.Verification verify() {
    return store.inTransaction(c -> AuditLog.verify(c, Map.of("audit-test", auditKey.getPublic())));
  }

  private void sql(String sql) {
    store.inTransaction(c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.executeUpdate();
      }
      return null;
    });
  }

  @Test
  void auditVerifyPassesUntouched() throws Exception {
    AuditLog.Verification v = tenRecords();
    assertTrue(v.ok(), v.problems().toString());
    assertEquals(10, v.records());
    assertEquals(6, v.lastCheckpoint());
  }

  @Test
  void auditVerifyNamesEditedRecord() throws Exception {
    tenRecords();
    sql("UPDATE audit_record SET detail = 'template=Admin' WHERE seq = 3");
    AuditLog.Verification v = verify();
    assertEquals(List.of("record 3 (cert.issue) does not match its hash: edited"), v.problems());
  }

  @Test
  void auditVerifyNamesDeletedRecord() throws Exception {
    tenRecords();
    sql("DELETE FROM audit_record WHERE seq = 8");
    AuditLog.Verification v = verify();
    assertEquals(List.of("record 8 is missing: deleted"), v.problems());
  }

  @Test
  void auditVerifyNamesInsertedRecord() throws Exception {
    tenRecords();
    // shift records 8.. up by one and slip a forged record in at 8, chained to record 7
    sql("UPDATE audit_record SET seq = seq + 1000 WHERE seq >= 8");
    sql("UPDATE audit_record SET seq = seq - 999 WHERE seq >= 1000");
    String prev = store.inTransaction(c -> AuditLog.records(c, 7, 7)).get(0).hash();
    sql("INSERT INTO audit_record (seq, at, actor, action, target, detail, prev_hash, hash) VALUES "
        + "(8, 0, 'CN=forger', 'role.grant', 'CN=forger', 'role=ADMINISTRATOR', '" + prev + "', '" + "ab".repeat(32)
        + "')");
    AuditLog.Verification v = verify();
    assertTrue(v.problems().contains("record 8 (role.grant) does not match its hash: edited"), v.problems().toString());
    assertTrue(v.problems().contains("record 9 does not chain to record 8: a record was inserted or deleted before it"),
        v.problems().toString());
  }

  @Test
  void auditVerifyNamesTruncation() throws Exception {
    tenRecords();
    sql("DELETE FROM audit_record WHERE seq >= 5");
    AuditLog.Verification v = verify();
    assertEquals(List.of("records 5..10 are missing at the end: truncated (the head says 10)",
        "checkpoint at record 6 signs a record that is gone: truncated or deleted"), v.problems());
  }

  @Test
  void auditVerifyCatchesRewrittenChainAgainstCheckpoint() throws Exception {
    tenRecords();
    // a forger who recomputes every hash after editing record 2 still breaks the signed checkpoint
    List<AuditLog.Record> all = store.inTransaction(c -> AuditLog.records(c, 0, Long.MAX_VALUE));
    String prev = AuditLog.GENESIS;
    for (AuditLog.Record r : all) {
      String detail = r.seq() == 2 ? "template=Forged" : r.detail();
      String h = AuditLog.hash(r.seq(), r.at().toEpochMilli(), r.actor(), r.action(), r.target(), detail, prev);
      sql("UPDATE audit_record SET detail = '" + detail + "', prev_hash = '" + prev + "', hash = '" + h
          + "' WHERE seq = " + r.seq());
      prev = h;
    }
    String head = prev;
    sql("UPDATE audit_head SET hash = '" + head + "' WHERE id = 1");
    AuditLog.Verification v = verify();
    assertEquals(List.of("the chain up to record 6 differs from what its signed checkpoint says: records were rewritten"),
        v.problems());
  }
}
