package org.keyarc.ca.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSSignedData;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.keys.CaInit;
import org.keyarc.ca.store.DirectSql;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.client.ArchiveEncryption;
import org.keyarc.protocol.client.CmpClient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.ca.e2e.OpensslCmpE2eTest.openssl;

/**
 * Issue 17: this CA under an external parent, a root CA made with OpenSSL. {@code ca init --external-parent} makes
 * the CA key and its PKCS#10; OpenSSL signs it; the import checks the certificate (CA:true, keyCertSign, valid, a
 * chain up to a self-signed root) and keeps the chain, which GET /ca-chain.pem serves, with its digest in the CA
 * token so that a chain swapped in the store is not taken up; a renewal that renames the CA is refused. OpenSSL then verifies a user certificate up to the parent's root.
 */
class ExternalParentE2eTest {
  @Test
  void aCaUnderAnOpensslRootIsCheckedKeepsItsChainAndOpensslVerifiesItsLeaves() throws Exception {
    Files.createDirectories(Path.of("target"));
    Path dir = Files.createTempDirectory(Path.of("target"), "parent-");
    run(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "root.key",
        "-out", "root.pem", "-subj", "/CN=Parent Root CA", "-days", "3650", "-addext",
        "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    run(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
        "other.key", "-out", "other.pem", "-subj", "/CN=Parent Root CA", "-days", "3650");
    Files.writeString(dir.resolve("ca.ext"), "basicConstraints=critical,CA:true,pathlen:1\nkeyUsage=critical,"
        + "keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
    Files.writeString(dir.resolve("ee.ext"), "basicConstraints=critical,CA:false\nkeyUsage=critical,"
        + "digitalSignature\n");
    X509CertificateHolder root = Pem.certificate(dir, "root.pem");
    List<X509CertificateHolder> notCa = new ArrayList<>();
    try (TestCa ca = TestCa.startUnderParent(cfg -> cfg.ca.publicUrl = "http://pki.example/", csr -> {
      Files.writeString(dir.resolve("ca.csr"), Pem.text(csr));
      run(dir, "x509", "-req", "-in", "ca.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial", "-days",
          "365", "-extfile", "ee.ext", "-out", "not-ca.pem");
      notCa.add(Pem.certificate(dir, "not-ca.pem"));
      run(dir, "x509", "-req", "-in", "ca.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial", "-days",
          "365", "-extfile", "ca.ext", "-out", "ca.pem");
      return List.of(Pem.certificate(dir, "ca.pem"), root);
    }, "kra1")) {
      X509CertificateHolder caCert = ca.caCert();
      assertEquals(root.getSubject(), caCert.getIssuer(), "the parent issued this CA's certificate");
      assertEquals(List.of(root), ca.services().keys().chain(), "the chain is kept");

      // what the import refuses, named
      CaException notACa = assertThrows(CaException.class, () -> CaInit.checkParentIssued(notCa.get(0), List.of(root),
          Instant.now()));
      assertEquals(ErrorCode.BAD_INPUT, notACa.code());
      assertTrue(notACa.getMessage().contains("not a CA certificate"), notACa.getMessage());
      CaException broken = assertThrows(CaException.class, () -> CaInit.checkParentIssued(caCert,
          List.of(Pem.certificate(dir, "other.pem")), Instant.now()));
      assertTrue(broken.getMessage().contains("the chain is broken"), broken.getMessage());

      // served with the CA certificate
      java.net.http.HttpResponse<String> chain = java.net.http.HttpClient.newHttpClient().send(
          java.net.http.HttpRequest.newBuilder(java.net.URI.create(ca.httpUrl() + "ca-chain.pem")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(200, chain.statusCode());
      assertEquals(2, chain.body().split("BEGIN CERTIFICATE").length - 1, chain.body());

      // a leaf of this CA, verified by OpenSSL up to the parent's root
      X509CertificateHolder userCert = ca.enrollUser("CN=Under Parent").cert();
      Files.writeString(dir.resolve("user.pem"), Pem.text(userCert));
      Files.writeString(dir.resolve("issuing.pem"), Pem.text(caCert));
      OpensslCmpE2eTest.Run ok = openssl(dir, "verify", "-x509_strict", "-CAfile", "root.pem", "-untrusted",
          "issuing.pem", "user.pem");
      assertEquals(0, ok.exit(), ok.output());

      // a recovery blob carries the chain, for the recovered PKCS#12
      Agents.Card agent = Agents.enroll(ca, "kra1");
      ca.services().agents().setPolicy(Identity.localOperator(), 1, 1);
      assertEquals(List.of(), ca.services().agents().expiryWarnings(), "an agent with two years left: no warning");
      KeyPair kp = TestCa.rsaKey(2048);
      X509CertificateHolder exchange = ca.services().keys().exchanges().get(0).cert();
      X509CertificateHolder archived;
      try (CmpClient c = ca.macClient(ca.binaryUrl(), ca.secret("ExchangeUserKeyArc", "CN=Archived Under Parent"))) {
        archived = c.enroll(PKIBody.TYPE_INIT_REQ, new X500Name("CN=Archived Under Parent"), TestCa.spki(kp),
            TestCa.pop(kp), null, false, null, ArchiveEncryption.encryptedValue(PrivateKeyInfo.getInstance(
                kp.getPrivate().getEncoded()), exchange, "SHA-1")).enrolled().cert();
      }
      // cert list's ARCHIVED column: the archived certificate, not the plain user's
      var records = List.of(ca.services().certificates().show(Agents.MANAGER, archived.getSerialNumber()),
          ca.services().certificates().show(Agents.MANAGER, userCert.getSerialNumber()));
      assertEquals(java.util.Set.of(archived.getSerialNumber()), ca.services().certificates().archived(records));
      byte[] blob = ca.services().archives().getKey(Agents.MANAGER, archived.getSerialNumber(), null, null).get(0)
          .blob();
      assertTrue(!new CMSSignedData(blob).getCertificates().getMatches(null).contains(root),
          "a blob's certificate list is not signed: the chain for the PKCS#12 comes from the agent's pinned file");

      // a database writer swaps the stored chain for another root's: the token's digest of the imported chain says
      byte[] otherRoot = Pem.certificate(dir, "other.pem").getEncoded();
      byte[] realRoot = root.getEncoded();
      DirectSql.run(ca.services().store(), c -> {
        try (var st = c.createStatement()) {
          st.executeUpdate("DELETE FROM ca_chain");
        }
        try (var ps = c.prepareStatement("INSERT INTO ca_chain (position, der) VALUES (0, ?)")) {
          ps.setBytes(1, otherRoot);
          ps.executeUpdate();
        }
        return null;
      });
      assertEquals(List.of(), org.keyarc.ca.keys.CaKeyring.load(ca.services().store(), ca.services().keys().token())
          .chain(), "a swapped chain is not taken up");
      DirectSql.run(ca.services().store(), c -> {
        try (var ps = c.prepareStatement("UPDATE ca_chain SET der = ? WHERE position = 0")) {
          ps.setBytes(1, realRoot);
          ps.executeUpdate();
        }
        return null;
      });
      assertEquals(List.of(root), org.keyarc.ca.keys.CaKeyring.load(ca.services().store(), ca.services().keys()
          .token()).chain(), "the imported chain is");
      agent.token().close();

      // renewal through the parent, same key: a request for the CA's key and name, a later certificate imported
      Files.writeString(dir.resolve("renew.csr"), Pem.text(CaInit.renewalRequest(ca.services().store(),
          ca.services().keys().token())));
      run(dir, "x509", "-req", "-in", "renew.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial",
          "-days", "730", "-extfile", "ca.ext", "-out", "renewed.pem");
      X509CertificateHolder renewed = Pem.certificate(dir, "renewed.pem");
      assertEquals(caCert.getSubjectPublicKeyInfo(), renewed.getSubjectPublicKeyInfo());
      CaInit.importCertificate(ca.services().store(), ca.services().keys().token(), ca.cfg.settings().ca(), renewed,
          List.of(root));
      // a parent that renames the CA on renewal: refused, the CA's name is the issuer of all it signed
      X509CertificateHolder renamed = renamedBy(dir, renewed);
      CaException rename = assertThrows(CaException.class, () -> CaInit.importCertificate(ca.services().store(),
          ca.services().keys().token(), ca.cfg.settings().ca(), renamed, List.of(root)));
      assertTrue(rename.getMessage().contains("a renewal keeps the CA's name"), rename.getMessage());
      CaException again = assertThrows(CaException.class, () -> CaInit.importCertificate(ca.services().store(),
          ca.services().keys().token(), ca.cfg.settings().ca(), caCert, List.of(root)));
      assertTrue(again.getMessage().contains("a renewal must outlast it"), again.getMessage());
      CaException selfRenew = assertThrows(CaException.class, () -> CaInit.renew(ca.services().store(),
          ca.services().keys().token(), ca.cfg.settings().ca()));
      assertTrue(selfRenew.getMessage().contains("renew it with that parent"), selfRenew.getMessage());

      // rollover through the parent, new key: a request for a new key under the CA's name (asked twice, one key)
      var store = ca.services().store();
      var token = ca.services().keys().token();
      CaException selfRoll = assertThrows(CaException.class, () -> CaInit.rollover(store, token,
          ca.cfg.settings().ca()));
      assertTrue(selfRoll.getMessage().contains("roll over with that parent"), selfRoll.getMessage());
      org.bouncycastle.pkcs.PKCS10CertificationRequest roll = CaInit.rolloverRequest(store, token,
          ca.cfg.settings().ca());
      assertEquals(roll.getSubjectPublicKeyInfo(), CaInit.rolloverRequest(store, token, ca.cfg.settings().ca())
          .getSubjectPublicKeyInfo(), "the same waiting key");
      assertTrue(!roll.getSubjectPublicKeyInfo().equals(caCert.getSubjectPublicKeyInfo()), "a new key");
      assertEquals(caCert.getSubject(), roll.getSubject());
      Files.writeString(dir.resolve("roll.csr"), Pem.text(roll));
      run(dir, "x509", "-req", "-in", "roll.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial",
          "-days", "900", "-extfile", "ca.ext", "-out", "rolled.pem");
      X509CertificateHolder rolled = Pem.certificate(dir, "rolled.pem");
      CaException renamedRoll = assertThrows(CaException.class, () -> CaInit.importCertificate(store, token,
          ca.cfg.settings().ca(), renamedBy(dir, rolled), List.of(root)));
      assertTrue(renamedRoll.getMessage().contains("a rollover keeps the CA's name"), renamedRoll.getMessage());
      CaInit.importCertificate(store, token, ca.cfg.settings().ca(), rolled, List.of(root));
      ca.node.close();
      ca.node = org.keyarc.ca.node.CaNode.start(ca.cfg);
      assertEquals(rolled, ca.caCert(), "the new key signs after the restart");
      assertEquals(2, ca.services().keys().generations().size());
      X509CertificateHolder afterRoll = ca.enrollUser("CN=After Parent Rollover").cert();
      Files.writeString(dir.resolve("after-roll.pem"), Pem.text(afterRoll));
      OpensslCmpE2eTest.Run rolledOk = openssl(dir, "verify", "-x509_strict", "-CAfile", "root.pem", "-untrusted",
          "rolled.pem", "after-roll.pem");
      assertEquals(0, rolledOk.exit(), rolledOk.output());
      // the old key's certificate still verifies with its CRL, which the old key still signs
      ca.services().revocation().revoke(Agents.MANAGER, afterRoll.getSerialNumber(), 1, null);
      Files.writeString(dir.resolve("crl0.pem"), Pem.text(ca.services().crls().current(0)));
      OpensslCmpE2eTest.Run oldOk = openssl(dir, "verify", "-crl_check", "-CRLfile", "crl0.pem", "-CAfile",
          "root.pem", "-untrusted", "issuing.pem", "user.pem");
      assertEquals(0, oldOk.exit(), oldOk.output());
    }
  }

  /** {@code cert} under another name, signed by the parent root's key (root.key), later than it. */
  private static X509CertificateHolder renamedBy(Path dir, X509CertificateHolder cert) throws Exception {
    java.security.PrivateKey rootKey;
    try (org.bouncycastle.openssl.PEMParser p = new org.bouncycastle.openssl.PEMParser(Files.newBufferedReader(
        dir.resolve("root.key")))) {
      rootKey = new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter().getPrivateKey(
          org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(p.readObject()));
    }
    org.bouncycastle.cert.X509v3CertificateBuilder b = new org.bouncycastle.cert.X509v3CertificateBuilder(
        cert.getIssuer(), java.math.BigInteger.valueOf(4242), new java.util.Date(), java.util.Date.from(Instant.now()
            .plus(java.time.Duration.ofDays(1000))), new X500Name("CN=Renamed CA"), cert.getSubjectPublicKeyInfo());
    b.addExtension(org.bouncycastle.asn1.x509.Extension.basicConstraints, true,
        new org.bouncycastle.asn1.x509.BasicConstraints(true));
    b.addExtension(org.bouncycastle.asn1.x509.Extension.keyUsage, true, new org.bouncycastle.asn1.x509.KeyUsage(
        org.bouncycastle.asn1.x509.KeyUsage.keyCertSign | org.bouncycastle.asn1.x509.KeyUsage.cRLSign));
    return b.build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA").build(rootKey));
  }

  private static void run(Path dir, String... args) throws Exception {
    OpensslCmpE2eTest.Run r = openssl(dir, args);
    assertEquals(0, r.exit(), String.join(" ", args) + ": " + r.output());
  }
}
