package org.keyarc.ca.template;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.OtherName;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.protocol.ErrorCode;

/** The subjectAltName policy: what a request may ask, what a secret may bind, what a certificate gets. */
class NameRulesTest {
  private static final Templates BUILT_IN = Templates.of(List.of());
  private static final Template USER = BUILT_IN.find(Templates.USER).orElseThrow();
  private static final Template WEB = Template.builder("Web").keyUsage(KeyUsage.digitalSignature)
      .requiresApproval(true).subjectAltNames(new SanPolicy(Map.of(
          SanType.DNS_NAME, new SanPolicy.Rule(SanPolicy.Source.REQUEST, List.of("corp.example"), true),
          SanType.IP_ADDRESS, SanPolicy.Rule.from(SanPolicy.Source.APPROVER)))).build();

  private static GeneralNames names(String... texts) {
    return new GeneralNames(java.util.Arrays.stream(texts).map(SanType::parse).toArray(GeneralName[]::new));
  }

  private static CaException refused(ErrorCode code, org.junit.jupiter.api.function.Executable call) {
    CaException e = assertThrows(CaException.class, call);
    assertEquals(code, e.code(), e.getMessage());
    return e;
  }

  @Test
  void theSecretsNamesAreIssuedAndARequestMayOnlyRepeatThem() throws CaException {
    GeneralNames bound = names("email:alice@example.org");
    assertEquals(List.of("email:alice@example.org"), NameRules.texts(NameRules.decide(USER, null, bound, "the secret")));
    assertEquals(List.of("email:alice@example.org"), NameRules.texts(NameRules.decide(USER,
        names("email:ALICE@example.org"), bound, "the secret")), "a repeat in another case is the same name");
    CaException e = refused(ErrorCode.EXTENSION_NOT_ALLOWED, () -> NameRules.decide(USER,
        names("email:mallory@example.org"), bound, "the one-time secret"));
    assertTrue(e.getMessage().contains("takes rfc822Name from the one-time secret (email:alice@example.org)"),
        e.getMessage());
    assertNull(NameRules.decide(USER, null, null, "the secret"), "no names bound, none issued");
  }

  @Test
  void theEsc1RequestIsRefusedNamingTheType() {
    GeneralNames esc1 = new GeneralNames(new GeneralName[] {SanType.parse("dns:www.bank.example"),
        SanType.parse("upn:administrator@corp.example")});
    CaException e = refused(ErrorCode.EXTENSION_NOT_ALLOWED, () -> NameRules.decide(USER, esc1, null, "the secret"));
    assertTrue(e.getMessage().contains("template User allows no dNSName"), e.getMessage());
    CaException upn = refused(ErrorCode.EXTENSION_NOT_ALLOWED, () -> NameRules.decide(USER,
        names("upn:administrator@corp.example"), names("upn:alice@corp.example"), "the one-time secret"));
    assertTrue(upn.getMessage().contains("takes upn from the one-time secret (upn:alice@corp.example)"),
        upn.getMessage());
  }

  @Test
  void formsNeverIssuedAreRefused() {
    GeneralName other = new GeneralName(GeneralName.otherName, new OtherName(new ASN1ObjectIdentifier("1.2.3.4"),
        new DERUTF8String("x")));
    CaException e = refused(ErrorCode.EXTENSION_NOT_ALLOWED, () -> NameRules.decide(USER,
        new GeneralNames(other), null, "the secret"));
    assertTrue(e.getMessage().contains("otherName 1.2.3.4 is never issued"), e.getMessage());
    GeneralName rid = new GeneralName(GeneralName.registeredID, "1.2.3");
    refused(ErrorCode.EXTENSION_NOT_ALLOWED, () -> NameRules.decide(USER, new GeneralNames(rid), null, "s"));
  }

  @Test
  void requestValuesPassOnlyUnderTheirSuffixes() throws CaException {
    assertEquals(List.of("dns:www.corp.example", "ip:192.0.2.7"), NameRules.texts(NameRules.decide(WEB,
        names("dns:www.corp.example", "ip:192.0.2.7"), null, "s")));
    assertDoesNotThrow(() -> NameRules.decide(WEB, names("dns:CORP.example"), null, "s"));
    CaException e = refused(ErrorCode.EXTENSION_NOT_ALLOWED, () -> NameRules.decide(WEB,
        names("dns:www.bank.example"), null, "s"));
    assertTrue(e.getMessage().contains("only under corp.example"), e.getMessage());
    refused(ErrorCode.EXTENSION_NOT_ALLOWED, () -> NameRules.decide(WEB, names("dns:evilcorp.example"), null, "s"));
    CaException missing = refused(ErrorCode.BAD_SUBJECT, () -> NameRules.decide(WEB, names("ip:192.0.2.7"), null,
        "s"));
    assertTrue(missing.getMessage().contains("needs a dNSName"), missing.getMessage());
  }

  @Test
  void harmlessExtensionsAreIgnoredOthersRefused() throws Exception {
    ExtensionsGenerator g = new ExtensionsGenerator();
    g.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign));
    g.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    assertNull(NameRules.requested(USER, g.generate()), "keyarc sets these from the template");
    g.addExtension(Extension.subjectAlternativeName, false, names("email:a@example.org"));
    assertEquals(List.of("email:a@example.org"), NameRules.texts(NameRules.requested(USER, g.generate())));
    g.addExtension(Extension.nameConstraints, true, new org.bouncycastle.asn1.DERSequence());
    CaException e = refused(ErrorCode.EXTENSION_NOT_ALLOWED, () -> NameRules.requested(USER, g.generate()));
    assertTrue(e.getMessage().contains("extension nameConstraints (2.5.29.30) is not allowed"), e.getMessage());
  }

  @Test
  void aSecretBindsOnlyTypesTheTemplateTakesFromASecret() {
    assertDoesNotThrow(() -> NameRules.checkBound(USER, names("email:a@example.org", "upn:a@corp.example")));
    CaException e = refused(ErrorCode.EXTENSION_NOT_ALLOWED, () -> NameRules.checkBound(USER,
        names("dns:www.bank.example")));
    assertTrue(e.getMessage().contains("allows no dNSName"), e.getMessage());
    CaException ip = refused(ErrorCode.EXTENSION_NOT_ALLOWED, () -> NameRules.checkBound(WEB, names("ip:192.0.2.1")));
    assertTrue(ip.getMessage().contains("takes iPAddress from the approver, not from a one-time secret"),
        ip.getMessage());
  }

  @Test
  void aKeyUpdateKeepsTheOldNames() throws CaException {
    GeneralNames old = names("email:a@example.org");
    assertEquals(List.of("email:a@example.org"), NameRules.texts(NameRules.keep(USER, null, old)));
    refused(ErrorCode.EXTENSION_NOT_ALLOWED, () -> NameRules.keep(USER, names("email:b@example.org"), old));
  }

  @Test
  void valuesAreParsedAndCheckedByType() {
    assertEquals("upn:alice@corp.example", SanType.text(SanType.parse("UPN:alice@corp.example")));
    assertEquals("ip:2001:db8:0:0:0:0:0:1", SanType.text(SanType.parse("ip:2001:db8::1")));
    for (String bad : List.of("email:no-at-sign", "dns:*.wild.example", "dns:under_score.example", "ip:999.1.1.1",
        "uri:relative/path", "fax:123", "nocolon")) {
      assertThrows(IllegalArgumentException.class, () -> SanType.parse(bad), bad);
    }
  }
}
