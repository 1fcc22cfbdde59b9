package org.keyarc.bench;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.crmf.EncryptedKey;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.kra.KeyArchiver;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmSession;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.hsm.KeyPolicy;
import org.keyarc.hsm.KeySpec;
import org.keyarc.hsm.OaepHash;
import org.keyarc.hsm.SignatureAlgorithm;
import org.keyarc.protocol.client.ArchiveEncryption;

/**
 * Exactly the HSM work one enrollment needs: the CA signature (certificate and CMP answer), and with archival
 * the whole {@link KeyArchiver#seal} chain for an M-of-N policy. The JMH archival benchmark and the load
 * generator's "ceiling" both run it, so that an end-to-end rate can be set against what the same token allows.
 *
 * <p>The CA key and the exchange key are token objects with the node's own policies, as the node's are (SoftHSM2
 * re-reads a token object's file on each use, so session objects would flatter the ceiling by about a third);
 * they are made for the workload, never the node's keys, and {@link #close} destroys them.
 */
public final class HsmWorkload implements AutoCloseable {
  private final HsmToken token;
  private final List<KeyHandle> made = new ArrayList<>();
  private final KeyHandle caKey;
  private final SignatureAlgorithm caAlgorithm;
  private final KeyArchiver archiver;
  private final EncryptedKey encrypted;
  private final SubjectPublicKeyInfo userKey;
  private final List<X509CertificateHolder> agents;
  private final int threshold;
  private final byte[] tbs = new byte[600];

  /**
   * @param caKeySpec the CA key (EC_P256 or an RSA spec)
   * @param userKeySpec the archived key's type, or null for no archival
   * @param agents N, and {@code threshold} M (ignored without archival)
   */
  public HsmWorkload(HsmToken token, KeySpec caKeySpec, KeySpec userKeySpec, int agents, int threshold)
      throws Exception {
    this.token = token;
    this.caKey = madeOnToken(caKeySpec, KeyPolicy.CA_SIGNING, "keyarc-workload-ca").privateKey();
    this.caAlgorithm = SignatureAlgorithm.defaultFor(caKeySpec);
    this.threshold = threshold;
    if (userKeySpec == null) {
      this.archiver = null;
      this.encrypted = null;
      this.userKey = null;
      this.agents = List.of();
      return;
    }
    HsmSession.GeneratedKeyPair exchange = madeOnToken(KeySpec.RSA_2048, KeyPolicy.EXCHANGE,
        "keyarc-workload-exchange");
    X509CertificateHolder exchangeCert = selfSigned("CN=workload exchange", exchange.publicKey(), null);
    List<CaKeyring.Exchange> exchanges = List.of(new CaKeyring.Exchange("workload", exchange.privateKey(),
        exchangeCert));
    this.archiver = new KeyArchiver(token, () -> exchanges, OaepHash.SHA1, false);
    List<X509CertificateHolder> a = new ArrayList<>();
    for (int i = 0; i < agents; i++) {
      KeyPair kp = generate(KeySpec.RSA_2048);
      a.add(selfSigned("CN=workload agent " + i, kp.getPublic(), kp));
    }
    this.agents = List.copyOf(a);
    KeyPair user = generate(userKeySpec);
    this.userKey = SubjectPublicKeyInfo.getInstance(user.getPublic().getEncoded());
    this.encrypted = ArchiveEncryption.encryptedValue(PrivateKeyInfo.getInstance(user.getPrivate().getEncoded()),
        exchangeCert, "SHA-1");
  }

  private HsmSession.GeneratedKeyPair madeOnToken(KeySpec spec, KeyPolicy policy, String label) throws Exception {
    HsmSession.GeneratedKeyPair pair = token.call(s -> s.generateKeyPair(spec, policy, label));
    made.add(pair.privateKey());
    made.add(pair.publicKeyObject());
    return pair;
  }

  /** Destroys the keys the workload made on the token. */
  @Override
  public void close() throws HsmException {
    token.call(s -> {
      for (KeyHandle k : made) {
        s.destroy(k);
      }
      return null;
    });
    made.clear();
  }

  /** One enrollment's HSM work: two CA signatures (certificate and answer), and the archival chain when set up. */
  public void run() throws Exception {
    run(1);
  }

  /**
   * The HSM work of one message carrying {@code enrollments} certificate requests: a CA signature and the
   * archival chain (when set up) per certificate, and one CA signature for the answer.
   */
  public void run(int enrollments) throws Exception {
    for (int i = 0; i < enrollments; i++) {
      token.call(s -> s.sign(caKey, caAlgorithm, tbs));
      if (archiver != null) {
        archiver.seal(encrypted, userKey, agents, threshold, Instant.now());
      }
    }
    token.call(s -> s.sign(caKey, caAlgorithm, tbs));
  }

  /** The archival chain alone (for the JMH benchmark). */
  public KeyArchiver.Sealed seal() throws Exception {
    return archiver.seal(encrypted, userKey, agents, threshold, Instant.now());
  }

  static KeyPair generate(KeySpec spec) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance(spec.type() == KeyHandle.KeyType.RSA ? "RSA" : "EC");
    if (spec.type() == KeyHandle.KeyType.RSA) {
      g.initialize(spec.bits());
    } else {
      g.initialize(new ECGenParameterSpec(spec == KeySpec.EC_P384 ? "secp384r1" : "secp256r1"));
    }
    return g.generateKeyPair();
  }

  private static X509CertificateHolder selfSigned(String dn, PublicKey pub, KeyPair signer) throws Exception {
    KeyPair kp = signer != null ? signer : generate(KeySpec.EC_P256);
    return new JcaX509v3CertificateBuilder(new X500Name(dn), BigInteger.ONE, new Date(System.currentTimeMillis()
        - 60_000), Date.from(Instant.now().plusSeconds(86_400)), new X500Name(dn), pub)
        .build(new JcaContentSignerBuilder(kp.getPublic().getAlgorithm().equals("RSA") ? "SHA256withRSA"
            : "SHA256withECDSA").build(kp.getPrivate()));
  }
}
