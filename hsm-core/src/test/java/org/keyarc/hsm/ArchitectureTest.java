package org.keyarc.hsm;

import org.junit.jupiter.api.Test;
import org.keyarc.hsm.testing.PackageGraph;

/** hsm-core is the bottom module: no package cycle, and nothing of keyarc's but its own packages. */
class ArchitectureTest {
  private final PackageGraph graph = PackageGraph.ofThisModule();

  @Test
  void noPackageCycle() {
    graph.assertNoCycles();
  }

  @Test
  void dependsOnNoOtherModule() {
    graph.assertOnlyImports("org.keyarc.hsm..", "org.keyarc..");
  }
}
