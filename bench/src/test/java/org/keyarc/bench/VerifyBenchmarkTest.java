package org.keyarc.bench;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The verification benchmark verifies real signatures with each provider (a wrong one throws). */
class VerifyBenchmarkTest {
  @ParameterizedTest
  @CsvSource({"EC_P256,bc,fresh", "EC_P256,jdk,fresh", "EC_P256,native,fresh", "EC_P256,native,cached",
      "RSA_2048,bc,cached", "RSA_2048,native,fresh"})
  void eachProviderVerifies(String key, String provider, String keys) throws Exception {
    VerifyBenchmark b = new VerifyBenchmark();
    b.key = key;
    b.provider = provider;
    b.keys = keys;
    b.setUp();
    for (int i = 0; i < VerifyBenchmark.KEYS + 2; i++) {
      assertTrue(b.verify());
    }
  }
}
