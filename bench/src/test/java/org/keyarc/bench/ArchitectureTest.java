package org.keyarc.bench;

import org.junit.jupiter.api.Test;
import org.keyarc.hsm.testing.PackageGraph;

/** bench's packages form no cycle, and it depends only on the modules below it. */
class ArchitectureTest {
  private final PackageGraph graph = PackageGraph.ofThisModule();

  @Test
  void noPackageCycle() {
    graph.assertNoCycles();
  }

  @Test
  void dependsOnlyOnTheModulesBelow() {
    graph.assertOnlyImports("org.keyarc.bench..", "org.keyarc..",
        "org.keyarc.hsm..", "org.keyarc.protocol..", "org.keyarc.ca..", "org.keyarc.agent..", "org.keyarc.cli..");
  }
}
