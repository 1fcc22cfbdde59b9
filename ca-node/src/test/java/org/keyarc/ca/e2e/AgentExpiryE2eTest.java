package org.keyarc.ca.e2e;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.config.NodeConfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 18, agents' certificates over time: an agent whose certificate ends within 30 days is warned about — in
 * {@code kra list}'s answer, in the log, in {@code /metrics} — with when archival will be refused for want of
 * valid agents (an agent with years left is not: {@code ExternalParentE2eTest}).
 */
class AgentExpiryE2eTest {
  @Test
  void anAgentCertificateEndingSoonIsWarnedAboutWithWhenArchivalStops() throws Exception {
    try (TestCa ca = TestCa.start(cfg -> {
      NodeConfig.TemplateCfg kra = new NodeConfig.TemplateCfg();
      kra.name = "KeyRecoveryAgent";
      kra.validityDays = 20; // an agent certificate about to end
      kra.keyUsage = List.of("keyEncipherment", "digitalSignature");
      kra.extendedKeyUsage = List.of("keyRecoveryAgent");
      kra.ecCurves = List.of();
      kra.requiresApproval = true;
      cfg.templates = List.of(kra);
    }, "kra1")) {
      Agents.Card agent = Agents.enroll(ca, "kra1");
      ca.services().agents().setPolicy(Identity.localOperator(), 1, 1);
      List<String> warnings = ca.services().agents().expiryWarnings();
      assertEquals(1, warnings.size(), warnings.toString());
      String w = warnings.get(0);
      assertTrue(w.startsWith("recovery agent CN=Agent kra1 (serial " + agent.serial().toString(16) + "): its "
          + "certificate ends "), w);
      assertTrue(w.contains("in 19 days") || w.contains("in 20 days"), w);
      assertTrue(w.contains("from then archival is refused: 0 valid agents left, the policy needs 1"), w);
      java.net.http.HttpResponse<String> metrics = java.net.http.HttpClient.newHttpClient().send(
          java.net.http.HttpRequest.newBuilder(java.net.URI.create(ca.httpUrl() + "metrics")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertTrue(metrics.body().contains("keyarc_kra_agents_expiring 1.0"), "the metric counts it");
      agent.token().close();
    }
  }
}
