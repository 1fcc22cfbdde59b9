package org.keyarc.ca.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.cmp.GenMsgContent;
import org.bouncycastle.asn1.cmp.GenRepContent;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIFailureInfo;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.cmp.PBMParameter;
import org.bouncycastle.asn1.iana.IANAObjectIdentifiers;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.crmf.PKMACBuilder;
import org.bouncycastle.cert.crmf.jcajce.JcePKMACValuesCalculator;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.e2e.TestCa;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.jdbc.JdbcStore;

/**
 * Replay and freshness, tried from outside: an eavesdropper who captured an administrator's signed genm
 * {@code secret.create} sends the same bytes again (the old node answered each with a fresh secret, in clear);
 * requests without a messageTime, or with an old one. Each is refused before any work; the replay cache is in
 * the store, so it holds across a restart. Administrative requests go over TLS (the node refuses their answers in
 * clear); the replayer is one who got the bytes anyway (a TLS-terminating proxy, a log, the sender's machine).
 */
class ReplayE2eTest {
  /** keyarc's administrative infoType (docs/protocol.md). */
  private static final ASN1ObjectIdentifier ADMIN = new ASN1ObjectIdentifier(
      "2.25.187625993275154177187960695602318336211.1");
  private static final String ADMIN_DN = "CN=Replay Admin, O=keyarc";
  static TestCa ca;
  static TestCa.Enrollee admin;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> cfg.limits.failuresPerPeerPerMinute = 10_000);
    admin = ca.withRole(ADMIN_DN, Role.ADMINISTRATOR);
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  /** The administrator's own request, as it went over the wire: a signed genm asking for a new secret. */
  private static byte[] secretCreate(String subject, byte[] transactionId, Date messageTime) throws Exception {
    String json = "{\"op\":\"secret.create\",\"template\":\"User\",\"subject\":\"" + subject + "\"}";
    return Attacker.header(admin.cert().getSubject(), ca.caCert().getSubject(), transactionId, messageTime)
        .setBody(new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(new InfoTypeAndValue(ADMIN,
            new DERUTF8String(json)))))
        .addCMPCertificate(admin.cert())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(admin.keys().getPrivate()))
        .toASN1Structure().getEncoded();
  }

  /**
   * POSTs to the node's HTTPS listener, trusting the CA certificate: administrative answers are refused in clear
   * (TLS_REQUIRED), and the eavesdropper here is one who got the request's bytes anyway.
   */
  private static PKIMessage https(byte[] der) throws Exception {
    return Attacker.post(ca.httpsUrl(), der, ca.caCert());
  }

  private static long secretsCreatedByAdmin() throws Exception {
    try (Connection c = ((JdbcStore) ca.services().store()).dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM enrollment_secret WHERE created_by = ?")) {
      ps.setString(1, admin.cert().getSubject().toString());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static long auditHead() throws Exception {
    return ca.services().store().inTransaction(tx -> tx.audit().head().seq());
  }

  private static List<AuditStore.Row> auditSince(long seq) throws Exception {
    return ca.services().store().inTransaction(tx -> tx.audit().records(seq + 1, Long.MAX_VALUE));
  }

  @Test
  void aReplayedSignedSecretCreateIsRefusedAndOnlyOneSecretExists() throws Exception {
    long before = secretsCreatedByAdmin();
    byte[] captured = secretCreate("CN=Replayed, O=keyarc", Attacker.random(16), new Date());
    PKIMessage first = https(captured);
    assertEquals(PKIBody.TYPE_GEN_REP, first.getBody().getType(), Attacker.errorText(first));
    String json = DERUTF8String.getInstance(GenRepContent.getInstance(first.getBody().getContent())
        .toInfoTypeAndValueArray()[0].getInfoValue()).getString();
    assertTrue(json.contains("\"reference\""), json);
    long seq = auditHead();
    // the same bytes again, over HTTPS and over the binary transport (TLS: administrative answers need it), and
    // over plain HTTP: the replay is refused before the request is read as an administrative one
    for (PKIMessage again : List.of(https(captured),
        Attacker.frame(ca.node.binaryPort(), captured, ca.caCert()), Attacker.post(ca.httpUrl(), captured))) {
      assertEquals(PKIBody.TYPE_ERROR, again.getBody().getType());
      assertEquals(59, Attacker.keyarcCode(again), Attacker.errorText(again));
      assertEquals(PKIFailureInfo.badSenderNonce, Attacker.failInfo(again));
      assertTrue(Attacker.errorText(again).contains("message replayed"), Attacker.errorText(again));
      assertTrue(Attacker.unprotected(again), "nothing is signed for the replayer");
    }
    assertEquals(before + 1, secretsCreatedByAdmin(), "only the first request made a secret");
    List<AuditStore.Row> audit = auditSince(seq);
    assertEquals(List.of("auth.replay", "auth.replay", "auth.replay"), audit.stream().map(AuditStore.Row::action).toList());
    assertTrue(audit.get(0).detail().contains("peer=127.0.0.1"), audit.get(0).detail());
    assertEquals(admin.cert().getSubject().toString(), audit.get(0).target());

    // the cache is in the store: a restarted node still knows the message
    ca.node.close();
    ca.node = CaNode.start(ca.cfg);
    PKIMessage afterRestart = https(captured);
    assertEquals(59, Attacker.keyarcCode(afterRestart), Attacker.errorText(afterRestart));
    assertEquals(before + 1, secretsCreatedByAdmin());
  }

  @Test
  void theSameTransactionWithAFreshNonceIsNoReplay() throws Exception {
    // certConf and pollReq continue a transaction with its transactionID and a fresh senderNonce: the cache is
    // keyed on the pair, so they pass
    byte[] tx = Attacker.random(16);
    long before = secretsCreatedByAdmin();
    assertEquals(PKIBody.TYPE_GEN_REP, https(secretCreate("CN=Fresh One, O=keyarc", tx,
        new Date())).getBody().getType());
    assertEquals(PKIBody.TYPE_GEN_REP, https(secretCreate("CN=Fresh Two, O=keyarc", tx,
        new Date())).getBody().getType());
    assertEquals(before + 2, secretsCreatedByAdmin());
  }

  @Test
  void aProtectedRequestWithoutMessageTimeIsRefused() throws Exception {
    long before = secretsCreatedByAdmin();
    PKIMessage signed = https(secretCreate("CN=Timeless, O=keyarc", Attacker.random(16), null));
    assertEquals(48, Attacker.keyarcCode(signed), Attacker.errorText(signed));
    assertEquals(PKIFailureInfo.badTime, Attacker.failInfo(signed));
    assertTrue(Attacker.errorText(signed).contains("must carry a messageTime"), Attacker.errorText(signed));
    assertTrue(Attacker.unprotected(signed));
    assertEquals(before, secretsCreatedByAdmin());

    // a MAC-protected ir without messageTime: refused, and the secret stays unused
    SecretService.NewSecret s = ca.secret("User", "CN=No Clock, O=keyarc");
    byte[] ir = Attacker.header(new X500Name(""), ca.caCert().getSubject(), Attacker.random(16), null)
        .setSenderKID(s.reference().getBytes(StandardCharsets.UTF_8)).setBody(Attacker.ir("CN=No Clock, O=keyarc"))
        .build(new PKMACBuilder(new JcePKMACValuesCalculator().setProvider(new BouncyCastleProvider()))
            .setParameters(new PBMParameter(Attacker.random(16), new AlgorithmIdentifier(
                NISTObjectIdentifiers.id_sha256), 500, new AlgorithmIdentifier(IANAObjectIdentifiers.hmacSHA1)))
            .build(s.secret()))
        .toASN1Structure().getEncoded();
    PKIMessage mac = Attacker.post(ca.httpUrl(), ir);
    assertEquals(48, Attacker.keyarcCode(mac), Attacker.errorText(mac));
    assertEquals(null, ca.services().store().inTransaction(tx -> tx.secrets().find(s.reference())).orElseThrow()
        .usedAt(), "the secret is still unused");
  }

  @Test
  void anOldMessageTimeIsRefused() throws Exception {
    long before = secretsCreatedByAdmin();
    // an hour old: outside timers.messageTimeSkewSeconds (600), so also outside what the replay cache keeps
    PKIMessage old = https(secretCreate("CN=Stale, O=keyarc", Attacker.random(16),
        Date.from(Instant.now().minusSeconds(3600))));
    assertEquals(48, Attacker.keyarcCode(old), Attacker.errorText(old));
    assertTrue(Attacker.errorText(old).contains("away from the CA's clock"), Attacker.errorText(old));
    assertEquals(before, secretsCreatedByAdmin());
  }

  private static long certificatesOf(String subject) {
    return org.keyarc.ca.store.DirectSql.run(ca.services().store(), c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM certificate WHERE subject = ?")) {
        ps.setString(1, subject);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getLong(1);
        }
      }
    });
  }

  /**
   * A signed ir for one certificate keeps its replay record in the unit of work that issues it (one commit, not
   * two). Eight copies of one captured message sent at once, each on its own connection: whichever copies get past
   * the first look at the replay records race to the store, and exactly one certificate is issued; every other copy
   * is refused as a replay (audited), and nothing of it is stored. Sent again afterwards, it is refused at once.
   */
  @Test
  void copiesOfOneSignedIrSentAtOnceIssueOneCertificate() throws Exception {
    String subject = "CN=Replay Racer";
    TestCa.Enrollee user = ca.enrollUser(subject);
    long before = certificatesOf(subject);
    byte[] captured = Attacker.header(user.cert().getSubject(), ca.caCert().getSubject())
        .setBody(Attacker.ir(subject)).addCMPCertificate(user.cert())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(user.keys().getPrivate()))
        .toASN1Structure().getEncoded();
    long seq = auditHead();
    double atCommit = ca.metric("keyarc_cmp_replays_total", "caught=\"commit\"");
    double caught = ca.metric("keyarc_cmp_replays_total", null);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    List<java.util.concurrent.Future<PKIMessage>> sent = new java.util.ArrayList<>();
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    for (int i = 0; i < 8; i++) {
      sent.add(pool.submit(() -> {
        go.await();
        return Attacker.post(ca.httpUrl(), captured);
      }));
    }
    go.countDown();
    int granted = 0;
    int replayed = 0;
    for (java.util.concurrent.Future<PKIMessage> f : sent) {
      PKIMessage a = f.get(60, java.util.concurrent.TimeUnit.SECONDS);
      if (a.getBody().getType() == PKIBody.TYPE_INIT_REP) {
        granted++;
      } else {
        assertEquals(59, Attacker.keyarcCode(a), Attacker.errorText(a));
        replayed++;
      }
    }
    pool.shutdown();
    assertEquals(1, granted, "one copy is issued");
    assertEquals(7, replayed);
    assertEquals(before + 1, certificatesOf(subject), "one certificate stored");
    assertEquals(7, auditSince(seq).stream().filter(r -> r.action().equals("auth.replay")).count());
    assertEquals(caught + 7, ca.metric("keyarc_cmp_replays_total", null), "seven replays counted");
    // every copy was caught before its own proof-of-possession check and HSM signature: none only at the commit
    assertEquals(atCommit, ca.metric("keyarc_cmp_replays_total", "caught=\"commit\""));
    PKIMessage later = Attacker.post(ca.httpUrl(), captured);
    assertEquals(59, Attacker.keyarcCode(later), Attacker.errorText(later));
    assertEquals(before + 1, certificatesOf(subject));
  }
  /**
   * A signed ir for one certificate whose body breaks inside the node's own reading (a certReqId beyond 64 bits) was
   * answered as malformed without its (transactionID, senderNonce) being remembered: the same bytes could be sent
   * again and again, each time verified anew. Its pair is remembered like any other's: the second copy is a replay.
   */
  @Test
  void aMalformedSignedIrIsRememberedToo() throws Exception {
    String subject = "CN=Replay Malformed";
    TestCa.Enrollee user = ca.enrollUser(subject);
    java.security.KeyPair kp = Attacker.ecKey();
    var req = new org.bouncycastle.cert.crmf.CertificateRequestMessageBuilder(java.math.BigInteger.ONE.shiftLeft(70))
        .setSubject(new org.bouncycastle.asn1.x500.X500Name(subject))
        .setPublicKey(org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()))
        .setProofOfPossessionSigningKeySigner(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()))
        .build();
    byte[] captured = Attacker.header(user.cert().getSubject(), ca.caCert().getSubject())
        .setBody(Attacker.ir(new org.bouncycastle.asn1.crmf.CertReqMessages(req.toASN1Structure())))
        .addCMPCertificate(user.cert())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(user.keys().getPrivate()))
        .toASN1Structure().getEncoded();
    PKIMessage first = Attacker.post(ca.httpUrl(), captured);
    assertEquals(PKIBody.TYPE_ERROR, first.getBody().getType());
    assertTrue(Attacker.keyarcCode(first) != 59, () -> "the first copy is refused for what it is: "
        + Attacker.errorText(first));
    PKIMessage again = Attacker.post(ca.httpUrl(), captured);
    assertEquals(59, Attacker.keyarcCode(again), Attacker.errorText(again));
  }
}
