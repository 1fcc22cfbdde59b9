package org.keyarc.bench;

import java.math.BigInteger;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.crmf.EncryptedKey;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.keyarc.ca.CaKeyring;
import org.keyarc.ca.archive.KeyArchiver;
import org.keyarc.hsm.HsmModule;
import org.keyarc.hsm.HsmSession;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyPolicy;
import org.keyarc.hsm.KeySpec;
import org.keyarc.hsm.OaepHash;
import org.keyarc.hsm.PinSource;
import org.keyarc.hsm.TokenSelector;
import org.keyarc.protocol.client.ArchiveEncryption;
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
 * The whole in-process archival chain as the node runs it ({@link KeyArchiver#seal}): unwrap the
 * transport key and the private key into the token, pair check, fresh K, wrap, and the M-of-N agent
 * envelopes. The exchange key is a session key; the agents are software RSA keys (only their public
 * keys are used at archival).
 *
 * <p>{@code java -jar bench/target/benchmarks.jar ArchivalChainBenchmark -t 2 -p pinFile=...}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ArchivalChainBenchmark {
  @Param("/usr/lib/softhsm/libsofthsm2.so")
  public String module;

  @Param("keyarc-ca")
  public String token;

  @Param("")
  public String pinFile;

  /** The archived key: RSA_2048 or EC_P256. */
  @Param({"RSA_2048", "EC_P256"})
  public String key;

  /** N-M: 1-1, 3-2 or 5-3. */
  @Param({"1-1", "3-2", "5-3"})
  public String policy;

  HsmModule hsm;
  HsmToken tok;
  KeyArchiver archiver;
  EncryptedKey encrypted;
  SubjectPublicKeyInfo publicKey;
  KeyPair userKey;
  List<X509CertificateHolder> agents;
  int threshold;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    hsm = HsmModule.load(Path.of(module));
    char[] pin = PinSource.fromFile(Path.of(pinFile));
    try {
      tok = hsm.openToken(TokenSelector.parse(token), pin, 8);
    } finally {
      HsmToken.wipe(pin);
    }
    HsmSession.GeneratedKeyPair exchange = tok.call(s -> s.generateKeyPair(KeySpec.RSA_2048,
        KeyPolicy.SESSION_UNWRAPPING, null));
    X509CertificateHolder exchangeCert = selfSigned("CN=bench exchange", exchange.publicKey(), null);
    List<CaKeyring.Exchange> exchanges = List.of(new CaKeyring.Exchange("bench", exchange.privateKey(), exchangeCert));
    archiver = new KeyArchiver(tok, () -> exchanges, OaepHash.SHA1, false);
    int n = Integer.parseInt(policy.split("-")[0]);
    threshold = Integer.parseInt(policy.split("-")[1]);
    agents = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      KeyPair kp = g.generateKeyPair();
      agents.add(selfSigned("CN=bench agent " + i, kp.getPublic(), kp));
    }
    KeyPairGenerator g = KeyPairGenerator.getInstance(key.startsWith("RSA") ? "RSA" : "EC");
    if (key.startsWith("RSA")) {
      g.initialize(2048);
    } else {
      g.initialize(new ECGenParameterSpec("secp256r1"));
    }
    userKey = g.generateKeyPair();
    publicKey = SubjectPublicKeyInfo.getInstance(userKey.getPublic().getEncoded());
    encrypted = ArchiveEncryption.encryptedValue(PrivateKeyInfo.getInstance(userKey.getPrivate().getEncoded()),
        exchangeCert, "SHA-1");
  }

  private static X509CertificateHolder selfSigned(String dn, java.security.PublicKey pub, KeyPair signer)
      throws Exception {
    KeyPair kp = signer;
    if (kp == null) {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      kp = g.generateKeyPair();
    }
    return new JcaX509v3CertificateBuilder(new X500Name(dn), BigInteger.ONE, new Date(System.currentTimeMillis()
        - 60_000), Date.from(Instant.now().plusSeconds(86_400)), new X500Name(dn), pub)
        .build(new JcaContentSignerBuilder(kp.getPublic().getAlgorithm().equals("RSA") ? "SHA256withRSA"
            : "SHA256withECDSA").build(kp.getPrivate()));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    hsm.close();
  }

  @Benchmark
  public KeyArchiver.Sealed seal() throws Exception {
    return archiver.seal(encrypted, publicKey, agents, threshold, Instant.now());
  }
}
