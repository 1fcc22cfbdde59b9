package org.keyarc.ca.template;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.protocol.ErrorCode;

class TemplateRulesTest {
  private static final Templates TEMPLATES = Templates.of(List.of());
  private static final Template USER = TEMPLATES.find(Templates.USER).orElseThrow();
  private static final Template KRA = TEMPLATES.find(Templates.KEY_RECOVERY_AGENT).orElseThrow();

  private static CaException refused(ErrorCode code, org.junit.jupiter.api.function.Executable call) {
    CaException e = assertThrows(CaException.class, call);
    assertEquals(code, e.code(), e.getMessage());
    return e;
  }

  private static SubjectPublicKeyInfo rsa(int bits) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(bits);
    return SubjectPublicKeyInfo.getInstance(g.generateKeyPair().getPublic().getEncoded());
  }

  private static SubjectPublicKeyInfo ec(String curve) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec(curve));
    return SubjectPublicKeyInfo.getInstance(g.generateKeyPair().getPublic().getEncoded());
  }

  @Test
  void subjectWithTheRequiredAndAllowedRdnsPasses() {
    assertDoesNotThrow(() -> TemplateRules.checkSubject(USER, new X500Name("CN=alice,O=Example,C=DE")));
    assertDoesNotThrow(() -> TemplateRules.checkSubject(USER,
        new X500Name("CN=alice,E=alice@example.org,SERIALNUMBER=42")));
  }

  @Test
  void subjectWithoutARequiredRdnIsRefused() {
    CaException e = refused(ErrorCode.BAD_SUBJECT,
        () -> TemplateRules.checkSubject(USER, new X500Name("O=Example,C=DE")));
    assertTrue(e.getMessage().contains("needs CN"), e.getMessage());
  }

  @Test
  void subjectWithAnRdnNotAllowedIsRefused() {
    CaException e = refused(ErrorCode.BAD_SUBJECT,
        () -> TemplateRules.checkSubject(USER, new X500Name("CN=alice,DC=example")));
    assertTrue(e.getMessage().contains("does not allow DC"), e.getMessage());
    assertTrue(e.getMessage().contains("template User"), e.getMessage());
  }

  @Test
  void emptyOrBlankSubjectIsRefused() {
    refused(ErrorCode.BAD_SUBJECT,
        () -> TemplateRules.checkSubject(USER, new X500Name(new org.bouncycastle.asn1.x500.RDN[0])));
    refused(ErrorCode.BAD_SUBJECT, () -> TemplateRules.checkSubject(USER, null));
    CaException e = refused(ErrorCode.BAD_SUBJECT, () -> TemplateRules.checkSubject(USER, new X500Name("CN= ")));
    assertTrue(e.getMessage().contains("CN is empty"), e.getMessage());
  }

  @Test
  void rsaAtTheMinimumPassesAndBelowIsRefused() throws Exception {
    SubjectPublicKeyInfo ok = rsa(2048);
    assertDoesNotThrow(() -> TemplateRules.checkKey(USER, ok));
    SubjectPublicKeyInfo small = rsa(1024);
    CaException e = refused(ErrorCode.KEY_NOT_ALLOWED, () -> TemplateRules.checkKey(USER, small));
    assertTrue(e.getMessage().contains("1024 bits is too small"), e.getMessage());
    assertTrue(e.getMessage().contains("at least 2048"), e.getMessage());
  }

  @Test
  void ecOnAnAllowedCurvePassesAndOtherCurvesAreRefused() throws Exception {
    SubjectPublicKeyInfo p256 = ec("secp256r1");
    assertDoesNotThrow(() -> TemplateRules.checkKey(USER, p256));
    SubjectPublicKeyInfo p521 = ec("secp521r1");
    CaException e = refused(ErrorCode.KEY_NOT_ALLOWED, () -> TemplateRules.checkKey(USER, p521));
    assertTrue(e.getMessage().contains("curve secp521r1"), e.getMessage());
  }

  @Test
  void aTemplateWithoutCurvesRefusesEveryEcKey() throws Exception {
    SubjectPublicKeyInfo p256 = ec("secp256r1");
    CaException e = refused(ErrorCode.KEY_NOT_ALLOWED, () -> TemplateRules.checkKey(KRA, p256));
    assertTrue(e.getMessage().contains("no EC keys at all"), e.getMessage());
  }

  @Test
  void otherKeyTypesAreRefused() throws Exception {
    SubjectPublicKeyInfo ed = SubjectPublicKeyInfo.getInstance(
        KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic().getEncoded());
    refused(ErrorCode.KEY_NOT_ALLOWED, () -> TemplateRules.checkKey(USER, ed));
  }

  @Test
  void unknownTemplateNamesTheOffered() {
    CaException e = refused(ErrorCode.UNKNOWN_TEMPLATE, () -> TEMPLATES.require("WebServer"));
    assertTrue(e.getMessage().contains("unknown template 'WebServer'"), e.getMessage());
    assertTrue(e.getMessage().contains("KeyRecoveryAgent, ExchangeUserKeyArc, User"), e.getMessage());
  }

  @Test
  void builtInsArePresentAndAgentCertificatesAlwaysWaitForApproval() throws CaException {
    assertEquals(Set.of(Templates.KEY_RECOVERY_AGENT, Templates.EXCHANGE_USER, Templates.USER, Templates.SUB_CA,
        Templates.SMIME_SIGNATURE, Templates.SMIME_ENCRYPTION),
        TEMPLATES.all().stream().map(Template::name).collect(Collectors.toSet()));
    Template sub = TEMPLATES.require(Templates.SUB_CA);
    assertTrue(sub.issuesCaCertificates() && sub.requiresApproval() && !sub.archivePrivateKey());
    assertEquals(Set.of(org.keyarc.ca.store.Role.ADMINISTRATOR), sub.enrollers().secretCreators(),
        "only an administrator asks for a CA certificate");
    assertTrue(!TEMPLATES.require(Templates.SMIME_SIGNATURE).archivePrivateKey()
        && TEMPLATES.require(Templates.SMIME_ENCRYPTION).archivePrivateKey(), "the dual pair: sign never, encrypt always");
    assertTrue(TEMPLATES.require(Templates.EXCHANGE_USER).archivePrivateKey());
    assertTrue(KRA.requiresApproval());
    Template relaxed = KRA.toBuilder().requiresApproval(false).build();
    assertTrue(Templates.of(List.of(relaxed)).require(Templates.KEY_RECOVERY_AGENT).requiresApproval());
  }

  @Test
  void rsaKeysAreBoundedBothWaysAndTheirExponentToo() throws Exception {
    Template user = Templates.of(java.util.List.of()).require("User");
    java.math.BigInteger n = java.math.BigInteger.ONE.shiftLeft(2047).setBit(0);
    java.util.function.BiFunction<java.math.BigInteger, java.math.BigInteger, SubjectPublicKeyInfo> rsa = (mod, e) -> {
      try {
        return new SubjectPublicKeyInfo(new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
            org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.rsaEncryption, org.bouncycastle.asn1.DERNull.INSTANCE),
            new org.bouncycastle.asn1.pkcs.RSAPublicKey(mod, e));
      } catch (java.io.IOException ex) {
        throw new IllegalStateException(ex);
      }
    };
    TemplateRules.checkKey(user, rsa.apply(n, java.math.BigInteger.valueOf(65537)));
    org.keyarc.ca.CaException big = org.junit.jupiter.api.Assertions.assertThrows(org.keyarc.ca.CaException.class,
        () -> TemplateRules.checkKey(user, rsa.apply(java.math.BigInteger.ONE.shiftLeft(16383).setBit(0),
            java.math.BigInteger.valueOf(65537))));
    org.junit.jupiter.api.Assertions.assertTrue(big.getMessage().contains("too large"), big.getMessage());
    for (java.math.BigInteger e : new java.math.BigInteger[] {java.math.BigInteger.ONE,
        java.math.BigInteger.valueOf(65536), java.math.BigInteger.ONE.shiftLeft(4095).setBit(0)}) {
      org.keyarc.ca.CaException x = org.junit.jupiter.api.Assertions.assertThrows(org.keyarc.ca.CaException.class,
          () -> TemplateRules.checkKey(user, rsa.apply(n, e)));
      org.junit.jupiter.api.Assertions.assertEquals(org.keyarc.protocol.ErrorCode.KEY_NOT_ALLOWED, x.code());
    }
  }

  @Test
  void anOverlongSubjectIsRefusedNamingTheLimit() throws Exception {
    Template user = Templates.of(java.util.List.of()).require("User");
    org.keyarc.ca.CaException e = org.junit.jupiter.api.Assertions.assertThrows(org.keyarc.ca.CaException.class,
        () -> TemplateRules.checkSubject(user, new org.bouncycastle.asn1.x500.X500Name("CN=Long"
            + (", OU=" + "x".repeat(60)).repeat(10))));
    org.junit.jupiter.api.Assertions.assertEquals(org.keyarc.protocol.ErrorCode.BAD_SUBJECT, e.code());
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("at most 512"), e.getMessage());
  }
}
