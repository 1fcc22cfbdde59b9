package org.keyarc.ca.e2e;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.net.Socket;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.bouncycastle.asn1.cmp.ErrorMsgContent;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcCmp;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.CmpClientException;
import org.keyarc.protocol.client.CmpTransport;
import org.keyarc.protocol.client.Protection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input over real sockets: each gets a specific error, nothing is persisted, the node keeps going.
 */
class BadInputE2eTest {
  static TestCa ca;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> {
      cfg.binary.maxFrameBytes = 4096;
      cfg.binary.idleTimeoutSeconds = 1;
    });
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  /** Certificates, pending requests and audit records: none may appear after a refused request. */
  private static long[] state() throws Exception {
    return ca.services().store().inTransaction(tx -> new long[] {tx.certificates().count(),
        tx.requests().list(null, 100_000).size(),
        tx.audit().records(0, Long.MAX_VALUE).size()});
  }

  private static void assertRefused(ErrorCode expected, String messagePart, ThrowingRunnable r) throws Exception {
    assertRefused(expected, messagePart, null, r);
  }

  /**
   * Refused with {@code expected}, nothing stored; an authentication failure ({@code audited} not null) leaves
   * exactly one audit record, of that action, and nothing else.
   */
  private static void assertRefused(ErrorCode expected, String messagePart, AuditAction audited, ThrowingRunnable r)
      throws Exception {
    long[] before = state();
    CmpClientException e = assertThrows(CmpClientException.class, r::run);
    assertEquals(expected, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains(messagePart), "message '" + e.getMessage() + "' should say '" + messagePart
        + "'");
    long[] after = state();
    assertEquals(before[0], after[0], "no certificate stored");
    assertEquals(before[1], after[1], "no request stored");
    if (audited == null) {
      assertEquals(before[2], after[2], "no audit record written");
    } else {
      List<AuditStore.Row> written = ca.services().store().inTransaction(tx -> tx.audit().records(before[2] + 1,
          Long.MAX_VALUE));
      assertEquals(1, written.size(), "one audit record: " + written);
      assertEquals(audited.id(), written.get(0).action());
      assertTrue(written.get(0).detail().contains("peer=127.0.0.1"), written.get(0).detail());
    }
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  private static CmpClient.Result ir(CmpClient c, String subject, KeyPair kp, String template) throws Exception {
    return c.enroll(PKIBody.TYPE_INIT_REQ, new X500Name(subject), TestCa.spki(kp), TestCa.pop(kp), template, false,
        null);
  }

  @Test
  void wrongMac() throws Exception {
    SecretService.NewSecret s = ca.secret("User", "CN=Mallory");
    char[] wrong = "not-the-secret".toCharArray();
    try (CmpClient c = new CmpClient(ca.transport(ca.binaryUrl()),
        new Protection.Mac(s.reference(), wrong, false), ca.caCert())) {
      // audited with the reference and the peer, and counted against the secret (since the MAC check, issue 12)
      assertRefused(ErrorCode.BAD_MESSAGE_CHECK, "MAC does not match", AuditAction.AUTH_MAC_FAILED,
          () -> ir(c, "CN=Mallory", TestCa.ecKey(), null));
    }
  }

  @Test
  void reusedOneTimeSecret() throws Exception {
    SecretService.NewSecret s = ca.secret("User", "CN=Once");
    try (CmpClient c = ca.macClient(ca.binaryUrl(), s)) {
      ir(c, "CN=Once", TestCa.ecKey(), null);
      assertRefused(ErrorCode.SECRET_INVALID, "already used", AuditAction.AUTH_SECRET_REFUSED,
          () -> ir(c, "CN=Once", TestCa.ecKey(), null));
    }
  }

  @Test
  void unknownTemplate() throws Exception {
    TestCa.Enrollee u = ca.enrollUser("CN=Ursula");
    KeyPair kp = TestCa.ecKey();
    try (CmpClient c = ca.signedClient(ca.httpUrl(), u)) {
      assertRefused(ErrorCode.UNKNOWN_TEMPLATE, "unknown template 'WebServer'", () -> c.enroll(PKIBody.TYPE_CERT_REQ,
          new X500Name("CN=Ursula"), TestCa.spki(kp), TestCa.pop(kp), "WebServer", false, null));
    }
    KeyPair other = TestCa.ecKey();
    try (CmpClient c = ca.signedClient(ca.httpUrl(), u)) {
      assertRefused(ErrorCode.BAD_POP, "proof of possession does not verify", () -> c.enroll(PKIBody.TYPE_CERT_REQ,
          new X500Name("CN=Ursula"), TestCa.spki(kp), TestCa.pop(other), null, false, null));
    }
  }

  @Test
  void keyTooSmall() throws Exception {
    try (CmpClient c = ca.macClient(ca.binaryUrl(), ca.secret("User", "CN=Small"))) {
      KeyPair rsa1024 = TestCa.rsaKey(1024);
      assertRefused(ErrorCode.KEY_NOT_ALLOWED, "RSA key of 1024 bits is too small", () -> ir(c, "CN=Small", rsa1024,
          null));
    }
  }

  @Test
  void disallowedAlgorithm() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
    KeyPair ed = g.generateKeyPair();
    try (CmpClient c = ca.macClient(ca.binaryUrl(), ca.secret("User", "CN=Edward"))) {
      assertRefused(ErrorCode.KEY_NOT_ALLOWED, "does not accept 1.3.101.112 keys", () -> c.enroll(
          PKIBody.TYPE_INIT_REQ, new X500Name("CN=Edward"), TestCa.spki(ed),
          new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("Ed25519").build(ed.getPrivate()), null,
          false, null));
    }
    // the Key Recovery Agent template takes RSA only: an EC agent key is refused before it is held
    try (CmpClient c = ca.macClient(ca.binaryUrl(), ca.secret("KeyRecoveryAgent", "CN=Ec Agent"))) {
      KeyPair ec = TestCa.ecKey();
      assertRefused(ErrorCode.KEY_NOT_ALLOWED, "does not accept EC keys", () -> c.enroll(PKIBody.TYPE_CERT_REQ,
          new X500Name("CN=Ec Agent"), TestCa.spki(ec), TestCa.pop(ec), "KeyRecoveryAgent", false, null));
    }
  }

  @Test
  void signatureFromUnknownCertificate() throws Exception {
    KeyPair kp = TestCa.ecKey();
    X509CertificateHolder selfMade = new JcaX509v3CertificateBuilder(ca.caCert().getSubject(), BigInteger.TWO,
        new Date(), Date.from(Instant.now().plusSeconds(3600)), new X500Name("CN=Forger"), kp.getPublic())
        .build(TestCa.pop(kp));
    try (CmpClient c = new CmpClient(ca.transport(ca.binaryUrl()),
        new Protection.Signature(selfMade, kp.getPrivate(), null), ca.caCert())) {
      assertRefused(ErrorCode.UNKNOWN_SIGNER, "was not issued by this CA", AuditAction.AUTH_SIGNATURE_FAILED,
          () -> c.enroll(PKIBody.TYPE_CERT_REQ, new X500Name("CN=Forger"), TestCa.spki(kp), TestCa.pop(kp), null,
              false, null));
    }
  }

  @Test
  void subjectOtherThanTheSecrets() throws Exception {
    try (CmpClient c = ca.macClient(ca.binaryUrl(), ca.secret("User", "CN=Right"))) {
      assertRefused(ErrorCode.BAD_SUBJECT, "the one-time secret is for subject CN=Right", () -> ir(c, "CN=Wrong",
          TestCa.ecKey(), null));
    }
  }

  // ---------------------------------------------------------------- the frame layer, byte by byte

  /** A raw connection to the binary listener, over TLS (the listener's default), to write frames byte by byte. */
  private static Socket socket() throws Exception {
    return socket(ca);
  }

  /** A raw TLS connection to {@code on}'s binary listener. */
  static Socket socket(TestCa on) throws Exception {
    javax.net.ssl.SSLContext ctx = on.tls();
    javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1",
        on.node.binaryPort());
    s.setSSLParameters(org.keyarc.protocol.tls.TlsPolicy.clientParameters(ctx));
    s.setSoTimeout(10_000);
    s.startHandshake();
    return s;
  }

  static void frame(DataOutputStream out, long id, byte[] body) throws IOException {
    out.writeInt(12 + body.length);
    out.writeByte(1);
    out.writeByte(0);
    out.writeShort(0);
    out.writeLong(id);
    out.write(body);
    out.flush();
  }

  /** Reads one answer frame; returns its id and the error's keyarc code. */
  static Object[] readError(DataInputStream in) throws IOException {
    int length = in.readInt();
    in.readInt();
    long id = in.readLong();
    byte[] der = new byte[length - 12];
    in.readFully(der);
    PKIMessage m = PKIMessage.getInstance(der);
    assertEquals(PKIBody.TYPE_ERROR, m.getBody().getType());
    String text = KeyarcCmp.text(ErrorMsgContent.getInstance(m.getBody().getContent()).getPKIStatusInfo());
    return new Object[] {id, KeyarcCmp.codeOf(text), text};
  }

  @Test
  void garbageDerIsAnsweredAndTheConnectionStaysUsable() throws Exception {
    long[] before = state();
    try (Socket s = socket()) {
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      DataInputStream in = new DataInputStream(s.getInputStream());
      byte[] garbage = new byte[200];
      ThreadLocalRandom.current().nextBytes(garbage);
      frame(out, 41, garbage);
      Object[] err = readError(in);
      assertEquals(41L, err[0], "answered on the same request id");
      assertEquals(ErrorCode.BAD_MESSAGE, err[1], (String) err[2]);
      frame(out, 42, new byte[] {0x30, 0x03, 0x02, 0x01, 0x05}); // DER, but no PKIMessage
      Object[] err2 = readError(in);
      assertEquals(42L, err2[0]);
      assertEquals(ErrorCode.BAD_MESSAGE, err2[1]);
    }
    long[] after = state();
    assertEquals(before[0], after[0]);
    assertEquals(before[2], after[2]);
  }

  @Test
  void frameOverTheLimitIsRefusedAndTheConnectionClosed() throws Exception {
    try (Socket s = socket()) {
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      DataInputStream in = new DataInputStream(s.getInputStream());
      out.writeInt(4097);
      out.write(new byte[64]);
      out.flush();
      Object[] err = readError(in);
      assertEquals(0L, err[0]);
      assertEquals(ErrorCode.MESSAGE_TOO_LARGE, err[1]);
      assertTrue(((String) err[2]).contains("over the limit of 4096"), (String) err[2]);
      assertEquals(-1, in.read(), "the node closed the connection");
    }
  }

  @Test
  void truncatedFrameIsReportedWhenThePeerGoesQuiet() throws Exception {
    try (Socket s = socket()) {
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      DataInputStream in = new DataInputStream(s.getInputStream());
      out.writeInt(12 + 100);
      out.write(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
      out.write(new byte[50]);
      out.flush();
      Object[] err = readError(in);
      assertEquals(ErrorCode.BAD_MESSAGE, err[1]);
      assertTrue(((String) err[2]).contains("truncated frame"), (String) err[2]);
      assertEquals(-1, in.read(), "the node closed the connection");
    }
  }

  @Test
  void badHeaderIsRefused() throws Exception {
    try (Socket s = socket()) {
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      DataInputStream in = new DataInputStream(s.getInputStream());
      out.writeInt(12 + 2);
      out.write(new byte[] {9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0x30, 0x00});
      out.flush();
      Object[] err = readError(in);
      assertEquals(5L, err[0]);
      assertTrue(((String) err[2]).contains("frame version 9 is not supported"), (String) err[2]);
      assertEquals(-1, in.read());
    }
  }
}
