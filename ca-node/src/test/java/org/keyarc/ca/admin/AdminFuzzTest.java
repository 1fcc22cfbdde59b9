package org.keyarc.ca.admin;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.cmp.UnitCa;
import org.keyarc.ca.store.Role;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.admin.AdminOp;

/**
 * The admin JSON under mutation (fixed seed; {@code -Dkeyarc.fuzz.iterations}): every request is answered or
 * refused with a CaException carrying a request-side code (never a RuntimeException, never an internal error),
 * for an identity holding every role.
 */
class AdminFuzzTest {
  private static UnitCa ca;
  private static AdminApi api;

  @BeforeAll
  static void start() throws Exception {
    ca = UnitCa.create();
    api = ca.admin();
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  @Test
  void mutatedAdminRequestsGiveAnswersOrRequestErrorsOnly() {
    Identity all = new Identity(Identity.Kind.CERTIFICATE, "CN=Fuzz All, O=keyarc", Set.of(Role.values()));
    String[] values = {"1", "-1", "0", "2147483648", "99999999999999999999", "1e308", "\"x\"", "\"\"", "null", "true",
        "[]", "{}", "[1,2]", "\"ff\"", "\"zz\"", "\"CN=a\"", "\"" + "a".repeat(5000) + "\"", "{\"a\":[[[[1]]]]}"};
    String[] fields = {"id", "serial", "subject", "template", "status", "reason", "role", "agents", "threshold", "limit",
        "certHash", "all", "material", "card", "progress", "from", "since", "email", "anchors", "note"};
    Random r = new Random(Long.getLong("keyarc.fuzz.seed", 20261201L));
    int iterations = Integer.getInteger("keyarc.fuzz.iterations", 1500);
    for (int i = 0; i < iterations; i++) {
      AdminOp op = AdminOp.values()[r.nextInt(AdminOp.values().length)];
      if (op == AdminOp.AUDIT_ACKNOWLEDGE) {
        continue; // changes nothing here, but keep the fuzzing to requests without side effects on the anchor
      }
      StringBuilder json = new StringBuilder("{\"op\":\"").append(op.wireName()).append('"');
      for (int k = r.nextInt(4); k > 0; k--) {
        json.append(",\"").append(fields[r.nextInt(fields.length)]).append("\":").append(values[r.nextInt(values.length)]);
      }
      json.append('}');
      String request = json.toString();
      if (r.nextInt(4) == 0) { // and sometimes broken JSON
        int cut = r.nextInt(request.length());
        request = request.substring(0, cut) + (r.nextBoolean() ? "" : "\u0000{[\"");
      }
      try {
        api.handle(all, request);
      } catch (CaException e) {
        assertTrue(e.code() != ErrorCode.INTERNAL && e.code() != ErrorCode.STORE_ERROR, "iteration " + i + ": " + request
            + " gave " + e.code() + ": " + e.getMessage());
      } catch (RuntimeException e) {
        throw new AssertionError("iteration " + i + ": " + request + " threw " + e, e);
      }
    }
  }
}
