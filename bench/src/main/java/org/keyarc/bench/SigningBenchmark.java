package org.keyarc.bench;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.keyarc.hsm.HsmSession;
import org.keyarc.hsm.HsmSigners;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyPolicy;
import org.keyarc.hsm.KeySpec;
import org.keyarc.hsm.PinSource;
import org.keyarc.hsm.SignatureAlgorithm;
import org.keyarc.protocol.Bc;
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
 * CA signing throughput, one signature of 512 bytes per operation, through each way keyarc can sign:
 * <ul>
 *   <li>{@code iaik-token}: the IAIK wrapper with a token-object key, as the node signs (its CA key is a token
 *       object; SoftHSM2 re-reads a token object's file on each use);</li>
 *   <li>{@code iaik-session}: the IAIK wrapper with a session-object key (no file to re-read);</li>
 *   <li>{@code sunpkcs11}: the JDK's SunPKCS11 provider on the same token-object key;</li>
 *   <li>{@code software}: Bouncy Castle with the key in memory (what an HSM-less CA would do).</li>
 * </ul>
 * Each benchmark thread has its own signer; the IAIK paths borrow a pooled session per signature.
 *
 * <p>Run against the token {@code ./keyarc} set up: {@code SOFTHSM2_CONF=~/.keyarc/softhsm/softhsm2.conf java -jar
 * bench/target/benchmarks.jar SigningBenchmark -t 2 -p pinFile=~/.keyarc/softhsm/pins/keyarc-ca.pin}. The keys
 * are made for the run and destroyed after it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SigningBenchmark extends TokenBenchmark {
  @Param({"EC_P256", "RSA_2048"})
  public String key;

  @Param({"iaik-token", "iaik-session", "sunpkcs11", "software"})
  public String path;

  private HsmSession.GeneratedKeyPair pair;
  private KeyPair software;
  private HsmSigners signers;
  private SignatureAlgorithm algorithm;
  private final byte[] tbs = new byte[512];

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    KeySpec spec = KeySpec.valueOf(key);
    algorithm = SignatureAlgorithm.defaultFor(spec);
    if (path.equals("software")) {
      java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance(
          spec == KeySpec.EC_P256 ? "EC" : "RSA", Bc.PROVIDER);
      if (spec == KeySpec.EC_P256) {
        g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
      } else {
        g.initialize(spec.bits());
      }
      software = g.generateKeyPair();
      return;
    }
    openToken();
    KeyPolicy policy = path.equals("iaik-session") ? KeyPolicy.SESSION_UNWRAPPED : KeyPolicy.CA_SIGNING;
    pair = tok.call(s -> s.generateKeyPair(spec, policy, "keyarc-bench-" + path + "-" + key));
    if (path.equals("sunpkcs11")) {
      // SunPKCS11 lists a private key only next to a certificate with the same CKA_ID
      X509Certificate cert = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(
          new X500Name("CN=keyarc bench"), BigInteger.ONE, new Date(), Date.from(Instant.now().plusSeconds(3600)),
          new X500Name("CN=keyarc bench"), pair.publicKey()).build(HsmSigners.iaik(tok).signer(pair.privateKey(),
          algorithm)));
      tok.call(s -> {
        s.storeCertificate(pair.privateKey(), cert);
        return null;
      });
      char[] pin = PinSource.fromFile(java.nio.file.Path.of(pinFile));
      try {
        signers = HsmSigners.sunPkcs11(tok, pin);
      } finally {
        HsmToken.wipe(pin);
      }
    } else {
      signers = HsmSigners.iaik(tok);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (tok == null) {
      return;
    }
    // benchmarks leave nothing behind on the token
    tok.call(s -> {
      s.destroyCertificates(pair.privateKey());
      s.destroy(pair.privateKey());
      s.destroy(pair.publicKeyObject());
      return null;
    });
    hsm.close();
  }

  /** A benchmark thread's own signer (ContentSigners are not shared between threads). */
  @State(Scope.Thread)
  public static class ThreadSigner {
    ContentSigner signer;

    @Setup(Level.Iteration)
    public void setUp(SigningBenchmark b) throws Exception {
      signer = b.newSigner();
    }
  }

  ContentSigner newSigner() throws Exception {
    if (software != null) {
      return new JcaContentSignerBuilder(algorithm.jcaName()).setProvider(Bc.PROVIDER).build(software.getPrivate());
    }
    return signers.signer(pair.privateKey(), algorithm);
  }

  @Benchmark
  public byte[] sign(ThreadSigner t) throws Exception {
    t.signer.getOutputStream().write(tbs);
    return t.signer.getSignature();
  }

  /** The public key of the benchmark's key (for checking a benchmark result). */
  PublicKey publicKey() {
    return software != null ? software.getPublic() : pair.publicKey();
  }

  byte[] signedData() {
    return tbs.clone();
  }
}
