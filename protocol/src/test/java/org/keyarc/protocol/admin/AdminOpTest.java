package org.keyarc.protocol.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class AdminOpTest {

  @Test
  void wireNamesAreUniqueAndRoundTrip() {
    Set<String> seen = new HashSet<>();
    for (AdminOp op : AdminOp.values()) {
      assertTrue(seen.add(op.wireName()), op + " reuses wire name " + op.wireName());
      assertEquals(op, AdminOp.ofWire(op.wireName()).orElseThrow());
    }
  }

  @Test
  void unknownNamesAreEmpty() {
    assertTrue(AdminOp.ofWire("request.purge").isEmpty());
    assertTrue(AdminOp.ofWire("REQUEST_LIST").isEmpty());
    assertTrue(AdminOp.ofWire("Request.List").isEmpty());
    assertTrue(AdminOp.ofWire("").isEmpty());
    assertTrue(AdminOp.ofWire(null).isEmpty());
  }

  @Test
  void theReleasedWireNamesStayPut() {
    // operations may be added; none released may be renamed or dropped
    List<String> released = List.of("request.list", "request.show", "request.approve", "request.deny", "cert.list", "cert.show",
        "cert.revoke", "secret.create", "role.grant", "role.revoke", "role.list", "audit.verify", "crl.publish",
        "kra.add", "kra.remove", "kra.policy", "kra.list", "archive.find", "archive.getkey", "recovery.open",
        "recovery.list", "recovery.show", "recovery.check", "recovery.step", "whoami", "audit.list",
        "audit.acknowledge");
    List<String> now = Stream.of(AdminOp.values()).map(AdminOp::wireName).toList();
    assertTrue(now.containsAll(released), "released operations missing: " + released.stream()
        .filter(r -> !now.contains(r)).toList());
  }

  @Test
  void theReleasedFieldNamesStayPut() {
    assertEquals(List.of("op", "id", "serial", "subject", "template", "status", "reason", "role", "agents",
        "threshold", "limit", "certHash", "all", "material", "card", "progress"),
        List.of(AdminFields.OP, AdminFields.ID, AdminFields.SERIAL, AdminFields.SUBJECT, AdminFields.TEMPLATE,
            AdminFields.STATUS, AdminFields.REASON, AdminFields.ROLE, AdminFields.AGENTS, AdminFields.THRESHOLD,
            AdminFields.LIMIT, AdminFields.CERT_HASH, AdminFields.ALL, AdminFields.MATERIAL, AdminFields.CARD,
            AdminFields.PROGRESS));
  }
}
