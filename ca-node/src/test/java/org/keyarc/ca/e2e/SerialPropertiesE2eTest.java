package org.keyarc.ca.e2e;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bouncycastle.asn1.x500.X500Name;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.issue.EnrollRequest;
import org.keyarc.ca.issue.Outcome;
import org.keyarc.ca.keys.SerialNumbers;
import org.keyarc.ca.node.CaServices;
import org.keyarc.ca.template.Template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Invariant 5 over 10,000 certificates really issued (signed in SoftHSM2, stored in the embedded
 * database): serials are positive, below 2^159, unique, and carry at least 64 random bits.
 */
class SerialPropertiesE2eTest {
  static final int COUNT = 10_000;

  @Test
  void tenThousandIssuedSerials() throws Exception {
    try (TestCa ca = TestCa.start()) {
      CaServices service = ca.services();
      Template user = service.templates().require("User");
      var key = TestCa.spki(TestCa.ecKey());
      Set<BigInteger> serials = ConcurrentHashMap.newKeySet();
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<?>> jobs = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int thread = t;
        jobs.add(pool.submit(() -> {
          for (int i = 0; i < COUNT / 4; i++) {
            Outcome.Issued out = (Outcome.Issued) service.enrollment().enroll(new EnrollRequest(Identity.localOperator(), new EnrollRequest.ClientRef("serial-" + thread + "-" + i, 0, "cr"), user, new X500Name("CN=Serial"), key,
                null, true, null));
            serials.add(out.cert().getSerialNumber());
          }
          return null;
        }));
      }
      for (Future<?> f : jobs) {
        f.get();
      }
      pool.shutdown();
      assertEquals(COUNT, serials.size(), "all unique");
      assertEquals(COUNT, (long) service.store().inTransaction(tx -> tx.certificates().count()), "all stored");
      int topBitSet = 0;
      for (BigInteger s : serials) {
        assertTrue(s.signum() > 0, "positive");
        assertTrue(s.compareTo(SerialNumbers.BOUND) < 0, "below 2^159");
        assertTrue(s.bitLength() > 64, "more than 64 significant bits: " + s.toString(16));
        assertTrue(s.toByteArray().length <= 20, "fits the 20 octets of RFC 5280");
        if (s.testBit(158)) {
          topBitSet++;
        }
      }
      // the top bit of a uniform 159-bit value is set half the time: 5,000 ± 6 sigma
      assertTrue(Math.abs(topBitSet - COUNT / 2) < 300, "bit 158 set in " + topBitSet + " of " + COUNT);
    }
  }
}
