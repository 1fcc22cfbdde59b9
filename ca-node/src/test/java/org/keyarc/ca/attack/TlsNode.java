package org.keyarc.ca.attack;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.issue.EnrollRequest;
import org.keyarc.ca.issue.Outcome;
import org.keyarc.ca.keys.CaInit;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.store.Role;
import org.keyarc.hsm.testing.SoftHsmFixture;

/**
 * A real node for the TLS attack tests: its own SoftHSM2 token and store under target/, listeners on free
 * loopback ports, TLS on its defaults unless a tweak changes them. The attacker's side of the tests uses only the
 * JDK, Bouncy Castle and OpenSSL; this class only sets the node up (a certificate and a role given by the local
 * operator, as an administrator would).
 */
final class TlsNode implements AutoCloseable {
  interface Tweak {
    void apply(NodeConfig cfg);
  }

  final SoftHsmFixture hsm;
  final NodeConfig cfg;
  final Path dir;
  final CaNode node;

  private TlsNode(SoftHsmFixture hsm, NodeConfig cfg, Path dir, CaNode node) {
    this.hsm = hsm;
    this.cfg = cfg;
    this.dir = dir;
    this.node = node;
  }

  static TlsNode start(Tweak tweak) throws Exception {
    SoftHsmFixture hsm = SoftHsmFixture.create("ca");
    Files.createDirectories(Path.of("target"));
    Path dir = Files.createTempDirectory(Path.of("target"), "tls-attack-").toAbsolutePath();
    NodeConfig cfg = NodeConfig.defaults(dir, SoftHsmFixture.library().toString(), hsm.pinFile("ca").toString());
    cfg.hsm.token = hsm.label("ca");
    cfg.binary.port = 0;
    cfg.http.port = 0;
    cfg.ca.subject = "CN=keyarc TLS Attack CA, O=keyarc";
    tweak.apply(cfg);
    cfg.validate();
    try (CaNode.Resources r = CaNode.open(cfg)) {
      CaInit.init(r.store(), r.token(), cfg.settings().ca(), false, null);
    }
    return new TlsNode(hsm, cfg, dir, CaNode.start(cfg));
  }

  X509CertificateHolder caCert() {
    return node.services().keys().caCert();
  }

  /** The CA certificate as a PEM file (for openssl). */
  Path caPem() throws Exception {
    Path f = dir.resolve("ca.crt");
    StringWriter w = new StringWriter();
    try (JcaPEMWriter p = new JcaPEMWriter(w)) {
      p.writeObject(caCert());
    }
    Files.writeString(f, w.toString());
    return f;
  }

  /** A key pair and a User certificate for {@code subject}, holding {@code role} (null for none). */
  Holder holder(String subject, Role role) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair kp = g.generateKeyPair();
    var s = node.services();
    X509CertificateHolder cert = ((Outcome.Issued) s.enrollment().enroll(new EnrollRequest(Identity.localOperator(),
        new EnrollRequest.ClientRef("attack-" + System.nanoTime(), 0, "cr"), s.templates().require("User"),
        new X500Name(subject), SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()), null, true, null)))
        .cert();
    if (role != null) {
      s.roles().grant(Identity.localOperator(), subject, role);
    }
    return new Holder(kp, cert);
  }

  record Holder(KeyPair keys, X509CertificateHolder cert) {}

  /** How many audit records of {@code action} ("secret.create") the store holds. */
  long audited(String action) throws Exception {
    return node.services().store().inTransaction(tx -> tx.audit().records(1, tx.audit().head().seq()).stream()
        .filter(r -> r.action().equals(action)).count());
  }

  @Override
  public void close() throws Exception {
    node.close();
    hsm.close();
  }
}
