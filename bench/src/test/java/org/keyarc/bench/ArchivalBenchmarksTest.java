package org.keyarc.bench;

import org.junit.jupiter.api.Test;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.testing.SoftHsmFixture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each wrap/unwrap and archival-chain benchmark runs once against a real token and does real work. */
class ArchivalBenchmarksTest {
  @Test
  void wrapBenchmarksDoTheirWork() throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("wrap")) {
      for (String key : new String[] {"RSA_2048", "EC_P256"}) {
        WrapBenchmark b = new WrapBenchmark();
        b.module = hsm.module().loadedLibrary().toString();
        b.token = hsm.label("wrap");
        b.pinFile = hsm.pinFile("wrap").toString();
        b.key = key;
        b.setUp();
        try {
          assertTrue(b.kwpWrapPrivateKey().length > 60, key);
          assertNotNull(b.kwpUnwrapPrivateKey());
          assertEquals(256, b.oaepWrapAesKey().length);
          assertNotNull(b.oaepUnwrapAesKey());
        } finally {
          b.tearDown();
        }
      }
    }
  }

  @Test
  void archivalChainBenchmarkSealsForTheAgents() throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("chain")) {
      ArchivalChainBenchmark b = new ArchivalChainBenchmark();
      b.module = hsm.module().loadedLibrary().toString();
      b.token = hsm.label("chain");
      b.pinFile = hsm.pinFile("chain").toString();
      b.key = "EC_P256";
      b.policy = "3-2";
      b.setUp();
      try {
        var sealed = b.seal();
        assertEquals(2, sealed.threshold());
        assertEquals(3, sealed.envelopes().size(), "one envelope per 2-subset of 3 agents");
        assertEquals(0, (int) b.tok.call(s -> s.countSessionObjects()), "no session objects left by seal()");
        assertEquals(4, b.tok.call(s -> s.listKeys()).size(),
            "the workload's CA pair and exchange pair, token objects as the node's are");
      } finally {
        b.tearDown();
      }
      HsmToken token = hsm.open("chain", 2);
      assertEquals(java.util.List.of(), token.call(s -> s.listKeys()), "keys left on the token");
    }
  }
}
