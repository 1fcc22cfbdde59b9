package org.keyarc.bench;

import java.util.concurrent.TimeUnit;
import org.keyarc.hsm.HsmModule;
import org.keyarc.hsm.HsmSession;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.hsm.KeyPolicy;
import org.keyarc.hsm.KeySpec;
import org.keyarc.hsm.SignatureAlgorithm;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * CA signing throughput through the IAIK path: one pooled session per benchmark thread.
 *
 * <p>Run against the token {@code ./keyarc} set up (SOFTHSM2_CONF and the PIN file from ~/.keyarc):
 * {@code java -jar bench/target/benchmarks.jar SigningBenchmark -t 2 -p module=... -p pinFile=...}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SigningBenchmark {
  @Param("/usr/lib/softhsm/libsofthsm2.so")
  public String module;

  @Param("keyarc-ca")
  public String token;

  @Param("")
  public String pinFile;

  @Param({"EC_P256", "RSA_2048"})
  public String key;

  private HsmModule hsm;
  private HsmToken tok;
  private KeyHandle signingKey;
  private SignatureAlgorithm algorithm;
  private final byte[] tbs = new byte[512];

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    BenchToken opened = BenchToken.open(module, token, pinFile);
    hsm = opened.module;
    tok = opened.token;
    KeySpec spec = KeySpec.valueOf(key);
    algorithm = SignatureAlgorithm.defaultFor(spec);
    // a session object: benchmarks leave no keys behind on the token
    signingKey = tok.call(s -> s.generateKeyPair(spec, KeyPolicy.SESSION_UNWRAPPED, "bench-" + key)).privateKey();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    hsm.close();
  }

  @Benchmark
  public byte[] sign() throws Exception {
    try (HsmSession s = tok.session()) {
      return s.sign(signingKey, algorithm, tbs);
    }
  }

  /** The public key of the benchmark's key (for checking a benchmark result). */
  java.security.PublicKey publicKey() throws Exception {
    return tok.call(s -> s.publicKey(s.publicKeyObjectOf(signingKey)));
  }

  byte[] signedData() {
    return tbs.clone();
  }
}
