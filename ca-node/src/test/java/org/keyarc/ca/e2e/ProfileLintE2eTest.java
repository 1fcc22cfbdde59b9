package org.keyarc.ca.e2e;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.auth.Identity;
import org.keyarc.protocol.client.ArchiveEncryption;
import org.keyarc.protocol.client.CmpClient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.ca.e2e.OpensslCmpE2eTest.openssl;

/**
 * Issue 17, lint: every certificate profile keyarc issues, checked by a third party. No certificate linter installs
 * from the registries this machine reaches (pkilint and zlint come from PyPI and the Go proxy, which it does not),
 * so the RFC 5280 rules are checked with OpenSSL's strict verification ({@code openssl verify -x509_strict}), each
 * profile for the purpose it is issued for: the CA certificate, User (EC and RSA), ExchangeUserKeyArc (EC and RSA,
 * archived), the S/MIME pair (SmimeSignature, SmimeEncryption RSA and EC), KeyRecoveryAgent, the exchange certificate, the CMP responder and OCSP signing certificates and the
 * node's TLS certificate. A revoked certificate then fails verification against the CA's CRL.
 */
class ProfileLintE2eTest {
  @Test
  void everyProfilePassesOpensslStrictVerification() throws Exception {
    try (TestCa ca = TestCa.start(cfg -> cfg.ca.publicUrl = "http://pki.example/", "kra1")) {
      Path dir = Files.createTempDirectory(ca.dir, "lint-");
      pem(dir, "ca.pem", ca.caCert());
      Agents.Card agent = Agents.enroll(ca, "kra1");
      ca.services().agents().setPolicy(Identity.localOperator(), 1, 1);
      X509CertificateHolder exchange = ca.services().keys().exchanges().get(0).cert();
      Instant now = Instant.now();
      // profile -> {certificate, openssl purpose or null}
      Map<String, Object[]> profiles = new LinkedHashMap<>();
      profiles.put("ca", new Object[] {ca.caCert(), "any"});
      profiles.put("user-ec", new Object[] {ca.enrollUser("CN=Lint User EC").cert(), "sslclient"});
      profiles.put("user-rsa", new Object[] {enroll(ca, "User", "CN=Lint User RSA", TestCa.rsaKey(2048), null),
          "smimesign"});
      // OpenSSL's smimeencrypt purpose wants keyEncipherment, which an EC key cannot do (RFC 5480 3): the EC
      // encryption certificate is checked for any purpose, and for its keyAgreement bit below
      X509CertificateHolder exchangeEc = enroll(ca, "ExchangeUserKeyArc", "CN=Lint Exchange EC", TestCa.ecKey(),
          exchange);
      assertTrue(org.bouncycastle.asn1.x509.KeyUsage.fromExtensions(exchangeEc.getExtensions()).hasUsages(
          org.bouncycastle.asn1.x509.KeyUsage.keyAgreement), "an EC encryption certificate agrees keys");
      profiles.put("exchange-user-ec", new Object[] {exchangeEc, "any"});
      profiles.put("exchange-user-rsa", new Object[] {enroll(ca, "ExchangeUserKeyArc", "CN=Lint Exchange RSA",
          TestCa.rsaKey(2048), exchange), "smimeencrypt"});
      // the S/MIME dual-certificate pair: the e-mail address from the secret, capabilities, the signing key never
      // archived and the encryption key always
      X509CertificateHolder smimeSign = enroll(ca, "SmimeSignature", "CN=Lint Smime", TestCa.ecKey(), null,
          "lint.smime@example.com");
      X509CertificateHolder smimeEncRsa = enroll(ca, "SmimeEncryption", "CN=Lint Smime", TestCa.rsaKey(2048), exchange,
          "lint.smime@example.com");
      X509CertificateHolder smimeEncEc = enroll(ca, "SmimeEncryption", "CN=Lint Smime EC", TestCa.ecKey(), exchange,
          "lint.smime.ec@example.com");
      for (X509CertificateHolder c : List.of(smimeSign, smimeEncRsa, smimeEncEc)) {
        assertTrue(c.getExtension(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.pkcs_9_at_smimeCapabilities) != null,
            "SMIMECapabilities in " + c.getSubject());
        assertTrue(org.bouncycastle.asn1.x509.GeneralNames.fromExtensions(c.getExtensions(),
            org.bouncycastle.asn1.x509.Extension.subjectAlternativeName).getNames()[0].getTagNo()
            == org.bouncycastle.asn1.x509.GeneralName.rfc822Name, "the e-mail address in " + c.getSubject());
      }
      String issuer = ca.caCert().getSubject().toString();
      assertEquals(0, ca.services().store().inTransaction(tx -> tx.archives().bySerial(issuer,
          smimeSign.getSerialNumber())).size(), "a signing key is never archived");
      assertEquals(1, ca.services().store().inTransaction(tx -> tx.archives().bySerial(issuer,
          smimeEncRsa.getSerialNumber())).size(), "an encryption key always is");
      // a manager finds every archived key of a user by the e-mail address (any case) in the certificates
      assertEquals(List.of(smimeEncRsa.getSerialNumber()), ca.services().archives().getKeyByName(Agents.MANAGER,
          "LINT.Smime@example.com").stream().map(org.keyarc.ca.kra.ArchiveService.KeyBlob::serial).toList());
      assertEquals(org.keyarc.protocol.ErrorCode.NOT_FOUND, org.junit.jupiter.api.Assertions.assertThrows(
          org.keyarc.ca.CaException.class, () -> ca.services().archives().getKeyByName(Agents.MANAGER,
              "nobody@example.com")).code());
      assertTrue(org.bouncycastle.asn1.x509.KeyUsage.fromExtensions(smimeEncRsa.getExtensions()).hasUsages(
          org.bouncycastle.asn1.x509.KeyUsage.keyEncipherment), "RSA encryption: keyEncipherment");
      assertTrue(org.bouncycastle.asn1.x509.KeyUsage.fromExtensions(smimeEncEc.getExtensions()).hasUsages(
          org.bouncycastle.asn1.x509.KeyUsage.keyAgreement), "EC encryption: keyAgreement");
      profiles.put("smime-signature", new Object[] {smimeSign, "smimesign"});
      profiles.put("smime-encryption-rsa", new Object[] {smimeEncRsa, "smimeencrypt"});
      profiles.put("smime-encryption-ec", new Object[] {smimeEncEc, "any"});
      profiles.put("key-recovery-agent", new Object[] {agent.cert(), "any"});
      profiles.put("ca-exchange", new Object[] {exchange, "any"});
      profiles.put("cmp-responder", new Object[] {ca.services().keys().currentResponder(now).orElseThrow().cert(),
          "any"});
      profiles.put("ocsp-signer", new Object[] {ca.services().keys().currentOcspSigner(now).orElseThrow().cert(),
          "ocsphelper"});
      profiles.put("node-tls", new Object[] {ca.node.tlsCertificate().orElseThrow().cert(), "sslserver"});
      List<String> failures = new ArrayList<>();
      for (Map.Entry<String, Object[]> p : profiles.entrySet()) {
        String file = p.getKey() + ".pem";
        pem(dir, file, p.getValue()[0]);
        OpensslCmpE2eTest.Run r = openssl(dir, "verify", "-x509_strict", "-purpose", (String) p.getValue()[1],
            "-CAfile", "ca.pem", file);
        if (r.exit() != 0 || !r.output().contains(file + ": OK")) {
          failures.add(p.getKey() + ": " + r.output().strip());
        }
      }
      assertEquals(List.of(), failures, "every profile passes openssl verify -x509_strict");

      // the CRL keyarc publishes: a revoked certificate fails against it, a good one passes
      X509CertificateHolder revoked = ca.enrollUser("CN=Lint Revoked").cert();
      ca.services().revocation().revoke(Agents.MANAGER, revoked.getSerialNumber(), 1, null);
      pem(dir, "revoked.pem", revoked);
      pem(dir, "crl.pem", ca.services().crls().current());
      OpensslCmpE2eTest.Run bad = openssl(dir, "verify", "-x509_strict", "-crl_check", "-CRLfile", "crl.pem",
          "-CAfile", "ca.pem", "revoked.pem");
      assertTrue(bad.exit() != 0 && bad.output().contains("certificate revoked"), bad.output());
      OpensslCmpE2eTest.Run good = openssl(dir, "verify", "-x509_strict", "-crl_check", "-CRLfile", "crl.pem",
          "-CAfile", "ca.pem", "user-ec.pem");
      assertEquals(0, good.exit(), good.output());
      agent.token().close();
    }
  }

  private static X509CertificateHolder enroll(TestCa ca, String template, String subject, KeyPair kp,
      X509CertificateHolder exchange) throws Exception {
    return enroll(ca, template, subject, kp, exchange, null);
  }

  /** Enrolls on {@code template} with a secret that binds {@code email} (null: none). */
  private static X509CertificateHolder enroll(TestCa ca, String template, String subject, KeyPair kp,
      X509CertificateHolder exchange, String email) throws Exception {
    org.keyarc.ca.auth.SecretService.NewSecret secret = email == null ? ca.secret(template, subject)
        : ca.services().secrets().create(Identity.localOperator(), template, org.keyarc.ca.config.X500Subject.parse(
            subject), new org.bouncycastle.asn1.x509.GeneralNames(new org.bouncycastle.asn1.x509.GeneralName(
                org.bouncycastle.asn1.x509.GeneralName.rfc822Name, email)));
    try (CmpClient c = ca.macClient(ca.binaryUrl(), secret)) {
      return c.enroll(PKIBody.TYPE_INIT_REQ, new X500Name(subject), TestCa.spki(kp), TestCa.pop(kp), null, false, null,
          exchange == null ? null : ArchiveEncryption.encryptedValue(PrivateKeyInfo.getInstance(kp.getPrivate()
              .getEncoded()), exchange, "SHA-1")).enrolled().cert();
    }
  }

  private static void pem(Path dir, String name, Object o) throws Exception {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter p = new JcaPEMWriter(w)) {
      p.writeObject(o);
    }
    Files.writeString(dir.resolve(name), w.toString());
  }
}
