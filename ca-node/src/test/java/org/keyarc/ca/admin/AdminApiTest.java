package org.keyarc.ca.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.cmp.UnitCa;
import org.keyarc.ca.store.Role;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.admin.AdminFields;
import org.keyarc.protocol.admin.AdminOp;

/** The administrative API on JSON strings, over a CA without a node. */
class AdminApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Identity MANAGER = new Identity(Identity.Kind.CERTIFICATE, "CN=Unit Manager, O=keyarc",
      Set.of(Role.MANAGER));
  private static final Identity NOBODY = new Identity(Identity.Kind.CERTIFICATE, "CN=Unit Nobody, O=keyarc",
      Set.of());
  private static UnitCa ca;
  private static AdminApi api;

  @BeforeAll
  static void start() throws Exception {
    ca = UnitCa.create();
    api = ca.admin();
  }

  @AfterAll
  static void stop() throws Exception {
    if (ca != null) {
      ca.close();
    }
  }

  private static String op(AdminOp op) {
    return JSON.createObjectNode().put(AdminFields.OP, op.wireName()).toString();
  }

  @Test
  void unknownOperationIsABadRequest() {
    CaException e = assertThrows(CaException.class, () -> api.handle(MANAGER, "{\"op\":\"request.explode\"}"));
    assertEquals(ErrorCode.BAD_REQUEST, e.code());
    assertEquals("unknown administrative operation 'request.explode'", e.getMessage());
  }

  @Test
  void missingOperationIsABadRequest() {
    CaException e = assertThrows(CaException.class, () -> api.handle(MANAGER, "{}"));
    assertEquals(ErrorCode.BAD_REQUEST, e.code());
    assertEquals("the request needs the text field 'op'", e.getMessage());
  }

  @Test
  void notJsonIsABadMessage() {
    assertEquals(ErrorCode.BAD_MESSAGE, assertThrows(CaException.class, () -> api.handle(MANAGER, "{op")).code());
  }

  @Test
  void requestListNeedsAManager() throws Exception {
    CaException e = assertThrows(CaException.class, () -> api.handle(NOBODY, op(AdminOp.REQUEST_LIST)));
    assertEquals(ErrorCode.NOT_AUTHORIZED, e.code());
    JsonNode answer = JSON.readTree(api.handle(MANAGER, op(AdminOp.REQUEST_LIST)));
    assertTrue(answer.get("requests").isArray(), answer.toString());
  }

  @Test
  void auditListIsForAuditorsFiltersAndIsItselfAudited() throws Exception {
    Identity auditor = new Identity(Identity.Kind.CERTIFICATE, "CN=Unit Auditor, O=keyarc", Set.of(Role.AUDITOR));
    String list = JSON.createObjectNode().put(AdminFields.OP, AdminOp.AUDIT_LIST.wireName())
        .put(AdminFields.ACTION, "ca.init").put(AdminFields.LIMIT, 10).toString();
    assertEquals(ErrorCode.NOT_AUTHORIZED, assertThrows(CaException.class, () -> api.handle(MANAGER, list)).code());
    JsonNode answer = JSON.readTree(api.handle(auditor, list));
    assertEquals(1, answer.get("records").size(), answer.toString());
    assertEquals("ca.init", answer.get("records").get(0).get("action").asText());
    JsonNode reads = JSON.readTree(api.handle(auditor, JSON.createObjectNode().put(AdminFields.OP,
        AdminOp.AUDIT_LIST.wireName()).put(AdminFields.ACTION, "audit.read").put(AdminFields.ACTOR,
        "CN=Unit Auditor, O=keyarc").toString()));
    assertTrue(reads.get("records").size() >= 1, "the first reading was audited: " + reads);
    String tooMany = JSON.createObjectNode().put(AdminFields.OP, AdminOp.AUDIT_LIST.wireName())
        .put(AdminFields.LIMIT, 100_000).toString();
    assertEquals(ErrorCode.BAD_REQUEST, assertThrows(CaException.class, () -> api.handle(auditor, tooMany)).code());
    String badTime = JSON.createObjectNode().put(AdminFields.OP, AdminOp.AUDIT_LIST.wireName())
        .put(AdminFields.SINCE, "yesterday").toString();
    assertEquals(ErrorCode.BAD_REQUEST, assertThrows(CaException.class, () -> api.handle(auditor, badTime)).code());
  }

  @Test
  void acknowledgeNeedsAnAdministratorAndAFinding() throws Exception {
    String ack = JSON.createObjectNode().put(AdminFields.OP, AdminOp.AUDIT_ACKNOWLEDGE.wireName())
        .put(AdminFields.NOTE, "nothing happened").toString();
    assertEquals(ErrorCode.NOT_AUTHORIZED, assertThrows(CaException.class, () -> api.handle(MANAGER, ack)).code());
    CaException e = assertThrows(CaException.class, () -> api.handle(Identity.localOperator(), ack));
    assertEquals(ErrorCode.BAD_REQUEST, e.code());
    assertTrue(e.getMessage().contains("nothing to acknowledge"), e.getMessage());
  }

  @Test
  void certListPagesAreBoundedAndTheErrorHoldsNoSql() throws Exception {
    for (int limit : new int[] {-1, 0, 2_147_483_647}) {
      String list = JSON.createObjectNode().put(AdminFields.OP, AdminOp.CERT_LIST.wireName())
          .put(AdminFields.LIMIT, limit).toString();
      CaException e = assertThrows(CaException.class, () -> api.handle(MANAGER, list));
      assertEquals(ErrorCode.BAD_REQUEST, e.code());
      assertEquals("limit must be 1..1000, not " + limit, e.getMessage());
    }
  }

  @Test
  void whoamiAnswersIdentityAndRoles() throws Exception {
    JsonNode answer = JSON.readTree(api.handle(MANAGER, op(AdminOp.WHOAMI)));
    assertEquals("CN=Unit Manager, O=keyarc", answer.get("identity").asText());
    assertEquals(1, answer.get("roles").size());
    assertEquals("MANAGER", answer.get("roles").get(0).asText());
    assertEquals(0, JSON.readTree(api.handle(NOBODY, op(AdminOp.WHOAMI))).get("roles").size());
  }

  @Test
  void overlongTextFieldsAndTooManyNamesAreRefusedNamingTheField() throws Exception {
    long before = ca.store.inTransaction(tx -> tx.audit().head()).seq();
    String deny = JSON.createObjectNode().put(AdminFields.OP, AdminOp.REQUEST_DENY.wireName()).put(AdminFields.ID, 1)
        .put(AdminFields.REASON, "x".repeat(AdminApi.MAX_FIELD_CHARS + 1)).toString();
    CaException e = assertThrows(CaException.class, () -> api.handle(MANAGER, deny));
    assertEquals(ErrorCode.BAD_REQUEST, e.code());
    assertEquals("the field 'reason' is 1025 characters long; at most 1024 are accepted", e.getMessage());

    String filter = JSON.createObjectNode().put(AdminFields.OP, AdminOp.AUDIT_LIST.wireName())
        .put(AdminFields.ACTOR, "CN=" + "a".repeat(5000)).toString();
    Identity auditor = new Identity(Identity.Kind.CERTIFICATE, "CN=Unit Auditor, O=keyarc", Set.of(Role.AUDITOR));
    e = assertThrows(CaException.class, () -> api.handle(auditor, filter));
    assertTrue(e.getMessage().startsWith("the field 'actor' is 5003 characters long"), e.getMessage());

    com.fasterxml.jackson.databind.node.ObjectNode create = JSON.createObjectNode()
        .put(AdminFields.OP, AdminOp.SECRET_CREATE.wireName()).put(AdminFields.TEMPLATE, "user")
        .put(AdminFields.SUBJECT, "CN=Many Names");
    com.fasterxml.jackson.databind.node.ArrayNode names = create.putArray(AdminFields.SUBJECT_ALT_NAMES);
    for (int i = 0; i < AdminApi.MAX_NAMES + 1; i++) {
      names.add("dns:host" + i + ".example.com");
    }
    e = assertThrows(CaException.class, () -> api.handle(MANAGER, create.toString()));
    assertEquals("the field 'subjectAltNames' has 17 names; at most 16 are accepted", e.getMessage());
    assertEquals(before, ca.store.inTransaction(tx -> tx.audit().head()).seq(),
        "nothing was done or recorded");
  }
}
