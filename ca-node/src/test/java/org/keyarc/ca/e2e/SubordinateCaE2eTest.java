package org.keyarc.ca.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.config.X500Subject;
import org.keyarc.ca.store.RequestRecord;
import org.keyarc.ca.store.Role;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.client.CmpClient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.ca.e2e.OpensslCmpE2eTest.openssl;

/**
 * Issue 17, qualified subordination: a template of CA certificates with name and policy constraints. The sub-CA's
 * operator makes its key and PKCS#10 with OpenSSL, asks over CMP with a secret only an administrator can make, a
 * manager approves, the requester polls its certificate; then OpenSSL, which knows nothing of keyarc, issues leaves
 * under that sub-CA and judges them: inside the permitted names and under the mapped policy they verify, outside
 * the names, in an excluded subtree, without a policy, or below a further CA they are rejected.
 */
class SubordinateCaE2eTest {
  private static final String POLICY = "1.3.6.1.4.1.55555.1.1";
  private static final String SUB_POLICY = "1.3.6.1.4.1.77777.1.1";
  private static TestCa ca;
  private static Path dir;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> {
      cfg.ca.publicUrl = "http://pki.example/";
      NodeConfig.TemplateCfg t = new NodeConfig.TemplateCfg();
      t.name = "ExampleSubCA";
      t.validityDays = 730;
      t.keyUsage = List.of("digitalSignature");
      t.requiresApproval = true;
      t.ecCurves = List.of("P-256");
      t.enroll = new NodeConfig.EnrollCfg();
      t.enroll.secretCreators = List.of("administrator");
      t.certificatePolicies = List.of(POLICY);
      t.cpsUri = "https://pki.example/cps";
      t.subordinateCa = new NodeConfig.SubordinateCaCfg();
      t.subordinateCa.pathLen = 0;
      t.subordinateCa.permitted = List.of("dns:example.com", "email:.example.com");
      t.subordinateCa.excluded = List.of("dns:secret.example.com");
      t.subordinateCa.policyMappings = List.of(POLICY + "=" + SUB_POLICY);
      t.subordinateCa.requireExplicitPolicy = 0;
      t.subordinateCa.inhibitAnyPolicy = 0;
      cfg.templates = List.of(t);
    });
    dir = Files.createTempDirectory(ca.dir, "subca-");
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  @Test
  void aConstrainedSubCaIsIssuedAndOpensslHoldsItsLeavesToTheConstraints() throws Exception {
    Pem.write(dir, "ca.pem", ca.caCert());
    // the sub-CA's operator: key and request made with OpenSSL
    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "sub.key");
    run("req", "-new", "-key", "sub.key", "-subj", "/O=Example/CN=Example Issuing CA", "-out", "sub.csr");
    PKCS10CertificationRequest csr;
    try (PEMParser p = new PEMParser(Files.newBufferedReader(dir.resolve("sub.csr")))) {
      csr = (PKCS10CertificationRequest) p.readObject();
    }
    // only an administrator makes the secret; a manager cannot
    Identity manager = new Identity(Identity.Kind.CERTIFICATE, "CN=Sub CA Manager", Set.of(Role.MANAGER));
    CaException notManager = assertThrows(CaException.class, () -> ca.services().secrets().create(manager,
        "ExampleSubCA", X500Subject.parse("O=Example,CN=Example Issuing CA")));
    assertEquals(ErrorCode.NOT_AUTHORIZED, notManager.code(), notManager.getMessage());
    SecretService.NewSecret secret = ca.secret("ExampleSubCA", "O=Example,CN=Example Issuing CA");
    X509CertificateHolder sub;
    try (CmpClient c = ca.macClient(ca.binaryUrl(), secret)) {
      CmpClient.Result held = c.p10cr(csr, "ExampleSubCA", false);
      assertNotNull(held.pending(), "a CA certificate waits for a manager");
      RequestRecord r = ca.services().approvals().list(Agents.MANAGER, RequestRecord.Status.PENDING).stream()
          .filter(q -> q.subject().contains("Example Issuing CA")).findFirst().orElseThrow();
      ca.services().approvals().approve(Agents.MANAGER, r.id());
      sub = c.poll(held.pending(), Duration.ofSeconds(30), m -> { }).enrolled().cert();
    }
    BasicConstraints bc = BasicConstraints.fromExtensions(sub.getExtensions());
    assertTrue(bc.isCA(), "CA:true");
    assertEquals(0, bc.getPathLenConstraint().intValue());
    assertTrue(KeyUsage.fromExtensions(sub.getExtensions()).hasUsages(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    for (var oid : List.of(Extension.nameConstraints, Extension.policyMappings, Extension.policyConstraints,
        Extension.inhibitAnyPolicy, Extension.basicConstraints, Extension.keyUsage)) {
      assertTrue(sub.getExtension(oid).isCritical(), oid + " is critical");
    }
    assertEquals(2, NameConstraints.getInstance(sub.getExtension(Extension.nameConstraints).getParsedValue())
        .getPermittedSubtrees().length);
    Pem.write(dir, "sub.pem", sub);
    OpensslCmpE2eTest.Run strict = openssl(dir, "verify", "-x509_strict", "-CAfile", "ca.pem", "sub.pem");
    assertEquals(0, strict.exit(), strict.output());

    // leaves issued by the sub-CA with OpenSSL, judged by OpenSSL
    leaf("inside", "DNS:www.example.com, email:alice@mail.example.com", SUB_POLICY, false);
    leaf("outside", "DNS:www.example.org", SUB_POLICY, false);
    leaf("excluded", "DNS:db.secret.example.com", SUB_POLICY, false);
    leaf("nopolicy", "DNS:plain.example.com", null, false);
    leaf("deeper", "DNS:ca2.example.com", SUB_POLICY, true);
    OpensslCmpE2eTest.Run inside = verify("inside.pem", "-policy", POLICY, "-explicit_policy");
    assertEquals(0, inside.exit(), "a leaf inside the permitted names, under the mapped policy: " + inside.output());
    assertTrue(inside.output().contains("inside.pem: OK"), inside.output());
    assertRejected(verify("outside.pem"), "permitted subtree violation");
    assertRejected(verify("excluded.pem"), "excluded subtree violation");
    assertRejected(verify("nopolicy.pem"), "no explicit policy");
    // a CA certificate below the sub-CA (pathLenConstraint 0), then a leaf under that
    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "leaf2.key");
    run("req", "-new", "-key", "leaf2.key", "-subj", "/CN=below.example.com", "-out", "leaf2.csr");
    Files.writeString(dir.resolve("leaf2.ext"), "basicConstraints=critical,CA:false\nkeyUsage=critical,"
        + "digitalSignature\nsubjectAltName=DNS:below.example.com\ncertificatePolicies=" + SUB_POLICY + "\n"
        + "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n");
    run("x509", "-req", "-in", "leaf2.csr", "-CA", "deeper.pem", "-CAkey", "deeper.key", "-CAcreateserial",
        "-days", "30", "-extfile", "leaf2.ext", "-out", "leaf2.pem");
    Files.writeString(dir.resolve("chain.pem"), Files.readString(dir.resolve("sub.pem"))
        + Files.readString(dir.resolve("deeper.pem")));
    assertRejected(openssl(dir, "verify", "-policy_check", "-CAfile", "ca.pem", "-untrusted", "chain.pem",
        "leaf2.pem"), "path length constraint exceeded");
  }

  /**
   * The reviewer's conversions: an end-entity template turned into one of CA certificates at runtime (its held
   * requests and its holders' renewals would come out as CAs), and a sub-CA certificate with this CA's own name.
   */
  @Test
  void aTemplateDoesNotChangeKindAndNoCertificateCarriesThisCasName() throws Exception {
    NodeConfig.TemplateCfg user = org.keyarc.ca.config.TemplateDefinitions.parse(ca.services().catalog().show(
        Identity.localOperator(), "User").definition());
    user.subordinateCa = new NodeConfig.SubordinateCaCfg();
    user.requiresApproval = true;
    user.keyUsage = List.of("digitalSignature");
    user.subjectAltNames = new java.util.LinkedHashMap<>();
    user.enroll = new NodeConfig.EnrollCfg();
    user.enroll.secretCreators = List.of("administrator");
    user.enroll.holdersOf = List.of();
    CaException kind = assertThrows(CaException.class, () -> ca.services().catalog().importDefinitions(
        Identity.localOperator(), List.of(org.keyarc.ca.config.TemplateDefinitions.json(user))));
    assertEquals(ErrorCode.BAD_REQUEST, kind.code(), kind.getMessage());
    assertTrue(kind.getMessage().contains("template User issues end-entity certificates and cannot be changed to "
        + "issue CA ones"), kind.getMessage());

    String own = ca.caCert().getSubject().toString();
    SecretService.NewSecret secret = ca.secret("ExampleSubCA", own);
    PKCS10CertificationRequest csr = csrFor(own);
    try (CmpClient c = ca.macClient(ca.binaryUrl(), secret)) {
      assertNotNull(c.p10cr(csr, "ExampleSubCA", false).pending());
    }
    RequestRecord r = ca.services().approvals().list(Agents.MANAGER, RequestRecord.Status.PENDING).stream()
        .filter(q -> q.subject().equals(own)).findFirst().orElseThrow();
    CaException twin = assertThrows(CaException.class, () -> ca.services().approvals().approve(Agents.MANAGER,
        r.id()));
    assertEquals(ErrorCode.BAD_SUBJECT, twin.code(), twin.getMessage());
    assertTrue(twin.getMessage().contains("is this CA's own name"), twin.getMessage());
  }

  /** A PKCS#10 for {@code subject} with a new P-256 key (Bouncy Castle, as a client would make it). */
  private static PKCS10CertificationRequest csrFor(String subject) throws Exception {
    java.security.KeyPair kp = TestCa.ecKey();
    return new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(
        new org.bouncycastle.asn1.x500.X500Name(subject), kp.getPublic()).build(
            new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()));
  }

  @Test
  void aTemplateOfCaCertificatesMustKeepItsRules() {
    NodeConfig cfg = ca.cfg;
    NodeConfig.TemplateCfg t = cfg.templates.get(0);
    boolean approval = t.requiresApproval;
    try {
      t.requiresApproval = false;
      org.keyarc.ca.config.ConfigException e = assertThrows(org.keyarc.ca.config.ConfigException.class,
          cfg::validate);
      assertTrue(e.getMessage().contains("requiresApproval") && e.getMessage().contains("issues CA certificates"),
          e.getMessage());
    } finally {
      t.requiresApproval = approval;
    }
  }

  private static void assertRejected(OpensslCmpE2eTest.Run r, String reason) {
    assertTrue(r.exit() != 0 && r.output().contains(reason), "expected '" + reason + "': " + r.output());
  }

  private static OpensslCmpE2eTest.Run verify(String leaf, String... more) throws Exception {
    List<String> args = new java.util.ArrayList<>(List.of("verify", "-x509_strict", "-policy_check", "-CAfile",
        "ca.pem", "-untrusted", "sub.pem"));
    args.addAll(List.of(more));
    args.add(leaf);
    return openssl(dir, args.toArray(new String[0]));
  }

  /** A certificate the sub-CA issues with OpenSSL: {@code ca} makes it a CA certificate itself. */
  private static void leaf(String name, String san, String policy, boolean isCa) throws Exception {
    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name + ".key");
    run("req", "-new", "-key", name + ".key", "-subj", "/CN=" + name, "-out", name + ".csr");
    Files.writeString(dir.resolve(name + ".ext"), (isCa ? "basicConstraints=critical,CA:true\n"
        + "keyUsage=critical,keyCertSign,cRLSign\n" : "basicConstraints=critical,CA:false\n"
        + "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,emailProtection\n")
        + "subjectAltName=" + san + "\n" + (policy == null ? "" : "certificatePolicies=" + policy + "\n")
        + "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n");
    run("x509", "-req", "-in", name + ".csr", "-CA", "sub.pem", "-CAkey", "sub.key", "-CAcreateserial", "-days",
        "30", "-extfile", name + ".ext", "-out", name + ".pem");
  }

  private static void run(String... args) throws Exception {
    OpensslCmpE2eTest.Run r = openssl(dir, args);
    assertEquals(0, r.exit(), String.join(" ", args) + ": " + r.output());
  }


}
