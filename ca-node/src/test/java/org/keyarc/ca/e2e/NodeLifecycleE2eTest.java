package org.keyarc.ca.e2e;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.PreparedStatement;
import java.util.List;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.cert.X509CRLHolder;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.audit.AuditChain;
import org.keyarc.ca.audit.AuditService;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.node.CaServices;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.DirectSql;
import org.keyarc.ca.store.RequestRecord;
import org.keyarc.ca.store.Role;
import org.keyarc.protocol.client.CmpClient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A node restart keeps everything; the audit chain, checkpointed with the HSM key, verifies and names tampering. */
class NodeLifecycleE2eTest {

  @Test
  void restartKeepsStateAndAuditVerifies() throws Exception {
    try (TestCa ca = TestCa.start()) {
      TestCa.Enrollee kept = ca.enrollUser("CN=Kept");
      TestCa.Enrollee gone = ca.enrollUser("CN=Gone");
      try (CmpClient c = ca.signedClient(ca.binaryUrl(), gone)) {
        c.revoke(ca.caCert().getSubject(), gone.serial(), CRLReason.superseded);
      }
      try (CmpClient c = ca.macClient(ca.binaryUrl(), ca.secret("KeyRecoveryAgent", "CN=Waiting Agent"))) {
        var kp = TestCa.rsaKey(2048);
        c.enroll(org.bouncycastle.asn1.cmp.PKIBody.TYPE_INIT_REQ, new org.bouncycastle.asn1.x500.X500Name(
            "CN=Waiting Agent"), TestCa.spki(kp),
            TestCa.pop(kp), "KeyRecoveryAgent", false, null);
      }
      ca.withRole("CN=Auditor", Role.AUDITOR); // a role is bound to a certificate holder's key: enroll first

      ca.node.close(); // stops the node and signs a last checkpoint
      ca.node = CaNode.start(ca.cfg);

      CaServices s = ca.services();
      Identity op = Identity.localOperator();
      assertEquals(CertRecord.Status.ISSUED, s.certificates().show(op, kept.serial()).status());
      assertEquals(CertRecord.Status.REVOKED, s.certificates().show(op, gone.serial()).status());
      Identity manager = new Identity(Identity.Kind.CERTIFICATE, "CN=m", java.util.Set.of(Role.MANAGER));
      assertEquals(1, s.approvals().list(manager, RequestRecord.Status.PENDING).size(), "the pending request is still there");
      assertTrue(s.roles().list(op).stream().anyMatch(m -> m.subject().equals("CN=Auditor")));
      X509CRLHolder crl = s.crls().current();
      assertTrue(crl.getRevokedCertificate(gone.serial()) != null);

      // the CRL over HTTP GET, as relying parties fetch it
      HttpResponse<byte[]> get = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + ca.node.httpPort() + "/crl")).build(), HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, get.statusCode());
      assertTrue(new X509CRLHolder(get.body()).getRevokedCertificate(gone.serial()) != null);
      try (CmpClient c = new CmpClient(ca.transport(ca.httpUrl()),
          new org.keyarc.protocol.client.Protection.None(), ca.caCert())) {
        c.genm();
      }
      HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + ca.node.httpPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
      assertTrue(metrics.body().contains("keyarc_cmp_requests_seconds_count{body=\"genm\",outcome=\"ok\"}"),
          "Prometheus metrics are served: " + metrics.body().lines().filter(l -> l.startsWith("keyarc")).toList());
      assertTrue(metrics.body().contains("keyarc_hsm_sessions_in_use"));

      s.audit().checkpoint();
      AuditChain.Verification v = AuditService.verify(s.store());
      assertTrue(v.ok(), v.problems().toString());
      assertTrue(v.checkpoints() >= 1, "checkpoints signed with the HSM audit key");
      assertEquals(0, v.uncovered(), "the last checkpoint covers every record");
      List<AuditStore.Row> all = s.store().inTransaction(tx -> tx.audit().records(0, Long.MAX_VALUE));
      assertTrue(all.stream().anyMatch(r -> r.action().equals("cert.revoke")));
      assertTrue(all.stream().anyMatch(r -> r.action().equals("request.pending")));
      assertTrue(all.stream().anyMatch(r -> r.action().equals("ca.init")));
      assertEquals(1, all.stream().filter(r -> r.action().equals("config.change")).count(),
          "the configuration is recorded once; an unchanged restart adds nothing");
      ca.node.close();
      ca.cfg.timers.crlValidityHours = 12;
      ca.node = CaNode.start(ca.cfg);
      s = ca.services();
      List<AuditStore.Row> after = s.store().inTransaction(tx -> tx.audit().records(0, Long.MAX_VALUE));
      AuditStore.Row change = after.stream().filter(r -> r.action().equals("config.change"))
          .reduce((a, b) -> b).orElseThrow();
      assertTrue(change.detail().contains("\"crlValidityHours\":12"), change.detail());
      all = after;

      // an edit by someone with database access is named
      long target = all.stream().filter(r -> r.action().equals("cert.revoke")).findFirst().orElseThrow().seq();
      DirectSql.run(s.store(), c -> {
        try (PreparedStatement ps = c.prepareStatement("UPDATE audit_record SET detail = 'reason=unspecified' "
            + "WHERE seq = ?")) {
          ps.setLong(1, target);
          ps.executeUpdate();
        }
        return null;
      });
      AuditChain.Verification tampered = AuditService.verify(s.store());
      assertFalse(tampered.ok());
      assertEquals("record " + target + " (cert.revoke) does not match its hash: edited", tampered.problems().get(0));
    }
  }
}
