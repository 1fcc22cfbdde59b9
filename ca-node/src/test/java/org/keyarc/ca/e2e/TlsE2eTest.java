package org.keyarc.ca.e2e;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.issue.EnrollRequest;
import org.keyarc.ca.issue.Outcome;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.node.CaServices;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.client.BinaryTransport;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.CmpClientException;
import org.keyarc.protocol.client.Protection;
import org.keyarc.protocol.frame.CmpFrame;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The binary transport over TLS with a server certificate from PEM files (binary.tls.certFile/keyFile, here
 * issued on a template of the configuration for CN=localhost, so the client dials "localhost": it checks the
 * name), and a TLS client certificate issued by this CA is an identity on the node.
 */
class TlsE2eTest {

  @Test
  void tlsClientCertificateIsAnIdentity() throws Exception {
    try (TestCa ca = TestCa.start(cfg -> {
      NodeConfig.TemplateCfg t = new NodeConfig.TemplateCfg();
      t.name = "TlsServer";
      t.extendedKeyUsage = List.of("serverAuth");
      t.validityDays = 30;
      cfg.templates.add(t);
    })) {
      CaServices s = ca.services();
      KeyPair serverKey = TestCa.ecKey();
      X509CertificateHolder serverCert = ((Outcome.Issued) s.enrollment().enroll(new EnrollRequest(Identity.localOperator(), new EnrollRequest.ClientRef("tls-server", 0, "cr"), s.templates().require("TlsServer"), new X500Name("CN=localhost"),
          TestCa.spki(serverKey), null, true, null))).cert();
      Path certFile = ca.dir.resolve("tls.crt");
      Path keyFile = ca.dir.resolve("tls.key");
      Files.writeString(certFile, pem(serverCert));
      Files.writeString(keyFile, pem(new JcaPKCS8Generator(serverKey.getPrivate(), null).generate()));
      // a private key file others can read stops the node (StoreLockdownE2eTest): written 0600 like an operator would
      Files.setPosixFilePermissions(keyFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
      TestCa.Enrollee user = ca.enrollUser("CN=Tls User");
      s.roles().grant(Identity.localOperator(), "CN=Tls User", org.keyarc.ca.store.Role.AUDITOR);

      ca.node.close();
      ca.cfg.binary.tls = new NodeConfig.Tls();
      ca.cfg.binary.tls.certFile = certFile.toString();
      ca.cfg.binary.tls.keyFile = keyFile.toString();
      ca.cfg.validate();
      ca.node = CaNode.start(ca.cfg);

      SSLContext withCert = context(ca, user);
      try (CmpClient c = new CmpClient(BinaryTransport.connect("localhost", ca.node.binaryPort(), withCert,
          CmpFrame.DEFAULT_MAX_FRAME), new Protection.None(), ca.caCert())) {
        String who = c.admin("{\"op\":\"whoami\"}");
        assertTrue(who.contains("\"identity\":\"CN=Tls User\"") && who.contains("AUDITOR"), who);
      }
      SSLContext anonymous = context(ca, null);
      try (CmpClient c = new CmpClient(BinaryTransport.connect("localhost", ca.node.binaryPort(), anonymous,
          CmpFrame.DEFAULT_MAX_FRAME), new Protection.None(), ca.caCert())) {
        CmpClientException e = assertThrows(CmpClientException.class, () -> c.admin("{\"op\":\"whoami\"}"));
        assertEquals(ErrorCode.NOT_AUTHORIZED, e.code(), e.getMessage());
        assertEquals(1, c.genm().size(), "public information needs no identity");
      }
    }
  }

  private static SSLContext context(TestCa ca, TestCa.Enrollee client) throws Exception {
    JcaX509CertificateConverter conv = new JcaX509CertificateConverter();
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", conv.getCertificate(ca.caCert()));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyManagerFactory kmf = null;
    if (client != null) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("me", client.keys().getPrivate(), "x".toCharArray(),
          new X509Certificate[] {conv.getCertificate(client.cert()), conv.getCertificate(ca.caCert())});
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, "x".toCharArray());
    }
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  private static String pem(Object o) throws Exception {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter p = new JcaPEMWriter(w)) {
      p.writeObject(o);
    }
    return w.toString();
  }
}
