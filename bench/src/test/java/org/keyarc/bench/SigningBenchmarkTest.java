package org.keyarc.bench;

import java.security.Signature;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.testing.SoftHsmFixture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark measures real signatures: one invocation, verified in software. */
class SigningBenchmarkTest {

  @ParameterizedTest
  @CsvSource({"EC_P256,iaik-token", "EC_P256,iaik-session", "EC_P256,sunpkcs11", "EC_P256,software",
      "RSA_2048,iaik-token", "RSA_2048,sunpkcs11", "RSA_2048,software"})
  void eachPathProducesValidSignaturesAndLeavesNothingOnTheToken(String key, String path) throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("bench")) {
      SigningBenchmark b = new SigningBenchmark();
      b.module = hsm.module().loadedLibrary().toString();
      b.token = hsm.label("bench");
      b.pinFile = hsm.pinFile("bench").toString();
      b.key = key;
      b.path = path;
      b.setUp();
      try {
        SigningBenchmark.ThreadSigner t = new SigningBenchmark.ThreadSigner();
        t.setUp(b);
        for (int i = 0; i < 2; i++) { // the signer is reused, as in the benchmark loop
          byte[] sig = b.sign(t);
          Signature v = Signature.getInstance(key.startsWith("EC") ? "SHA256withECDSA" : "SHA256withRSA");
          v.initVerify(b.publicKey());
          v.update(b.signedData());
          assertTrue(v.verify(sig), path + " signature " + i);
        }
      } finally {
        b.tearDown();
      }
      if (!path.equals("software")) {
        HsmToken token = hsm.open("bench", 2);
        assertEquals(List.of(), token.call(s -> s.listKeys()), "keys left on the token");
      }
    }
  }
}
