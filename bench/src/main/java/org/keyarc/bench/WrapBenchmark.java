package org.keyarc.bench;

import java.util.concurrent.TimeUnit;
import org.keyarc.hsm.HsmSession;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.hsm.KeyPolicy;
import org.keyarc.hsm.KeySpec;
import org.keyarc.hsm.OaepHash;
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
 * The archival building blocks in the HSM, one pooled session per benchmark thread: AES key wrap with
 * padding of a private key (wrap, and unwrap into the token), and RSA-OAEP wrap/unwrap of an AES key.
 * The unwrap benchmarks destroy the object they create (that cost is part of what archival pays).
 *
 * <p>{@code java -jar bench/target/benchmarks.jar WrapBenchmark -t 2 -p pinFile=~/.keyarc/softhsm/pins/keyarc-ca.pin}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class WrapBenchmark extends TokenBenchmark {
  /** The private key that is wrapped: RSA_2048 or EC_P256. */
  @Param({"RSA_2048", "EC_P256"})
  public String key;

  private KeyHandle privateKey;
  private KeyHandle kek;
  private byte[] wrappedPrivate;
  private KeyHandle rsaPrivate;
  private KeyHandle rsaPublic;
  private byte[] wrappedAes;
  private KeyHandle.KeyType type;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    openToken();
    KeySpec spec = KeySpec.valueOf(key);
    type = spec.type();
    // session objects only: the benchmarks leave nothing on the token
    privateKey = tok.call(s -> s.generateKeyPair(spec, KeyPolicy.SESSION_UNWRAPPED, null)).privateKey();
    kek = tok.call(s -> s.generateSecretKey(KeySpec.AES_256, KeyPolicy.SESSION_TRANSPORT, null));
    wrappedPrivate = tok.call(s -> s.wrapAesKwp(kek, privateKey));
    HsmSession.GeneratedKeyPair rsa = tok.call(s -> s.generateKeyPair(KeySpec.RSA_2048, KeyPolicy.SESSION_UNWRAPPING,
        null));
    rsaPrivate = rsa.privateKey();
    rsaPublic = tok.call(s -> s.importPublicKey(rsa.publicKey(), null));
    wrappedAes = tok.call(s -> s.wrapOaep(rsaPublic, kek, OaepHash.SHA1));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    hsm.close();
  }

  @Benchmark
  public byte[] kwpWrapPrivateKey() throws Exception {
    try (HsmSession s = tok.session()) {
      return s.wrapAesKwp(kek, privateKey);
    }
  }

  @Benchmark
  public KeyHandle kwpUnwrapPrivateKey() throws Exception {
    try (HsmSession s = tok.session()) {
      KeyHandle k = s.unwrapAesKwp(kek, wrappedPrivate, type, KeyPolicy.SESSION_UNWRAPPED, null);
      s.destroy(k);
      return k;
    }
  }

  @Benchmark
  public byte[] oaepWrapAesKey() throws Exception {
    try (HsmSession s = tok.session()) {
      return s.wrapOaep(rsaPublic, kek, OaepHash.SHA1);
    }
  }

  @Benchmark
  public KeyHandle oaepUnwrapAesKey() throws Exception {
    try (HsmSession s = tok.session()) {
      KeyHandle k = s.unwrapOaep(rsaPrivate, wrappedAes, OaepHash.SHA1, KeyPolicy.SESSION_UNWRAPPING, null);
      s.destroy(k);
      return k;
    }
  }
}
