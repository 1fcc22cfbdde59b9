package org.keyarc.ca.attack;

import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.CertRepMessage;
import org.bouncycastle.asn1.cmp.ErrorMsgContent;
import org.bouncycastle.asn1.cmp.GenMsgContent;
import org.bouncycastle.asn1.cmp.GenRepContent;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PBMParameter;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.crmf.CertReqMessages;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder;
import org.bouncycastle.cert.crmf.CertificateRequestMessageBuilder;
import org.bouncycastle.cert.crmf.PKIArchiveControlBuilder;
import org.bouncycastle.cert.crmf.PKMACBuilder;
import org.bouncycastle.cert.crmf.jcajce.JcePKMACValuesCalculator;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cms.CMSAlgorithm;
import org.bouncycastle.cms.jcajce.JceCMSContentEncryptorBuilder;
import org.bouncycastle.cms.jcajce.JceKeyTransRecipientInfoGenerator;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.store.Role;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The network attacker against the node's TLS, with clients that know nothing of keyarc's classes (the JDK's
 * HTTP client and sockets, Bouncy Castle's CMP builders, OpenSSL): what travels in clear cannot carry a secret or
 * an administrative answer, a client that does not trust this CA gets no connection (and no fallback to clear), and
 * only TLS 1.3 / TLS 1.2 with ECDHE and an AEAD cipher is spoken.
 */
class TlsAttacksE2eTest {
  /** keyarc's admin infoType (docs/protocol.md), written out as a foreign client would. */
  static final ASN1ObjectIdentifier ADMIN = new ASN1ObjectIdentifier("2.25.187625993275154177187960695602318336211.1");
  static final BouncyCastleProvider BC = new BouncyCastleProvider();
  static final SecureRandom RANDOM = new SecureRandom();

  static TlsNode ca;
  static TlsNode.Holder admin;

  @BeforeAll
  static void start() throws Exception {
    ca = TlsNode.start(cfg -> { });
    admin = ca.holder("CN=Attack Admin", Role.ADMINISTRATOR);
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  // ------------------------------------------------------------------ what travels in clear

  @Test
  void secretCreateOverPlainHttpIsRefusedAndCreatesNoSecret() throws Exception {
    long before = ca.audited("secret.create");
    PKIMessage answer = post(plainHttp(), secretCreate("CN=Victim One"));
    assertRefused(answer, 63, "need a TLS connection");
    assertEquals(before, ca.audited("secret.create"), "no secret was created");

    // the same request over HTTPS is answered: TLS is what was missing, nothing else
    PKIMessage overTls = post(https(), secretCreate("CN=Victim One"));
    assertEquals(PKIBody.TYPE_GEN_REP, overTls.getBody().getType(), text(overTls));
    String json = DERUTF8String.getInstance(GenRepContent.getInstance(overTls.getBody().getContent())
        .toInfoTypeAndValueArray()[0].getInfoValue()).getString();
    assertTrue(json.contains("\"secret\""), json);
    assertEquals(before + 1, ca.audited("secret.create"));
  }

  @Test
  void anyAdminRequestOverPlainHttpIsRefused() throws Exception {
    assertRefused(post(plainHttp(), adminGenm("{\"op\":\"whoami\"}")), 63, "need a TLS connection");
    assertRefused(post(plainHttp(), adminGenm("{\"op\":\"role.list\"}")), 63, "need a TLS connection");
    // public information stays available in clear (openssl cmp -cmd genm, CRLs, the CA certificate)
    PKIMessage caCerts = post(plainHttp(), unprotectedGenm(CMPObjectIdentifiers.id_it_caCerts));
    assertEquals(PKIBody.TYPE_GEN_REP, caCerts.getBody().getType(), text(caCerts));
    HttpResponse<byte[]> crt = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
        "http://127.0.0.1:" + ca.node.httpPort() + "/ca.crt")).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, crt.statusCode());
    assertEquals(ca.caCert(), new X509CertificateHolder(crt.body()));
  }

  @Test
  void archivalEnrollmentOverPlainHttpIsRefusedAndTheSecretIsKept() throws Exception {
    var s = ca.node.services().secrets().create(org.keyarc.ca.auth.Identity.localOperator(), "User",
        new X500Name("CN=Archie"));
    KeyPair kp = ecKey();
    X509Certificate exchange = new JcaX509CertificateConverter().getCertificate(ca.node.services().keys()
        .currentExchange(Instant.now()).orElseThrow().cert());
    PKIMessage refused = post(plainHttp(), macIr(s.reference(), s.secret(), "CN=Archie", kp, exchange));
    assertRefused(refused, 63, "archival enrollments need a TLS connection");
    // the refusal consumed nothing: the secret still enrolls (here over HTTPS, without archival)
    PKIMessage ok = post(https(), macIr(s.reference(), s.secret(), "CN=Archie", ecKey(), null));
    assertEquals(PKIBody.TYPE_INIT_REP, ok.getBody().getType(), text(ok));
    assertEquals(0, CertRepMessage.getInstance(ok.getBody().getContent()).getResponse()[0].getStatus()
        .getStatus().intValue(), "granted");
  }

  // ------------------------------------------------------------------ who may connect, and how

  @Test
  void aClientTrustingAnotherCaGetsNoConnectionAndNoFallback() throws Exception {
    SSLContext other = trusting(otherCa());
    try (SSLSocket s = (SSLSocket) other.getSocketFactory().createSocket("127.0.0.1", ca.node.binaryPort())) {
      s.setSoTimeout(30_000);
      assertThrows(SSLHandshakeException.class, s::startHandshake, "binary listener");
    }
    HttpClient http = HttpClient.newBuilder().sslContext(other).connectTimeout(Duration.ofSeconds(10)).build();
    IOException e = assertThrows(IOException.class, () -> http.send(cmpPost(https(), unprotectedGenm(
        CMPObjectIdentifiers.id_it_caCerts)), HttpResponse.BodyHandlers.ofByteArray()), "HTTPS listener");
    assertTrue(e instanceof SSLHandshakeException || e.getCause() instanceof SSLHandshakeException, e.toString());

    // no fallback: a client speaking plain frames to the TLS port gets no CMP answer, only a closed connection
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", ca.node.binaryPort()), 5_000);
      s.setSoTimeout(30_000);
      byte[] frame = frame(1, unprotectedGenm(CMPObjectIdentifiers.id_it_caCerts));
      s.getOutputStream().write(frame);
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      byte[] got = in.readNBytes(16);
      assertTrue(got.length < 16 || got[0] == 0x15, "no CMP frame comes back in clear (at most a TLS alert)");
    }
  }

  @Test
  void tls11AndSuitesWithoutAeadOrEcdheAreRefused() throws Exception {
    SSLContext trusting = trusting(ca.caCert());
    for (String suite : List.of("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        "TLS_RSA_WITH_AES_128_GCM_SHA256")) {
      for (int port : List.of(ca.node.binaryPort(), ca.node.httpsPort())) {
        try (SSLSocket s = (SSLSocket) trusting.getSocketFactory().createSocket("127.0.0.1", port)) {
          s.setSoTimeout(30_000);
          s.setEnabledProtocols(new String[] {"TLSv1.2"});
          s.setEnabledCipherSuites(new String[] {suite});
          assertThrows(SSLHandshakeException.class, s::startHandshake, suite + " on port " + port);
        }
      }
    }
    // OpenSSL, which can still offer TLS 1.1 (security level 0), is refused too; and a CBC suite in TLS 1.2
    String ca12 = ca.caPem().toString();
    for (int port : List.of(ca.node.binaryPort(), ca.node.httpsPort())) {
      Run old = sClient(port, ca12, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0");
      assertTrue(old.exit != 0 && !old.out.contains("Protocol version: TLSv1.1"), old.out);
      Run cbc = sClient(port, ca12, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA");
      assertTrue(cbc.exit != 0 && !cbc.out.contains("Ciphersuite: ECDHE-ECDSA-AES128"), cbc.out);
      Run tls12 = sClient(port, ca12, "-tls1_2");
      assertTrue(tls12.exit == 0 && tls12.out.contains("Protocol version: TLSv1.2")
          && tls12.out.contains("Ciphersuite: ECDHE-ECDSA-AES") && tls12.out.contains("GCM"), tls12.out);
    }
  }

  @Test
  void opensslSeesTls13OnTheBinaryPortWithACertificateForTheAddress() throws Exception {
    Run r = sClient(ca.node.binaryPort(), ca.caPem().toString());
    assertEquals(0, r.exit, r.out);
    assertTrue(r.out.contains("Protocol version: TLSv1.3"), r.out);
    assertTrue(r.out.contains("Verification: OK"), "the certificate chains to the CA and names 127.0.0.1: " + r.out);
    Run https = sClient(ca.node.httpsPort(), ca.caPem().toString());
    assertTrue(https.exit == 0 && https.out.contains("Protocol version: TLSv1.3"), https.out);
  }

  // ------------------------------------------------------------------ a foreign client's tools

  record Run(int exit, String out) {}

  static Run sClient(int port, String caFile, String... extra) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-brief", "-connect", "127.0.0.1:" + port,
        "-CAfile", caFile, "-verify_return_error", "-verify_ip", "127.0.0.1"));
    cmd.addAll(List.of(extra));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(new File("/dev/null")).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "openssl s_client finished");
    return new Run(p.exitValue(), out);
  }

  static URI plainHttp() {
    return URI.create("http://127.0.0.1:" + ca.node.httpPort() + "/");
  }

  static URI https() {
    return URI.create("https://127.0.0.1:" + ca.node.httpsPort() + "/");
  }

  static HttpRequest cmpPost(URI uri, byte[] der) {
    return HttpRequest.newBuilder(uri).header("Content-Type", "application/pkixcmp").timeout(Duration.ofSeconds(60))
        .POST(HttpRequest.BodyPublishers.ofByteArray(der)).build();
  }

  static PKIMessage post(URI uri, byte[] der) throws Exception {
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
    if (uri.getScheme().equals("https")) {
      b.sslContext(trusting(ca.caCert()));
    }
    HttpResponse<byte[]> r = b.build().send(cmpPost(uri, der), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, r.statusCode());
    return PKIMessage.getInstance(r.body());
  }

  static SSLContext trusting(X509CertificateHolder anchor) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setCertificateEntry("anchor", new JcaX509CertificateConverter().getCertificate(anchor));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  static X509CertificateHolder otherCa() throws Exception {
    KeyPair kp = ecKey();
    X500Name name = new X500Name("CN=keyarc Test CA, O=keyarc");
    return new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(RANDOM.nextLong() & Long.MAX_VALUE),
        Date.from(Instant.now().minusSeconds(60)), Date.from(Instant.now().plus(Duration.ofDays(1))), name,
        kp.getPublic()).addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()));
  }

  static KeyPair ecKey() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  static byte[] random(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  static ProtectedPKIMessageBuilder header(GeneralName sender, X509CertificateHolder caCert) {
    return new ProtectedPKIMessageBuilder(sender, new GeneralName(caCert.getSubject()))
        .setTransactionID(random(16)).setSenderNonce(random(16)).setMessageTime(new Date());
  }

  static byte[] secretCreate(String subject) throws Exception {
    return secretCreate(ca, admin, subject);
  }

  static byte[] secretCreate(TlsNode node, TlsNode.Holder who, String subject) throws Exception {
    return adminGenm(node, who, "{\"op\":\"secret.create\",\"template\":\"User\",\"subject\":\"" + subject + "\"}");
  }

  static byte[] adminGenm(String json) throws Exception {
    return adminGenm(ca, admin, json);
  }

  static byte[] adminGenm(TlsNode node, TlsNode.Holder who, String json) throws Exception {
    return header(new GeneralName(who.cert().getSubject()), node.caCert())
        .setBody(new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(new InfoTypeAndValue(ADMIN,
            new DERUTF8String(json)))))
        .addCMPCertificate(who.cert())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(who.keys().getPrivate()))
        .toASN1Structure().getEncoded();
  }

  static byte[] unprotectedGenm(ASN1ObjectIdentifier what) throws Exception {
    return unprotectedGenm(what, ca.caCert());
  }

  static byte[] unprotectedGenm(ASN1ObjectIdentifier what, X509CertificateHolder caCert) throws Exception {
    var h = new org.bouncycastle.asn1.cmp.PKIHeaderBuilder(2, new GeneralName(new X500Name("CN=anyone")),
        new GeneralName(caCert.getSubject())).setTransactionID(random(16)).setSenderNonce(random(16))
        .setMessageTime(new org.bouncycastle.asn1.ASN1GeneralizedTime(new Date())).build();
    return new PKIMessage(h, new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(new InfoTypeAndValue(what))))
        .getEncoded();
  }

  /**
   * An ir MAC-protected with a one-time secret (PBM as openssl cmp sends it: SHA-256 OWF, 500 iterations,
   * HMAC-SHA1), with the private key encrypted to {@code exchange} in PKIArchiveOptions when it is given.
   */
  static byte[] macIr(String reference, char[] secret, String subject, KeyPair kp, X509Certificate exchange)
      throws Exception {
    CertificateRequestMessageBuilder req = new CertificateRequestMessageBuilder(BigInteger.ZERO)
        .setSubject(new X500Name(subject)).setPublicKey(SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()))
        .setProofOfPossessionSigningKeySigner(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()));
    if (exchange != null) {
      req.addControl(new PKIArchiveControlBuilder(PrivateKeyInfo.getInstance(kp.getPrivate().getEncoded()),
          new GeneralName(new X500Name(subject)))
          .addRecipientGenerator(new JceKeyTransRecipientInfoGenerator(exchange).setProvider(BC))
          .build(new JceCMSContentEncryptorBuilder(CMSAlgorithm.AES128_CBC).setProvider(BC).build()));
    }
    PKMACBuilder mac = new PKMACBuilder(new JcePKMACValuesCalculator().setProvider(BC)).setParameters(
        new PBMParameter(random(16), new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256), 500,
            new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA1)));
    return header(new GeneralName(new X500Name(subject)), ca.caCert())
        .setSenderKID(reference.getBytes(StandardCharsets.UTF_8))
        .setBody(new PKIBody(PKIBody.TYPE_INIT_REQ, new CertReqMessages(req.build().toASN1Structure())))
        .build(mac.build(secret)).toASN1Structure().getEncoded();
  }

  /** The binary transport's frame, written byte by byte as docs/protocol.md specifies. */
  static byte[] frame(long requestId, byte[] message) {
    ByteBuffer b = ByteBuffer.allocate(16 + message.length);
    b.putInt(12 + message.length).put((byte) 1).put((byte) 0).putShort((short) 0).putLong(requestId).put(message);
    return b.array();
  }

  static byte[] exchangeFrame(Socket s, long requestId, byte[] message) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(frame(requestId, message));
    out.flush();
    DataInputStream in = new DataInputStream(s.getInputStream());
    int length = in.readInt();
    byte[] rest = new byte[length];
    in.readFully(rest);
    assertEquals(requestId, ByteBuffer.wrap(rest, 4, 8).getLong(), "the answer's request id");
    byte[] msg = new byte[length - 12];
    System.arraycopy(rest, 12, msg, 0, msg.length);
    return msg;
  }

  static String text(PKIMessage m) {
    if (m.getBody().getType() != PKIBody.TYPE_ERROR) {
      return "body " + m.getBody().getType();
    }
    var status = ErrorMsgContent.getInstance(m.getBody().getContent()).getPKIStatusInfo();
    return status.getStatusString() == null ? "(no text)" : status.getStatusString().getStringAtUTF8(0).getString();
  }

  static void assertRefused(PKIMessage m, int code, String words) {
    assertEquals(PKIBody.TYPE_ERROR, m.getBody().getType(), "refused, not answered: " + text(m));
    String t = text(m);
    assertTrue(t.contains("[keyarc " + code + "]") && t.contains(words), t);
  }
}
