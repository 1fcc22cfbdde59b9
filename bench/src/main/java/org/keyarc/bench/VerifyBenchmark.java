package org.keyarc.bench;

import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.concurrent.TimeUnit;
import org.keyarc.protocol.Bc;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Signature verification, what the node does for every proof of possession and signed message, side by side in one
 * run: {@code bc} (Bouncy Castle), {@code jdk} (SunEC / SunRsaSign), {@code native} (Amazon Corretto Crypto Provider,
 * AWS-LC, what {@code NativeVerify} picks when it loads), for P-256 and RSA-2048, {@code fresh} (a key never seen:
 * decoded from its SubjectPublicKeyInfo for each verification, as a POP's is) and {@code cached} (the key object kept,
 * as a known signer's is). 256 key pairs, signed once at set-up. No token needed:
 * {@code java -jar bench/target/benchmarks.jar VerifyBenchmark -t 1}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class VerifyBenchmark {
  static final int KEYS = 256;

  @Param({"EC_P256", "RSA_2048"})
  public String key;

  @Param({"bc", "jdk", "native"})
  public String provider;

  @Param({"fresh", "cached"})
  public String keys;

  private Provider p;
  private String alg;
  private final byte[] data = new byte[512];
  private byte[][] encoded;
  private PublicKey[] cached;
  private byte[][] signatures;
  private int next;

  @Setup
  public void setUp() throws Exception {
    boolean ec = key.startsWith("EC");
    alg = ec ? "SHA256withECDSA" : "SHA256withRSA";
    p = switch (provider) {
      case "bc" -> Bc.PROVIDER;
      case "jdk" -> Security.getProvider(ec ? "SunEC" : "SunRsaSign");
      case "native" -> nativeProvider();
      default -> throw new IllegalArgumentException("provider is bc, jdk or native, not " + provider);
    };
    KeyPairGenerator g = KeyPairGenerator.getInstance(ec ? "EC" : "RSA");
    if (ec) {
      g.initialize(new ECGenParameterSpec("secp256r1"));
    } else {
      g.initialize(2048);
    }
    new java.security.SecureRandom().nextBytes(data);
    encoded = new byte[KEYS][];
    cached = new PublicKey[KEYS];
    signatures = new byte[KEYS][];
    KeyFactory kf = KeyFactory.getInstance(ec ? "EC" : "RSA", p);
    for (int i = 0; i < KEYS; i++) {
      KeyPair kp = g.generateKeyPair();
      Signature s = Signature.getInstance(alg);
      s.initSign(kp.getPrivate());
      s.update(data);
      signatures[i] = s.sign();
      encoded[i] = kp.getPublic().getEncoded();
      cached[i] = kf.generatePublic(new X509EncodedKeySpec(encoded[i]));
    }
  }

  /** The native provider, or an error saying why it cannot load here. */
  static Provider nativeProvider() throws Exception {
    Class<?> c = Class.forName("com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider");
    Provider p = (Provider) c.getField("INSTANCE").get(null);
    c.getMethod("assertHealthy").invoke(p);
    return p;
  }

  @Benchmark
  public boolean verify() throws Exception {
    int i = next++ & (KEYS - 1);
    PublicKey k = keys.equals("fresh") ? KeyFactory.getInstance(key.startsWith("EC") ? "EC" : "RSA", p)
        .generatePublic(new X509EncodedKeySpec(encoded[i])) : cached[i];
    Signature v = Signature.getInstance(alg, p);
    v.initVerify(k);
    v.update(data);
    boolean ok = v.verify(signatures[i]);
    if (!ok) {
      throw new IllegalStateException("a valid signature did not verify with " + provider);
    }
    return ok;
  }
}
