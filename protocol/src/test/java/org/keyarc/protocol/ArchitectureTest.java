package org.keyarc.protocol;

import org.junit.jupiter.api.Test;
import org.keyarc.hsm.testing.PackageGraph;

/** protocol sits on hsm-core only, and its packages form no cycle. */
class ArchitectureTest {
  private final PackageGraph graph = PackageGraph.ofThisModule();

  @Test
  void noPackageCycle() {
    graph.assertNoCycles();
  }

  @Test
  void dependsOnlyOnHsmCore() {
    graph.assertOnlyImports("org.keyarc.protocol..", "org.keyarc..", "org.keyarc.hsm..");
  }
}
