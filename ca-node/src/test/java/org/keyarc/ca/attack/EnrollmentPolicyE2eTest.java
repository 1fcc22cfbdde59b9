package org.keyarc.ca.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.cmp.PKIFailureInfo;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CertificatePolicies;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.OtherName;
import org.bouncycastle.asn1.x509.PolicyInformation;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.config.ConfigException;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.e2e.Agents;
import org.keyarc.ca.e2e.TestCa;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.DirectSql;
import org.keyarc.ca.store.RequestRecord;
import org.keyarc.ca.store.Role;

/**
 * Issue 12, parts 4, 5 and 8, tried as an attacker would: a Bouncy Castle client that knows nothing of
 * keyarc's client classes, over a real loopback socket, against a real node. Each refusal carries its
 * code and one line naming the field, and leaves nothing stored: no certificate, no held request, no
 * archive, the secret unused.
 */
class EnrollmentPolicyE2eTest {
  static final ASN1ObjectIdentifier UPN = new ASN1ObjectIdentifier("1.3.6.1.4.1.311.20.2.3");
  static TestCa ca;
  static Attacker attacker;
  static Agents.Card agent;
  static int next;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> {
      // a template whose DNS names the approving manager sees and confirms
      NodeConfig.TemplateCfg web = new NodeConfig.TemplateCfg();
      web.name = "WebApproved";
      web.requiresApproval = true;
      web.keyUsage = List.of("digitalSignature");
      web.extendedKeyUsage = List.of("serverAuth");
      NodeConfig.SanCfg dns = new NodeConfig.SanCfg();
      dns.from = "approver";
      web.subjectAltNames = Map.of("dNSName", dns);
      cfg.templates.add(web);
      // a template two certificate managers must approve
      NodeConfig.TemplateCfg two = new NodeConfig.TemplateCfg();
      two.name = "TwoManagers";
      two.requiresApproval = true;
      two.approvals = 2;
      two.keyUsage = List.of("digitalSignature");
      cfg.templates.add(two);
    }, "kra1");
    agent = Agents.enroll(ca, "kra1");
    attacker = new Attacker("127.0.0.1", ca.node.binaryPort(), ca.caCert());
  }

  @AfterAll
  static void stop() throws Exception {
    agent.token().close();
    ca.close();
  }

  // ------------------------------------------------------------------ helpers

  /** Certificates, held requests and archives in the store. */
  private static long[] counts() throws Exception {
    return ca.services().store().inTransaction(tx -> new long[] {tx.certificates().count(),
        tx.requests().list(null, 100_000).size(), tx.archives().count()});
  }

  private static boolean unused(SecretService.NewSecret s) throws Exception {
    return ca.services().store().inTransaction(tx -> tx.secrets().find(s.reference())).orElseThrow().usedAt() == null;
  }

  /** Expects a refusal with keyarc code {@code code}, failInfo {@code failBit} and {@code text}; nothing stored. */
  private static Attacker.Answer refused(int code, int failBit, String text, Attempt attempt) throws Exception {
    long[] before = counts();
    Attacker.Answer a = attempt.run();
    assertNull(a.cert(), "no certificate: " + a);
    assertEquals(code, a.code(), a.toString());
    assertEquals(failBit, a.failInfo() & failBit, "failInfo bit: " + a);
    assertTrue(a.text().contains(text), "'" + a.text() + "' should say '" + text + "'");
    assertArrayEquals(before, counts(), "no certificate, held request or archive stored");
    return a;
  }

  interface Attempt {
    Attacker.Answer run() throws Exception;
  }

  private static String subject() {
    return "CN=Mallory " + next++;
  }

  private static KeyPair ec() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static KeyPair rsa() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    return g.generateKeyPair();
  }

  private static GeneralNames esc1Names() {
    return new GeneralNames(new GeneralName[] {new GeneralName(GeneralName.dNSName, "www.bank.example"),
        new GeneralName(GeneralName.otherName, new OtherName(UPN, new DERUTF8String("administrator@corp.example")))});
  }

  private static Extensions sanExtension(GeneralNames names) throws Exception {
    ExtensionsGenerator g = new ExtensionsGenerator();
    g.addExtension(Extension.subjectAlternativeName, false, names);
    g.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(new KeyPurposeId[] {
        KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_emailProtection}));
    return g.generate();
  }

  /** The attacker's own, legitimate User certificate (ir with a User secret). */
  private static X509CertificateHolder ownUserCertificate(String subject, KeyPair kp) throws Exception {
    SecretService.NewSecret s = ca.secret("User", subject);
    Attacker.Answer a = attacker.request(attacker.withSecret(Attacker.ir(Attacker.crmf(kp, new X500Name(subject),
        null, null)), s.reference(), s.secret(), null, true));
    assertTrue(a.granted(), a.toString());
    return a.cert();
  }

  private static boolean hasUsage(X509CertificateHolder cert, int bit) {
    return KeyUsage.fromExtensions(cert.getExtensions()).hasUsages(bit);
  }

  // ------------------------------------------------------------------ 4. who may enroll

  @Test
  void aUserSecretCannotAskForKeyRecoveryAgent() throws Exception {
    String subject = subject();
    SecretService.NewSecret s = ca.secret("User", subject);
    KeyPair kp = rsa();
    refused(34, PKIFailureInfo.notAuthorized, "the one-time secret is for template User, not KeyRecoveryAgent",
        () -> attacker.request(attacker.withSecret(Attacker.ir(Attacker.crmf(kp, new X500Name(subject), null, null)),
            s.reference(), s.secret(), "KeyRecoveryAgent", false)));
    assertTrue(unused(s), "the secret is not used up by the refusal");
  }

  @Test
  void aCertificateHolderCannotQueueAKeyRecoveryAgentRequest() throws Exception {
    String subject = subject();
    KeyPair own = ec();
    X509CertificateHolder cert = ownUserCertificate(subject, own);
    KeyPair agentKey = rsa();
    Attacker.Answer a = refused(34, PKIFailureInfo.notAuthorized, "may not enroll on template KeyRecoveryAgent",
        () -> attacker.request(attacker.signedBy(Attacker.cr(Attacker.crmf(agentKey, new X500Name(subject), null,
            null)), cert, own.getPrivate(), "KeyRecoveryAgent", false)));
    assertTrue(a.text().contains("it takes a one-time secret for it (made by an administrator or a manager)"),
        a.toString());
    // p10cr is no way around it
    PKCS10CertificationRequest csr = new PKCS10CertificationRequestBuilder(new X500Name(subject),
        org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(agentKey.getPublic().getEncoded()))
        .build(Attacker.signer(agentKey.getPrivate()));
    refused(34, PKIFailureInfo.notAuthorized, "may not enroll on template KeyRecoveryAgent",
        () -> attacker.request(attacker.signedBy(Attacker.p10cr(csr), cert, own.getPrivate(), "KeyRecoveryAgent",
            false)));
    // the refusal is audited
    List<AuditStore.Row> audit = ca.services().store().inTransaction(tx -> tx.audit().records(0, Long.MAX_VALUE));
    assertTrue(audit.stream().anyMatch(r -> r.action().equals("enroll.refused") && r.actor().equals(subject)
        && r.target().equals("template:KeyRecoveryAgent")), "audited as enroll.refused");
  }

  @Test
  void anAdministratorsCertificateIsNoPermissionForEveryTemplate() throws Exception {
    String subject = "CN=Rogue Admin";
    KeyPair own = ec();
    X509CertificateHolder cert = ownUserCertificate(subject, own);
    ca.services().roles().grant(Identity.localOperator(), subject, Role.ADMINISTRATOR);
    KeyPair agentKey = rsa();
    refused(34, PKIFailureInfo.notAuthorized, "(certificate of template User, administrator) may not enroll on "
        + "template KeyRecoveryAgent", () -> attacker.request(attacker.signedBy(Attacker.cr(Attacker.crmf(agentKey,
            new X500Name(subject), null, null)), cert, own.getPrivate(), "KeyRecoveryAgent", false)));
    refused(34, PKIFailureInfo.notAuthorized, "may not enroll on template ExchangeUserKeyArc",
        () -> attacker.request(attacker.signedBy(Attacker.cr(Attacker.crmf(ec(), new X500Name(subject), null,
            null)), cert, own.getPrivate(), "ExchangeUserKeyArc", false)));
    // renewal on its own template still works
    Attacker.Answer renewed = attacker.request(attacker.signedBy(Attacker.cr(Attacker.crmf(ec(), new X500Name(subject),
        null, null)), cert, own.getPrivate(), "User", true));
    assertTrue(renewed.granted(), renewed.toString());
  }

  // ------------------------------------------------------------------ 5. SAN policy (ESC1 / ESC6)

  @Test
  void esc1NamesInACrmfTemplateAreRefused() throws Exception {
    String subject = subject();
    SecretService.NewSecret s = ca.secret("User", subject);
    KeyPair kp = ec();
    Attacker.Answer a = refused(61, PKIFailureInfo.badCertTemplate, "template User allows no dNSName in "
        + "subjectAltName (asked: dns:www.bank.example", () -> attacker.request(attacker.withSecret(Attacker.ir(
            Attacker.crmf(kp, new X500Name(subject), sanExtension(esc1Names()), null)), s.reference(), s.secret(),
            null, false)));
    assertTrue(unused(s), a.toString());
    // the UPN alone: User takes a UPN only from the secret, and this secret binds none
    GeneralNames upn = new GeneralNames(new GeneralName(GeneralName.otherName, new OtherName(UPN,
        new DERUTF8String("administrator@corp.example"))));
    refused(61, PKIFailureInfo.badCertTemplate, "template User takes upn from the one-time secret (none bound), not "
        + "from the request", () -> attacker.request(attacker.withSecret(Attacker.ir(Attacker.crmf(kp,
            new X500Name(subject), sanExtension(upn), null)), s.reference(), s.secret(), null, false)));
    // a certificate holder's signed cr gets no further
    KeyPair own = ec();
    X509CertificateHolder cert = ownUserCertificate(subject(), own);
    refused(61, PKIFailureInfo.badCertTemplate, "allows no dNSName", () -> attacker.request(attacker.signedBy(
        Attacker.cr(Attacker.crmf(ec(), cert.getSubject(), sanExtension(esc1Names()), null)), cert, own.getPrivate(),
        "User", false)));
  }

  @Test
  void esc1NamesInAPkcs10ExtensionRequestAreRefused() throws Exception {
    String subject = subject();
    SecretService.NewSecret s = ca.secret("User", subject);
    KeyPair kp = ec();
    PKCS10CertificationRequest csr = new PKCS10CertificationRequestBuilder(new X500Name(subject),
        org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()))
        .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, sanExtension(esc1Names()))
        .build(Attacker.signer(kp.getPrivate()));
    refused(61, PKIFailureInfo.badCertTemplate, "allows no dNSName", () -> attacker.request(attacker.withSecret(
        Attacker.p10cr(csr), s.reference(), s.secret(), null, false)));
    assertTrue(unused(s));
  }

  @Test
  void otherExtensionsAreRefusedNamingThem() throws Exception {
    String subject = subject();
    SecretService.NewSecret s = ca.secret("User", subject);
    ExtensionsGenerator g = new ExtensionsGenerator();
    g.addExtension(Extension.certificatePolicies, false, new CertificatePolicies(new PolicyInformation(
        new ASN1ObjectIdentifier("2.23.140.1.2.1"))));
    refused(61, PKIFailureInfo.badCertTemplate, "the request's extension certificatePolicies (2.5.29.32) is not "
        + "allowed", () -> attacker.request(attacker.withSecret(Attacker.ir(Attacker.crmf(ec(), new X500Name(subject),
            g.generate(), null)), s.reference(), s.secret(), null, false)));
    // a Microsoft template-name extension (what certreq sends) is no way to pick a template either
    ExtensionsGenerator ms = new ExtensionsGenerator();
    ms.addExtension(new ASN1ObjectIdentifier("1.3.6.1.4.1.311.20.2"), false,
        new org.bouncycastle.asn1.DERBMPString("KeyRecoveryAgent"));
    refused(61, PKIFailureInfo.badCertTemplate, "Microsoft certificate template name", () -> attacker.request(
        attacker.withSecret(Attacker.ir(Attacker.crmf(ec(), new X500Name(subject), ms.generate(), null)),
            s.reference(), s.secret(), null, false)));
    assertTrue(unused(s));
  }

  @Test
  void anEmailSecretGivesACertificateWhoseOnlySanIsTheBoundAddress() throws Exception {
    String subject = subject();
    SecretService.NewSecret s = ca.services().secrets().create(Identity.localOperator(), "User",
        new X500Name(subject), new GeneralNames(new GeneralName(GeneralName.rfc822Name, "mallory@example.org")));
    // another address is refused, the secret kept
    GeneralNames other = new GeneralNames(new GeneralName(GeneralName.rfc822Name, "ceo@example.org"));
    refused(61, PKIFailureInfo.badCertTemplate, "template User takes rfc822Name from the one-time secret "
        + "(email:mallory@example.org), not from the request", () -> attacker.request(attacker.withSecret(
            Attacker.ir(Attacker.crmf(ec(), new X500Name(subject), sanExtension(other), null)), s.reference(),
            s.secret(), null, false)));
    assertTrue(unused(s));
    // asking to be a CA, for keyCertSign and other EKUs: ignored; the template and the secret decide
    ExtensionsGenerator g = new ExtensionsGenerator();
    g.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    g.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    g.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_codeSigning));
    KeyPair kp = rsa();
    Attacker.Answer a = attacker.request(attacker.withSecret(Attacker.ir(Attacker.crmf(kp, new X500Name(subject),
        g.generate(), null)), s.reference(), s.secret(), null, true));
    assertTrue(a.granted(), a.toString());
    X509CertificateHolder cert = a.cert();
    assertEquals(new X500Name(subject), cert.getSubject());
    GeneralNames sans = GeneralNames.fromExtensions(cert.getExtensions(), Extension.subjectAlternativeName);
    assertEquals(1, sans.getNames().length);
    assertEquals(new GeneralName(GeneralName.rfc822Name, "mallory@example.org"), sans.getNames()[0]);
    assertFalse(BasicConstraints.fromExtensions(cert.getExtensions()).isCA());
    assertFalse(hasUsage(cert, KeyUsage.keyCertSign));
    assertTrue(hasUsage(cert, KeyUsage.digitalSignature | KeyUsage.keyEncipherment), "User's, for an RSA key");
    ExtendedKeyUsage eku = ExtendedKeyUsage.fromExtensions(cert.getExtensions());
    assertFalse(eku.hasKeyPurposeId(KeyPurposeId.id_kp_codeSigning));
    assertTrue(eku.hasKeyPurposeId(KeyPurposeId.id_kp_emailProtection));
    for (ASN1ObjectIdentifier oid : cert.getExtensions().getExtensionOIDs()) {
      assertTrue(List.of(Extension.basicConstraints, Extension.keyUsage, Extension.extendedKeyUsage,
          Extension.subjectKeyIdentifier, Extension.authorityKeyIdentifier, Extension.subjectAlternativeName,
          org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.pkcs_9_at_smimeCapabilities) // emailProtection's
          .contains(oid), "only the template's extensions: " + oid);
    }
    assertFalse(unused(s));
  }

  @Test
  void aStoreWriterCannotChangeTheAddressASecretBinds() throws Exception {
    String subject = subject();
    SecretService.NewSecret s = ca.services().secrets().create(Identity.localOperator(), "User",
        new X500Name(subject), new GeneralNames(new GeneralName(GeneralName.rfc822Name, "pat@example.org")));
    byte[] forged = new GeneralNames(new GeneralName(GeneralName.rfc822Name, "ceo@example.org")).getEncoded("DER");
    DirectSql.run(ca.services().store(), c -> {
      try (var ps = c.prepareStatement("UPDATE enrollment_secret SET subject_alt_names = ? WHERE reference = ?")) {
        ps.setBytes(1, forged);
        ps.setString(2, s.reference());
        return ps.executeUpdate();
      }
    });
    refused(39, PKIFailureInfo.notAuthorized, "no longer matches the CA's secret key or what it was made for",
        () -> attacker.request(attacker.withSecret(Attacker.ir(Attacker.crmf(ec(), new X500Name(subject), null,
            null)), s.reference(), s.secret(), null, true)));
  }

  @Test
  void aKeyUpdateCannotAddAName() throws Exception {
    KeyPair own = ec();
    X509CertificateHolder cert = ownUserCertificate(subject(), own);
    GeneralNames added = new GeneralNames(new GeneralName(GeneralName.rfc822Name, "boss@example.org"));
    refused(61, PKIFailureInfo.badCertTemplate, "a key update keeps the names of the certificate it updates",
        () -> attacker.request(attacker.signedBy(Attacker.kur(Attacker.crmf(ec(), cert.getSubject(),
            sanExtension(added), null)), cert, own.getPrivate(), null, false)));
  }

  @Test
  void approverNamesAreHeldShownAndIssuedOnlyOnApproval() throws Exception {
    String subject = "CN=web.corp.example";
    SecretService.NewSecret s = ca.secret("WebApproved", subject);
    // a type the template does not allow is refused before anything is held
    refused(61, PKIFailureInfo.badCertTemplate, "template WebApproved allows no upn", () -> attacker.request(
        attacker.withSecret(Attacker.ir(Attacker.crmf(ec(), new X500Name(subject), sanExtension(esc1Names()), null)),
            s.reference(), s.secret(), null, false)));
    GeneralNames dns = new GeneralNames(new GeneralName(GeneralName.dNSName, "web.corp.example"));
    ExtensionsGenerator g = new ExtensionsGenerator();
    g.addExtension(Extension.subjectAlternativeName, false, dns);
    Attacker.Answer held = attacker.request(attacker.withSecret(Attacker.ir(Attacker.crmf(ec(), new X500Name(subject),
        g.generate(), null)), s.reference(), s.secret(), null, false));
    assertEquals(3, held.status(), "waiting: " + held);
    RequestRecord r = ca.services().approvals().list(Agents.MANAGER, RequestRecord.Status.PENDING).stream()
        .filter(q -> q.subject().equals(subject)).findFirst().orElseThrow();
    String shown = ca.services().store().inTransaction(tx -> tx.requests().find(r.id())).map(q ->
        org.keyarc.ca.template.NameRules.texts(org.keyarc.ca.template.NameRules.of(Extensions.getInstance(
            q.extensions()))).toString()).orElseThrow();
    assertEquals("[dns:web.corp.example]", shown, "request show lists the names approval would issue");
    X509CertificateHolder cert = ca.services().approvals().approve(new Identity(Identity.Kind.CERTIFICATE,
        "CN=Approving Manager", java.util.Set.of(Role.MANAGER)), r.id());
    assertEquals(new GeneralName(GeneralName.dNSName, "web.corp.example"), GeneralNames.fromExtensions(
        cert.getExtensions(), Extension.subjectAlternativeName).getNames()[0]);
  }

  @Test
  void aTemplateNeedingTwoManagersIssuesOnlyWithTheSecondOnesApproval() throws Exception {
    String subject = "CN=Two Managers";
    SecretService.NewSecret s = ca.secret("TwoManagers", subject);
    Attacker.Answer held = attacker.request(attacker.withSecret(Attacker.ir(Attacker.crmf(ec(), new X500Name(subject),
        null, null)), s.reference(), s.secret(), null, false));
    assertEquals(3, held.status(), "waiting: " + held);
    RequestRecord r = ca.services().approvals().list(Agents.MANAGER, RequestRecord.Status.PENDING).stream()
        .filter(q -> q.subject().equals(subject)).findFirst().orElseThrow();
    Identity first = new Identity(Identity.Kind.CERTIFICATE, "CN=First Manager", java.util.Set.of(Role.MANAGER));
    Identity second = new Identity(Identity.Kind.CERTIFICATE, "CN=Second Manager", java.util.Set.of(Role.MANAGER));
    assertEquals(null, ca.services().approvals().approve(first, r.id()), "one approval of two: nothing issued");
    assertEquals(RequestRecord.Status.PENDING, ca.services().approvals().show(Agents.MANAGER, r.id()).status());
    CaException again = assertThrows(CaException.class, () -> ca.services().approvals().approve(first, r.id()));
    assertEquals(org.keyarc.protocol.ErrorCode.FOUR_EYES, again.code(), again.getMessage());
    assertTrue(again.getMessage().contains("approved request " + r.id() + " already; it needs 1 more approval"),
        again.getMessage());
    X509CertificateHolder cert = ca.services().approvals().approve(second, r.id());
    assertEquals(subject, cert.getSubject().toString());
    assertEquals(2, ca.services().store().inTransaction(tx -> tx.requests().approvals(r.id())).size());
    assertEquals(List.of("approval=1 of 2", "approval=2 of 2 serial=" + org.keyarc.ca.support.Digests.hex(cert.getSerialNumber())),
        ca.services().store().inTransaction(tx -> tx.audit().all()).stream().filter(a -> a.action().equals(
            "request.approve") && a.target().equals("request:" + r.id())).map(a -> a.detail()).toList());
  }

  // ------------------------------------------------------------------ 8. archival that cannot be fooled

  @Test
  void aPkcs8WithTheRightModulusAndARandomPrivateExponentIsNotArchived() throws Exception {
    String subject = subject();
    SecretService.NewSecret s = ca.secret("ExchangeUserKeyArc", subject);
    X509CertificateHolder exchange = attacker.exchangeCertificate();
    KeyPair kp = rsa();
    RSAPrivateCrtKey real = (RSAPrivateCrtKey) kp.getPrivate();
    RSAPrivateCrtKey other = (RSAPrivateCrtKey) rsa().getPrivate();
    BigInteger randomD = new BigInteger(real.getModulus().bitLength() - 1, new java.security.SecureRandom());
    byte[] forged = new PrivateKeyInfo(new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption,
        org.bouncycastle.asn1.DERNull.INSTANCE), new org.bouncycastle.asn1.pkcs.RSAPrivateKey(real.getModulus(),
            real.getPublicExponent(), randomD, other.getPrimeP(), other.getPrimeQ(), other.getPrimeExponentP(),
            other.getPrimeExponentQ(), other.getCrtCoefficient())).getEncoded("DER");
    refused(32, PKIFailureInfo.badPOP, "the archived private key does not match the requested public key",
        () -> attacker.request(attacker.withSecret(Attacker.ir(Attacker.crmf(kp, new X500Name(subject), null,
            Attacker.encryptedKey(forged, exchange))), s.reference(), s.secret(), null, true)));
    assertTrue(unused(s));
    // the real key goes through: the refusal was the private exponent
    Attacker.Answer ok = attacker.request(attacker.withSecret(Attacker.ir(Attacker.crmf(kp, new X500Name(subject), null,
        Attacker.encryptedKey(kp.getPrivate().getEncoded(), exchange))), s.reference(), s.secret(), null, true));
    assertTrue(ok.granted(), ok.toString());
  }

  @Test
  void archivalOnASignatureOnlyTemplateIsAConfigurationError() throws Exception {
    Path f = ca.dir.resolve("signature-archive.yaml");
    Files.writeString(f, String.join("\n", "hsm:", "  module: /x/lib.so", "templates:", "  - name: SignOnly",
        "    keyUsage: [digitalSignature, nonRepudiation]", "    archivePrivateKey: true", ""));
    ConfigException e = assertThrows(ConfigException.class, () -> NodeConfig.load(f));
    assertTrue(e.getMessage().contains("field 'templates[0].archivePrivateKey' template SignOnly archives private "
        + "keys, but its keyUsage is signature-only"), e.getMessage());
  }

  /**
   * An archived key whose certificate the requester has not confirmed yet: no administrative read gives out the
   * certificate or its hash (for an encrCert request the hash is the proof of possession), archive.find withholds
   * the hash and getkey refuses with a clear error; once confirmed, getkey gives the blob.
   */
  @Test
  void anArchivedKeysCertificateIsNotGivenOutBeforeCertConf() throws Exception {
    String subject = subject();
    SecretService.NewSecret s = ca.services().secrets().create(Identity.localOperator(), "ExchangeUserKeyArc",
        new X500Name(subject), null);
    KeyPair kp = TestCa.rsaKey(2048);
    Attacker.Answer a = attacker.request(attacker.withSecret(Attacker.ir(Attacker.crmf(kp, new X500Name(subject), null,
        Attacker.encryptedKey(kp.getPrivate().getEncoded(), attacker.exchangeCertificate()))), s.reference(),
        s.secret(), null, false)); // no implicit confirmation, and no certConf sent
    assertTrue(a.granted(), a.toString());
    String serial = a.cert().getSerialNumber().toString(16);
    Actors.Party admin = Actors.administrator(ca, "CN=Archive Reader Admin");
    Actors.Party manager = Actors.member(ca, admin, "CN=Archive Reader Manager", "manager");

    com.fasterxml.jackson.databind.JsonNode found = Actors.ok(ca, manager, "{\"op\":\"archive.find\",\"serial\":\""
        + serial + "\"}").path("archives").get(0);
    assertFalse(found.has("certSha256"), found.toString());
    assertTrue(found.path("withheld").asText().contains("certConf"), found.toString());
    org.bouncycastle.asn1.cmp.PKIMessage refused = Actors.admin(ca, manager, "{\"op\":\"archive.getkey\",\"serial\":\""
        + serial + "\"}");
    assertEquals(30, Wire.code(refused), Wire.text(refused));
    assertTrue(Wire.message(refused).contains("waiting for its requester's certConf"), Wire.text(refused));

    org.keyarc.ca.store.DirectSql.run(ca.services().store(), c -> { // as the requester's certConf would leave it
      try (java.sql.PreparedStatement ps = c.prepareStatement("UPDATE certificate SET status = 'ISSUED' WHERE serial = ?")) {
        ps.setString(1, serial);
        assertEquals(1, ps.executeUpdate());
      }
      return null;
    });
    assertEquals(1, Actors.ok(ca, manager, "{\"op\":\"archive.getkey\",\"serial\":\"" + serial + "\"}")
        .path("blobs").size());
    assertTrue(Actors.ok(ca, manager, "{\"op\":\"archive.find\",\"serial\":\"" + serial + "\"}").path("archives")
        .get(0).has("certSha256"));
  }

  @Test
  void ecKeysGetKeyAgreementAndNeverKeyEncipherment() throws Exception {
    // archival on ExchangeUserKeyArc (keyEncipherment, dataEncipherment) with a P-256 key and a bound address
    String subject = subject();
    SecretService.NewSecret s = ca.services().secrets().create(Identity.localOperator(), "ExchangeUserKeyArc",
        new X500Name(subject), new GeneralNames(new GeneralName(GeneralName.rfc822Name, "ec@example.org")));
    KeyPair kp = ec();
    Attacker.Answer a = attacker.request(attacker.withSecret(Attacker.ir(Attacker.crmf(kp, new X500Name(subject), null,
        Attacker.encryptedKey(kp.getPrivate().getEncoded(), attacker.exchangeCertificate()))), s.reference(),
        s.secret(), null, true));
    assertTrue(a.granted(), a.toString());
    X509CertificateHolder cert = a.cert();
    assertTrue(hasUsage(cert, KeyUsage.keyAgreement), "keyAgreement for an EC key");
    assertFalse(hasUsage(cert, KeyUsage.keyEncipherment), "never keyEncipherment");
    assertFalse(hasUsage(cert, KeyUsage.dataEncipherment), "never dataEncipherment");
    assertEquals(new GeneralName(GeneralName.rfc822Name, "ec@example.org"), GeneralNames.fromExtensions(
        cert.getExtensions(), Extension.subjectAlternativeName).getNames()[0], "the Exchange User's e-mail");
    assertTrue(ExtendedKeyUsage.fromExtensions(cert.getExtensions()).hasKeyPurposeId(
        KeyPurposeId.id_kp_emailProtection));
    assertNotNull(ca.services().archives().find(Agents.MANAGER, cert.getSerialNumber(), null, null).get(0));
    // and the User template's keyEncipherment becomes keyAgreement too
    X509CertificateHolder user = ownUserCertificate(subject(), ec());
    assertTrue(hasUsage(user, KeyUsage.digitalSignature | KeyUsage.keyAgreement));
    assertFalse(hasUsage(user, KeyUsage.keyEncipherment));
  }

  @Test
  void certificatesCarryNothingNotAsked() throws Exception {
    X509CertificateHolder plain = ownUserCertificate(subject(), ec());
    assertNull(plain.getExtension(Extension.subjectAlternativeName), "no names bound, none issued");
    assertFalse(hasUsage(plain, KeyUsage.keyCertSign));
  }
}
