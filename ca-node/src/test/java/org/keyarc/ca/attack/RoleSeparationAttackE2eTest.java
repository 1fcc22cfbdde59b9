package org.keyarc.ca.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.security.KeyPair;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.x500.X500Name;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.attack.Actors.Party;
import org.keyarc.ca.attack.Actors.Secret;
import org.keyarc.ca.e2e.TestCa;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.template.Templates;
import org.keyarc.protocol.ErrorCode;

/**
 * Issue 12's "role separation bypassed": roles were bound to the subject DN, so a manager minted a secret for
 * the administrator's name, enrolled, and was the administrator. Now a role is bound to a key, and no secret or
 * certificate is issued for a role holder's name except to the holder: each attempt over the wire is refused
 * with ROLE_CONFLICT, leaves nothing stored and is audited.
 */
class RoleSeparationAttackE2eTest {
  static TestCa ca;
  static Party ada;
  static Party max;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start();
    ada = Actors.administrator(ca, "CN=Ada Admin, O=keyarc");
    max = Actors.member(ca, ada, "CN=Max Manager, O=keyarc", "manager");
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  private static String secretCreate(String template, String dn) {
    return Actors.JSON.createObjectNode().put("op", "secret.create").put("template", template).put("subject", dn)
        .toString();
  }

  @Test
  void managerMintsASecretForTheAdministratorsNameAndIsRefused() throws Exception {
    long[] before = Actors.state(ca);
    long refusals = Actors.audited(ca, "authz.refused");
    for (String dn : new String[] {"CN=Ada Admin, O=keyarc", "cn=ADA  admin,o=KEYARC"}) {
      PKIMessage a = Actors.admin(ca, max, secretCreate("User", dn));
      assertEquals(ErrorCode.ROLE_CONFLICT.number(), Wire.code(a), Wire.text(a));
      assertTrue(Wire.message(a).contains("holds the administrator role: no secret or certificate is issued for a "
          + "role holder's name"), Wire.message(a));
    }
    Actors.assertNothingStored(before, ca);
    assertEquals(refusals + 2, Actors.audited(ca, "authz.refused"));
    String audit = Actors.lastAudit(ca, "authz.refused");
    assertTrue(audit.startsWith("CN=Max Manager,O=keyarc | admin secret.create | code=46"), audit);
  }

  @Test
  void aCertificateOfTheAdministratorsNameUnderAnotherKeyHoldsNoRole() throws Exception {
    // the name is taken before it is granted: a manager's secret for the next administrator's name...
    Secret early = Actors.secret(ca, max, "User", "CN=Nia Next, O=keyarc");
    Party copy = Actors.enroll(ca, early, "CN=Nia Next, O=keyarc");
    // ...so the real Nia (enrolled with the administrator's secret) cannot be granted by name or serial until
    // the copy is revoked: a role holder's name belongs to one key
    Party nia = Actors.enroll(ca, Actors.secret(ca, ada, "User", "CN=Nia Next, O=keyarc"), "CN=Nia Next, O=keyarc");
    long[] before = Actors.state(ca);
    PKIMessage byName = Actors.admin(ca, ada, Actors.JSON.createObjectNode().put("op", "role.grant")
        .put("role", "auditor").put("subject", "CN=Nia Next, O=keyarc").toString());
    assertEquals(ErrorCode.ROLE_CONFLICT.number(), Wire.code(byName), Wire.text(byName));
    assertTrue(Wire.message(byName).contains("2 keys hold certificates named CN=Nia Next,O=keyarc"),
        Wire.message(byName));
    PKIMessage bySerial = Actors.admin(ca, ada, Actors.JSON.createObjectNode().put("op", "role.grant")
        .put("role", "auditor").put("serial", nia.serial()).toString());
    assertEquals(ErrorCode.ROLE_CONFLICT.number(), Wire.code(bySerial), Wire.text(bySerial));
    assertTrue(Wire.message(bySerial).contains("certificate " + copy.serial() + " also names"), Wire.message(bySerial));
    Actors.assertNothingStored(before, ca);

    Actors.ok(ca, max, "{\"op\":\"cert.revoke\",\"serial\":\"" + copy.serial() + "\",\"reason\":4}");
    JsonNode g = Actors.ok(ca, ada, Actors.JSON.createObjectNode().put("op", "role.grant").put("role", "auditor")
        .put("serial", nia.serial()).toString());
    assertEquals(nia.serial(), g.path("serial").asText());
    JsonNode who = Actors.ok(ca, nia, "{\"op\":\"whoami\"}");
    assertEquals("AUDITOR", who.path("roles").get(0).asText());
  }

  @Test
  void anEarlierSecretForANameThatLaterGotARoleNoLongerEnrolls() throws Exception {
    // the manager keeps a secret for Val's name; Val enrolls with the administrator's and becomes an auditor
    Secret kept = Actors.secret(ca, max, "User", "CN=Val Auditor, O=keyarc");
    Party val = Actors.member(ca, ada, "CN=Val Auditor, O=keyarc", "auditor");
    long[] before = Actors.state(ca);
    KeyPair kp = TestCa.ecKey();
    try (Wire w = Actors.wire(ca)) {
      PKIMessage a = w.certRequest(kept.mac(), PKIBody.TYPE_INIT_REQ, Wire.nonce(), new X500Name(
          "CN=Val Auditor, O=keyarc"), kp, null, true);
      assertEquals(ErrorCode.ROLE_CONFLICT.number(), Wire.code(a), Wire.text(a));
      assertNull(Wire.granted(a));
      assertTrue(Wire.message(a).contains("CN=Val Auditor,O=keyarc holds the auditor role"), Wire.message(a));
    }
    Actors.assertNothingStored(before, ca);
    assertTrue(Actors.lastAudit(ca, "authz.refused").startsWith("secret:" + kept.reference() + " | ir | code=46"),
        Actors.lastAudit(ca, "authz.refused"));
    // the holder itself still renews its own name with its own certificate
    try (Wire w = Actors.wire(ca)) {
      PKIMessage a = w.certRequest(val.sig(), PKIBody.TYPE_CERT_REQ, Wire.nonce(), new X500Name(
          "CN=Val Auditor, O=keyarc"), val.keys(), null, true);
      assertEquals(0, Wire.status(a), Wire.text(a));
    }
  }

  @Test
  void theAdministratorsRoleIsBoundToTheCeremonysCertificateAndNoOtherKey() throws Exception {
    JsonNode roles = Actors.ok(ca, ada, "{\"op\":\"role.list\"}");
    boolean found = false;
    for (JsonNode m : roles.path("members")) {
      if (m.path("role").asText().equals("ADMINISTRATOR")) {
        assertEquals(ada.serial(), m.path("serial").asText());
        assertTrue(m.path("holder").asText().startsWith("key:"), m.toString());
        found = true;
      }
    }
    assertTrue(found, roles.toString());
    assertEquals(0, roles.path("pending").size(), "the ceremony's role is bound, not waiting");
    // the manager's certificate holds the manager role only
    assertFalse(Actors.ok(ca, max, "{\"op\":\"whoami\"}").path("roles").toString().contains("ADMINISTRATOR"));
  }

  @Test
  void theCeremonyIsNotRepeatedForATakenName() throws Exception {
    long[] before = Actors.state(ca);
    for (String dn : new String[] {"CN=Ada Admin, O=keyarc", "CN=Max Manager, O=keyarc"}) {
      CaException e = assertThrows(CaException.class, () -> ca.services().secrets().createGranting(
          Identity.localOperator(), Templates.USER, new X500Name(dn), Role.ADMINISTRATOR));
      assertEquals(ErrorCode.ROLE_CONFLICT, e.code(), e.getMessage());
    }
    // and only the operator at the CA host makes such a secret
    CaException e = assertThrows(CaException.class, () -> ca.services().secrets().createGranting(
        ca.services().identities().identify(ada.cert()), Templates.USER, new X500Name("CN=Newcomer"),
        Role.ADMINISTRATOR));
    assertEquals(ErrorCode.NOT_AUTHORIZED, e.code());
    Actors.assertNothingStored(before, ca);
  }
}
