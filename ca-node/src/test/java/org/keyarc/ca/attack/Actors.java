package org.keyarc.ca.attack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.security.KeyPair;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.e2e.TestCa;
import org.keyarc.ca.store.DirectSql;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.template.Templates;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The people of the attack stories, each with a key and a certificate the node issued over the wire: the
 * administrator of the {@code ca init --admin} ceremony, and members enrolled with secrets the administrator
 * (or a manager) made through the administrative API. Setup only: every attack itself goes through {@link Wire}.
 */
final class Actors {
  static final ObjectMapper JSON = new ObjectMapper();

  private Actors() {}

  /** Someone with a key and a certificate of this CA. */
  record Party(String name, KeyPair keys, X509CertificateHolder cert) {
    Wire.Protection sig() {
      return Wire.signature(cert, keys.getPrivate());
    }

    String serial() {
      return cert.getSerialNumber().toString(16);
    }
  }

  /** A one-time secret: its reference and the secret. */
  record Secret(String reference, char[] secret) {
    Wire.Protection mac() {
      return Wire.mac(reference, secret);
    }
  }

  static Wire wire(TestCa ca) throws Exception {
    return Wire.connect(ca.node.binaryPort(), ca.caCert());
  }

  /** The first administrator: the ceremony's secret (made at the CA host), then its first certificate. */
  static Party administrator(TestCa ca, String dn) throws Exception {
    SecretService.NewSecret s = ca.services().secrets().createGranting(Identity.localOperator(), Templates.USER,
        new X500Name(dn), Role.ADMINISTRATOR);
    return enroll(ca, new Secret(s.reference(), s.secret()), dn);
  }

  /** Enrolls {@code dn} with {@code secret} (ir, EC key, implicit confirmation). */
  static Party enroll(TestCa ca, Secret secret, String dn) throws Exception {
    KeyPair kp = TestCa.ecKey();
    try (Wire w = wire(ca)) {
      PKIMessage a = w.certRequest(secret.mac(), PKIBody.TYPE_INIT_REQ, Wire.nonce(), new X500Name(dn), kp, null, true);
      X509CertificateHolder cert = Wire.granted(a);
      assertNotNull(cert, "enrollment of " + dn + ": " + Wire.text(a));
      return new Party(dn, kp, cert);
    }
  }

  /** A secret made by {@code by} through the administrative API. */
  static Secret secret(TestCa ca, Party by, String template, String dn) throws Exception {
    JsonNode r = ok(ca, by, JSON.createObjectNode().put("op", "secret.create").put("template", template)
        .put("subject", dn).toString());
    return new Secret(r.path("reference").asText(), r.path("secret").asText().toCharArray());
  }

  /** A member enrolled with a User secret the administrator made, then granted {@code role} by serial. */
  static Party member(TestCa ca, Party admin, String dn, String role) throws Exception {
    Party p = enroll(ca, secret(ca, admin, "User", dn), dn);
    ok(ca, admin, JSON.createObjectNode().put("op", "role.grant").put("role", role).put("serial", p.serial())
        .toString());
    return p;
  }

  /** An administrative request that must succeed; its JSON answer. */
  static JsonNode ok(TestCa ca, Party who, String json) throws Exception {
    try (Wire w = wire(ca)) {
      PKIMessage a = w.admin(who.sig(), json);
      String answer = Wire.adminAnswer(a);
      assertNotNull(answer, json + " refused: " + Wire.text(a));
      return JSON.readTree(answer);
    }
  }

  /** An administrative request's raw answer. */
  static PKIMessage admin(TestCa ca, Party who, String json) throws Exception {
    try (Wire w = wire(ca)) {
      return w.admin(who.sig(), json);
    }
  }

  /** Rows of {@code table} (certificate, cert_request, enrollment_secret, role_member, recovery_agent...). */
  static long rows(TestCa ca, String table) {
    return count(ca, "SELECT COUNT(*) FROM " + table);
  }

  /** Audit records of {@code action}. */
  static long audited(TestCa ca, String action) {
    return count(ca, "SELECT COUNT(*) FROM audit_record WHERE action = '" + action + "'");
  }

  /** The detail of the last audit record of {@code action}. */
  static String lastAudit(TestCa ca, String action) {
    return DirectSql.run(ca.services().store(), c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT actor, target, detail FROM audit_record WHERE action = ? "
          + "ORDER BY seq DESC")) {
        ps.setString(1, action);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? rs.getString(1) + " | " + rs.getString(2) + " | " + rs.getString(3) : "";
        }
      }
    });
  }

  static long count(TestCa ca, String sql) {
    return DirectSql.run(ca.services().store(), c -> {
      try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    });
  }

  /** What a refused request may leave: no certificate, request, secret, role or agent. */
  static long[] state(TestCa ca) {
    return new long[] {rows(ca, "certificate"), rows(ca, "cert_request"), rows(ca, "enrollment_secret"),
        rows(ca, "role_member"), rows(ca, "recovery_agent")};
  }

  static void assertNothingStored(long[] before, TestCa ca) {
    long[] after = state(ca);
    String[] what = {"certificate", "request", "secret", "role", "recovery agent"};
    for (int i = 0; i < before.length; i++) {
      assertEquals(before[i], after[i], "no " + what[i] + " stored");
    }
  }
}
