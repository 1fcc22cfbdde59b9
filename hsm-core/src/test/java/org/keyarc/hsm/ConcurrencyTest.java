package org.keyarc.hsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.Signature;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.keyarc.hsm.testing.SoftHsmFixture;

/** Many threads share one token through a pool smaller than the thread count: no error, every signature good. */
class ConcurrencyTest {
  private static final int THREADS = 8;
  private static final int SIGNATURES_PER_THREAD = 500;

  @Test
  void eightThreadsSignFiveHundredTimesEachOnOneToken() throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("busy")) {
      HsmToken token = hsm.open("busy", 3);
      HsmSession.GeneratedKeyPair kp = token.call(s -> s.generateKeyPair(KeySpec.EC_P256, KeyPolicy.CA_SIGNING, "ca"));
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      List<Future<List<byte[][]>>> futures = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int thread = t;
        futures.add(pool.submit(() -> {
          List<byte[][]> out = new ArrayList<>();
          for (int i = 0; i < SIGNATURES_PER_THREAD; i++) {
            byte[] data = ("thread " + thread + " message " + i).getBytes();
            out.add(new byte[][] {data, token.call(s -> s.sign(kp.privateKey(), SignatureAlgorithm.SHA256_WITH_ECDSA, data))});
          }
          return out;
        }));
      }
      int verified = 0;
      Signature v = Signature.getInstance("SHA256withECDSA");
      for (Future<List<byte[][]>> f : futures) {
        for (byte[][] pair : f.get()) {
          v.initVerify(kp.publicKey());
          v.update(pair[0]);
          assertTrue(v.verify(pair[1]));
          verified++;
        }
      }
      pool.shutdown();
      assertEquals(THREADS * SIGNATURES_PER_THREAD, verified);
      assertEquals(0, token.sessionsInUse(), "every session came back to the pool");
    }
  }

  @Test
  void aCallerWaitingLongerThanTheTimeoutGetsAClearError() throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("one")) {
      HsmToken token = hsm.open("one", 1);
      token.borrowTimeout(java.time.Duration.ofMillis(50));
      try (HsmSession held = token.session()) {
        HsmException e = org.junit.jupiter.api.Assertions.assertThrows(HsmException.class, token::session);
        assertEquals(HsmException.Reason.SESSIONS_EXHAUSTED, e.reason());
        assertEquals("all 1 sessions of token '" + token.label() + "' stayed busy for 50 ms", e.getMessage());
        assertTrue(held.random(8).length == 8);
      }
      assertEquals(16, token.call(s -> s.random(16)).length, "the session is free again");
    }
  }
}
