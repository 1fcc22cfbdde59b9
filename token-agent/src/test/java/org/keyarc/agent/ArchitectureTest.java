package org.keyarc.agent;

import org.junit.jupiter.api.Test;
import org.keyarc.hsm.testing.PackageGraph;

/** token-agent's packages form no cycle, and it depends only on the modules below it. */
class ArchitectureTest {
  private final PackageGraph graph = PackageGraph.ofThisModule();

  @Test
  void noPackageCycle() {
    graph.assertNoCycles();
  }

  @Test
  void dependsOnlyOnTheModulesBelow() {
    graph.assertOnlyImports("org.keyarc.agent..", "org.keyarc..", "org.keyarc.hsm..", "org.keyarc.protocol..");
  }
}
