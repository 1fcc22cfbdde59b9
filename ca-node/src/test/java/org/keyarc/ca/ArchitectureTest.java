package org.keyarc.ca;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.keyarc.hsm.testing.PackageGraph;

/**
 * ca-node's layering: packages point down only, and only {@code node} wires everything.
 * <ul>
 *   <li>the root package ({@code CaException}) and {@code support} import no other ca package (support: root only);</li>
 *   <li>{@code store} (interfaces and records) imports only root and support;</li>
 *   <li>{@code store.jdbc} only store, audit ({@code AuditChain.hash}), root and support; only node imports it;</li>
 *   <li>the services (audit, auth, keys, issue, kra, revoke, template, config) never import cmp, admin, net, node;</li>
 *   <li>cmp, admin and net never import node;</li>
 *   <li>no package cycle; and of the other modules only hsm-core and protocol.</li>
 * </ul>
 */
class ArchitectureTest {
  private static final String CA = "org.keyarc.ca";
  private static final String ALL = CA + "..";
  private static final List<String> SERVICES = List.of(CA + ".audit..", CA + ".auth..", CA + ".keys..",
      CA + ".issue..", CA + ".kra..", CA + ".revoke..", CA + ".template..", CA + ".config..");
  private static final List<String> ENTRY_POINTS = List.of(CA + ".cmp..", CA + ".admin..", CA + ".net..");

  private final PackageGraph graph = PackageGraph.ofThisModule();

  @Test
  void theRulesSeeThePackages() {
    for (String p : List.of(CA, CA + ".support", CA + ".store", CA + ".store.jdbc", CA + ".audit", CA + ".auth",
        CA + ".keys", CA + ".template", CA + ".config", CA + ".issue", CA + ".kra", CA + ".revoke", CA + ".cmp",
        CA + ".admin", CA + ".net", CA + ".node")) {
      assertTrue(graph.packages().contains(p), p + " has no sources: update ArchitectureTest");
    }
  }

  @Test
  void noPackageCycle() {
    graph.assertNoCycles();
  }

  @Test
  void rootAndSupportAreTheBottom() {
    graph.assertOnlyImports(CA, ALL);
    graph.assertOnlyImports(CA + ".support", ALL, CA);
  }

  @Test
  void storeImportsOnlyRootAndSupport() {
    graph.assertOnlyImports(CA + ".store", ALL, CA, CA + ".support");
  }

  @Test
  void jdbcStoreImportsOnlyStoreAuditRootSupport() {
    graph.assertOnlyImports(CA + ".store.jdbc", ALL, CA + ".store", CA + ".audit", CA, CA + ".support");
  }

  @Test
  void onlyNodeKnowsTheJdbcStore() {
    for (String p : graph.packages()) {
      if (!PackageGraph.matches(CA + ".node..", p) && !PackageGraph.matches(CA + ".store.jdbc", p)) {
        graph.assertNoImport(p, CA + ".store.jdbc..");
      }
    }
  }

  @Test
  void servicesNeverImportEntryPointsOrNode() {
    for (String service : SERVICES) {
      for (String above : ENTRY_POINTS) {
        graph.assertNoImport(service, above);
      }
      graph.assertNoImport(service, CA + ".node..");
    }
  }

  @Test
  void entryPointsNeverImportNode() {
    for (String entry : ENTRY_POINTS) {
      graph.assertNoImport(entry, CA + ".node..");
    }
  }

  @Test
  void dependsOnlyOnHsmCoreAndProtocol() {
    graph.assertOnlyImports(ALL, "org.keyarc..", "org.keyarc.hsm..", "org.keyarc.protocol..");
  }
}
