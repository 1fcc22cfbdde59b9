package org.keyarc.ca.e2e;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.config.X500Subject;
import org.keyarc.ca.keys.CaInit;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.node.CaServices;
import org.keyarc.ca.store.Role;
import org.keyarc.hsm.testing.SoftHsmFixture;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.CmpTransport;
import org.keyarc.protocol.client.Protection;
import org.keyarc.protocol.tls.TlsPolicy;

/**
 * A real CA for end-to-end tests: its own SoftHSM2 token, an embedded store under target/, a node on
 * free loopback ports. Closing it stops the node and deletes the token. Public for the attack tests
 * ({@code org.keyarc.ca.attack}), whose clients know nothing of keyarc's client classes.
 */
public final class TestCa implements AutoCloseable {
  public final SoftHsmFixture hsm;
  public final NodeConfig cfg;
  public final Path dir;
  public CaNode node;

  private TestCa(SoftHsmFixture hsm, NodeConfig cfg, Path dir) {
    this.hsm = hsm;
    this.cfg = cfg;
    this.dir = dir;
  }

  public static TestCa start() throws Exception {
    return start(cfg -> { });
  }

  public interface Tweak {
    void apply(NodeConfig cfg) throws Exception;
  }

  public static TestCa start(Tweak tweak, String... moreTokens) throws Exception {
    return start(tweak, "CN=keyarc Test CA, O=keyarc", null, moreTokens);
  }

  /** A change to the configuration that needs the test's tokens (their labels and PIN files). */
  public interface HsmTweak {
    void apply(NodeConfig cfg, SoftHsmFixture hsm) throws Exception;
  }

  /** {@link #start(Tweak, String...)} with a tweak that sees the tokens. */
  public static TestCa startWithTokens(HsmTweak tweak, String... moreTokens) throws Exception {
    SoftHsmFixture[] made = new SoftHsmFixture[1];
    return start(cfg -> tweak.apply(cfg, made[0]), "CN=keyarc Test CA, O=keyarc", null, made, moreTokens);
  }

  /**
   * Tokens, folder and configuration of a test CA, then its init: self-signed, or under {@code parent} when that is
   * not null; then the node.
   */
  private static TestCa start(Tweak tweak, String subject, Parent parent, String... moreTokens) throws Exception {
    return start(tweak, subject, parent, new SoftHsmFixture[1], moreTokens);
  }

  private static TestCa start(Tweak tweak, String subject, Parent parent, SoftHsmFixture[] made,
      String... moreTokens) throws Exception {
    String[] tokens = new String[moreTokens.length + 1];
    tokens[0] = "ca";
    System.arraycopy(moreTokens, 0, tokens, 1, moreTokens.length);
    SoftHsmFixture hsm = SoftHsmFixture.create(tokens);
    made[0] = hsm;
    Files.createDirectories(Path.of("target"));
    Path dir = Files.createTempDirectory(Path.of("target"), "ca-");
    NodeConfig cfg = NodeConfig.defaults(dir, SoftHsmFixture.library().toString(), hsm.pinFile("ca").toString());
    cfg.hsm.token = hsm.label("ca");
    cfg.binary.port = 0;
    cfg.http.port = 0;
    cfg.timers.pollIntervalSeconds = 1;
    cfg.ca.subject = subject;
    tweak.apply(cfg);
    cfg.validate();
    try (CaNode.Resources r = CaNode.open(cfg)) {
      CaInit.Result res = CaInit.init(r.store(), r.token(), r.archival(), cfg.settings().ca(), parent != null, null);
      if (parent != null) {
        List<X509CertificateHolder> signed = parent.sign(res.csr());
        CaInit.importCertificate(r.store(), r.token(), r.archival(), cfg.settings().ca(), signed.get(0),
            signed.subList(1, signed.size()));
      }
    }
    TestCa ca = new TestCa(hsm, cfg, dir);
    ca.node = CaNode.start(cfg);
    return ca;
  }

  /** A parent CA outside keyarc: it signs the CA's PKCS#10 and gives the chain above the certificate. */
  public interface Parent {
    /** The CA certificate for {@code csr}, then the parents' certificates above it (issuer first). */
    List<X509CertificateHolder> sign(org.bouncycastle.pkcs.PKCS10CertificationRequest csr) throws Exception;
  }

  /**
   * A CA initialised under an external parent ({@code ca init --external-parent}, then {@code ca import-cert
   * --chain}): {@code parent} signs its request; the node starts once the certificate is imported.
   */
  public static TestCa startUnderParent(Tweak tweak, Parent parent, String... moreTokens) throws Exception {
    return start(tweak, "CN=keyarc Issuing CA, O=keyarc", parent, moreTokens);
  }

  public CaServices services() {
    return node.services();
  }

  public X509CertificateHolder caCert() {
    return services().keys().caCert();
  }

  /** The binary listener, over TLS (the node's default). */
  public String binaryUrl() {
    return "tls://127.0.0.1:" + node.binaryPort();
  }

  /** The HTTPS listener. */
  public String httpsUrl() {
    return "https://127.0.0.1:" + node.httpsPort() + "/";
  }

  /** The plain HTTP listener (openssl cmp, CRLs; no secrets, admin answers or archival). */
  public String httpUrl() {
    return "http://127.0.0.1:" + node.httpPort() + "/";
  }

  /**
   * The sum of the samples of {@code name} (Prometheus form) on the node's /metrics whose labels include {@code
   * label} (e.g. {@code caught="in-flight"}; null: all), as an operator's scraper reads them.
   */
  public double metric(String name, String label) throws Exception {
    String text = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create(httpUrl() + "metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    double sum = 0;
    for (String line : text.split("\n")) {
      if ((line.startsWith(name + "{") || line.startsWith(name + " ")) && (label == null || line.contains(label))) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  /** A TLS client context whose only trust anchor is this CA's certificate. */
  public SSLContext tls() throws Exception {
    return TlsPolicy.clientContext(caCert(), null);
  }

  /** A transport to {@code url}, TLS ones trusting this CA only. */
  public CmpTransport transport(String url) throws Exception {
    return CmpTransport.connect(url, tls());
  }

  /** A one-time secret made by the local operator. */
  public SecretService.NewSecret secret(String template, String subject) throws Exception {
    return services().secrets().create(Identity.localOperator(), template, X500Subject.parse(subject));
  }

  public CmpClient macClient(String url, SecretService.NewSecret s) throws Exception {
    return new CmpClient(transport(url), new Protection.Mac(s.reference(), s.secret(), false), caCert());
  }

  public CmpClient signedClient(String url, Enrollee e) throws Exception {
    return new CmpClient(transport(url), new Protection.Signature(e.cert, e.keys.getPrivate(), null), caCert());
  }

  /** A key pair and the certificate the CA issued for it. */
  public record Enrollee(KeyPair keys, X509CertificateHolder cert) {
    public BigInteger serial() {
      return cert.getSerialNumber();
    }
  }

  /** Enrolls {@code subject} under User with a fresh secret over the binary transport. */
  public Enrollee enrollUser(String subject) throws Exception {
    KeyPair kp = ecKey();
    try (CmpClient c = macClient(binaryUrl(), secret("User", subject))) {
      CmpClient.Result r = c.enroll(PKIBody.TYPE_INIT_REQ, new X500Name(subject), spki(kp), pop(kp), null, false,
          null);
      return new Enrollee(kp, r.enrolled().cert());
    }
  }

  /** An enrolled identity holding {@code role}. */
  public Enrollee withRole(String subject, Role role) throws Exception {
    Enrollee e = enrollUser(subject);
    services().roles().grant(Identity.localOperator(), subject, role);
    return e;
  }

  public static KeyPair ecKey() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  public static KeyPair rsaKey(int bits) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(bits);
    return g.generateKeyPair();
  }

  public static SubjectPublicKeyInfo spki(KeyPair kp) {
    return SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded());
  }

  public static ContentSigner pop(KeyPair kp) throws Exception {
    return new JcaContentSignerBuilder(kp.getPublic().getAlgorithm().equals("RSA") ? "SHA256withRSA"
        : "SHA256withECDSA").build(kp.getPrivate());
  }

  @Override
  public void close() throws Exception {
    if (node != null) {
      node.close();
    }
    hsm.close();
  }
}
