package org.keyarc.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.Signature;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.keyarc.hsm.testing.SoftHsmFixture;

/** The benchmark measures real signatures: one invocation, verified in software. */
class SigningBenchmarkTest {

  @ParameterizedTest
  @ValueSource(strings = {"EC_P256", "RSA_2048"})
  void oneBenchmarkInvocationProducesAValidSignature(String key) throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("bench")) {
      SigningBenchmark b = new SigningBenchmark();
      b.module = hsm.module().loadedLibrary().toString();
      b.token = hsm.label("bench");
      b.pinFile = hsm.pinFile("bench").toString();
      b.key = key;
      b.setUp();
      try {
        byte[] sig = b.sign();
        Signature v = Signature.getInstance(key.startsWith("EC") ? "SHA256withECDSA" : "SHA256withRSA");
        v.initVerify(b.publicKey());
        v.update(b.signedData());
        assertTrue(v.verify(sig));
      } finally {
        b.tearDown();
      }
    }
  }
}
