package org.keyarc.agent.recovery;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cms.IssuerAndSerialNumber;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cms.CMSAlgorithm;
import org.bouncycastle.cms.CMSEnvelopedDataGenerator;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.jcajce.JceCMSContentEncryptorBuilder;
import org.bouncycastle.cms.jcajce.JceKeyTransRecipientInfoGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.engines.RFC5649WrapEngine;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.operator.jcajce.JceAsymmetricKeyWrapper;
import org.keyarc.hsm.HsmSession;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.hsm.KeyPolicy;
import org.keyarc.hsm.KeySpec;
import org.keyarc.hsm.OaepHash;
import org.keyarc.hsm.testing.SoftHsmFixture;
import org.keyarc.protocol.archive.ArchiveRecord;

/**
 * What the CA node would hand a recovery agent, built without a node (token-agent cannot depend on
 * ca-node): a software CA, agents whose RSA keys are generated on SoftHSM2 tokens ("cards") and whose
 * certificates the CA issues, archive records made as docs/archive-format.md and {@code KeyArchiver}
 * make them, and recovery blobs signed as {@code ArchiveService.getKey} signs them.
 *
 * <p>The archival itself runs in software here (on the node it runs inside the CA's HSM), with the same
 * algorithms and layout: a fresh AES-256 key K wraps the PrivateKeyInfo with AES-KWP (RFC 5649, zero-padded
 * to a multiple of 8 first, as SoftHSM2 does); for each M-subset, in lexicographic order, K is RSA-OAEP
 * encrypted to the subset's last agent (once per distinct last agent) and then CMS-enveloped (RSA-OAEP +
 * AES-256-CBC) to the other members, innermost first.
 */
final class ArchiveFixture implements AutoCloseable {
  static final OaepHash OAEP = OaepHash.SHA1; // SoftHSM2's only RSA-OAEP
  static final KeyPurposeId KEY_RECOVERY_AGENT = KeyPurposeId.getInstance(
      new ASN1ObjectIdentifier("1.3.6.1.4.1.311.21.6"));
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A software CA: its key and self-signed certificate. */
  record Ca(KeyPair key, X509CertificateHolder cert) {
    static Ca create(String cn) throws Exception {
      return create(new X500Name("CN=" + cn), serial(), rsa(2048));
    }

    /** A CA with this exact name and serial (an impostor's, when the name and serial are another CA's). */
    static Ca create(X500Name name, BigInteger serial, KeyPair key) throws Exception {
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial,
          Date.from(now.minus(1, ChronoUnit.HOURS)), Date.from(now.plus(1, ChronoUnit.DAYS)), name, key.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign
          | KeyUsage.digitalSignature));
      return new Ca(key, b.build(new JcaContentSignerBuilder("SHA256withRSA").build(key.getPrivate())));
    }

    /** An end-entity certificate for {@code pub}, with {@code eku} when not null. */
    X509CertificateHolder issue(String cn, PublicKey pub, KeyPurposeId eku, int keyUsage) throws Exception {
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(cert.getSubject(), serial(),
          Date.from(now.minus(1, ChronoUnit.HOURS)), Date.from(now.plus(1, ChronoUnit.DAYS)),
          new X500Name("CN=" + cn), pub);
      b.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
      if (eku != null) {
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(eku));
      }
      return b.build(new JcaContentSignerBuilder("SHA256withRSA").build(key.getPrivate()));
    }

    /**
     * A CMS SignedData of {@code content} with content type {@code type}, signed by this CA as
     * {@code ArchiveService.getKey} signs a recovery blob (signed attributes, content encapsulated).
     */
    byte[] sign(ASN1ObjectIdentifier type, byte[] content, List<X509CertificateHolder> certs) throws Exception {
      CMSSignedDataGenerator g = new CMSSignedDataGenerator();
      g.addSignerInfoGenerator(new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder().build())
          .build(new JcaContentSignerBuilder("SHA256withRSA").build(key.getPrivate()), cert));
      JcaX509CertificateConverter conv = new JcaX509CertificateConverter();
      List<X509Certificate> jca = new ArrayList<>();
      for (X509CertificateHolder h : certs) {
        jca.add(conv.getCertificate(h));
      }
      g.addCertificates(new JcaCertStore(jca));
      return g.generate(new CMSProcessableByteArray(type, content), true).getEncoded("DER");
    }
  }

  /** One recovery agent: its card, the key on it, its certificate. */
  record Agent(String name, HsmToken card, KeyHandle key, X509CertificateHolder cert) {
    IssuerAndSerialNumber id() {
      return new IssuerAndSerialNumber(cert.getIssuer(), cert.getSerialNumber());
    }
  }

  /** An archived user key: the key pair (to compare with), its certificate, the record and the blob. */
  record Archived(KeyPair user, X509CertificateHolder cert, ArchiveRecord record, byte[] blob) {}

  final SoftHsmFixture hsm;
  final Ca ca;
  private final Map<String, Agent> agents = new LinkedHashMap<>();
  private final List<HsmToken> opened = new ArrayList<>();

  private ArchiveFixture(SoftHsmFixture hsm, Ca ca) {
    this.hsm = hsm;
    this.ca = ca;
  }

  /**
   * A CA and one card per name; on the cards named in {@code agentNames} an agent key is generated and
   * certified by the CA ("a" becomes "CN=Agent a"). The other cards hold an RSA key of the same kind that
   * is no agent's.
   */
  static ArchiveFixture create(List<String> agentNames, String... otherCards) throws Exception {
    List<String> all = new ArrayList<>(agentNames);
    all.addAll(Arrays.asList(otherCards));
    SoftHsmFixture hsm = SoftHsmFixture.create(all.toArray(new String[0]));
    ArchiveFixture f = new ArchiveFixture(hsm, Ca.create("Test Recovery CA"));
    try {
      for (String name : agentNames) {
        HsmToken card = f.card(name);
        HsmSession.GeneratedKeyPair kp = card.call(s -> s.generateKeyPair(KeySpec.RSA_2048, KeyPolicy.RECOVERY_AGENT,
            "kra-key"));
        X509CertificateHolder cert = f.ca.issue("Agent " + name, kp.publicKey(), KEY_RECOVERY_AGENT,
            KeyUsage.keyEncipherment);
        f.agents.put(name, new Agent(name, card, kp.privateKey(), cert));
      }
      for (String name : otherCards) {
        HsmToken card = f.card(name);
        card.call(s -> s.generateKeyPair(KeySpec.RSA_2048, KeyPolicy.RECOVERY_AGENT, "kra-key"));
      }
    } catch (Exception e) {
      f.close();
      throw e;
    }
    return f;
  }

  /** The card called {@code name}, opened and logged in (once; closed with the fixture). */
  HsmToken card(String name) throws Exception {
    for (HsmToken t : opened) {
      if (t.label().equals(hsm.label(name))) {
        return t;
      }
    }
    HsmToken t = hsm.open(name, 2);
    opened.add(t);
    return t;
  }

  Agent agent(String name) {
    Agent a = agents.get(name);
    if (a == null) {
      throw new IllegalArgumentException("no agent " + name);
    }
    return a;
  }

  /**
   * Archives a fresh EC P-256 user key for {@code agentNames} (in that order: index 0, 1...) with
   * threshold {@code threshold}, and signs the blob with the fixture's CA.
   */
  Archived archive(int threshold, String... agentNames) throws Exception {
    KeyPair user = ec();
    X509CertificateHolder cert = ca.issue("User " + Long.toHexString(RANDOM.nextLong()), user.getPublic(), null,
        KeyUsage.digitalSignature);
    List<Agent> list = new ArrayList<>();
    for (String n : agentNames) {
      list.add(agent(n));
    }
    ArchiveRecord rec = record(user.getPrivate(), cert, list, threshold);
    return new Archived(user, cert, rec, blob(ca, rec, cert, list));
  }

  /** The archive record of {@code priv}, as docs/archive-format.md describes it. */
  static ArchiveRecord record(PrivateKey priv, X509CertificateHolder cert, List<Agent> agents, int threshold)
      throws Exception {
    byte[] k = new byte[32];
    RANDOM.nextBytes(k);
    // SoftHSM2 zero-pads the PrivateKeyInfo to a multiple of 8 before RFC 5649 wrapping: so does this
    byte[] pkcs8 = priv.getEncoded();
    byte[] padded = Arrays.copyOf(pkcs8, (pkcs8.length + 7) / 8 * 8);
    RFC5649WrapEngine kwp = new RFC5649WrapEngine(AESEngine.newInstance());
    kwp.init(true, new KeyParameter(k));
    byte[] wrapped = kwp.wrap(padded, 0, padded.length);

    Map<Integer, byte[]> innermost = new HashMap<>();
    List<ArchiveRecord.Envelope> envelopes = new ArrayList<>();
    for (int[] subset : subsets(agents.size(), threshold)) {
      int last = subset[subset.length - 1];
      byte[] layers = innermost.get(last);
      if (layers == null) {
        Cipher oaep = Cipher.getInstance("RSA/ECB/OAEPPadding");
        oaep.init(Cipher.ENCRYPT_MODE, new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter()
            .getPublicKey(agents.get(last).cert().getSubjectPublicKeyInfo()), OAEP.spec());
        layers = oaep.doFinal(k);
        innermost.put(last, layers);
      }
      byte[][] hashes = new byte[subset.length - 1][];
      for (int j = subset.length - 2; j >= 0; j--) {
        hashes[j] = java.security.MessageDigest.getInstance("SHA-256").digest(layers);
        layers = envelope(layers, agents.get(subset[j]).cert());
      }
      List<Integer> order = new ArrayList<>();
      for (int i : subset) {
        order.add(i);
      }
      envelopes.add(new ArchiveRecord.Envelope(order, OAEP.algorithmIdentifier(), layers, List.of(hashes)));
    }
    Arrays.fill(k, (byte) 0);
    List<IssuerAndSerialNumber> ids = new ArrayList<>();
    agents.forEach(a -> ids.add(a.id()));
    return new ArchiveRecord(new IssuerAndSerialNumber(cert.getIssuer(), cert.getSerialNumber()),
        cert.getSubjectPublicKeyInfo().getAlgorithm(), new AlgorithmIdentifier(NISTObjectIdentifiers.id_aes256_wrap_pad),
        wrapped, threshold, ids, envelopes);
  }

  /** The recovery blob: signed by {@code signer}; certificates the CA's, the key's and the agents'. */
  static byte[] blob(Ca signer, ArchiveRecord rec, X509CertificateHolder cert, List<Agent> agents) throws Exception {
    List<X509CertificateHolder> certs = new ArrayList<>(List.of(signer.cert(), cert));
    agents.forEach(a -> certs.add(a.cert()));
    return signer.sign(RecoveryBlob.CONTENT_TYPE, rec.getEncoded("DER"), certs);
  }

  /** A CMS EnvelopedData of {@code content} to {@code agent}: RSA-OAEP + AES-256-CBC, as KeyArchiver makes it. */
  static byte[] envelope(byte[] content, X509CertificateHolder agent) throws Exception {
    X509Certificate c = new JcaX509CertificateConverter().getCertificate(agent);
    CMSEnvelopedDataGenerator g = new CMSEnvelopedDataGenerator();
    g.addRecipientInfoGenerator(new JceKeyTransRecipientInfoGenerator(c,
        new JceAsymmetricKeyWrapper(OAEP.algorithmIdentifier(), c.getPublicKey())));
    return g.generate(new CMSProcessableByteArray(content),
        new JceCMSContentEncryptorBuilder(CMSAlgorithm.AES256_CBC).build()).getEncoded();
  }

  static List<int[]> subsets(int n, int m) {
    return org.keyarc.protocol.archive.Subsets.of(n, m);
  }


  /**
   * True when {@code pkcs8} holds the same private key as {@code expected}: RSA by modulus and private
   * exponent, EC by the private scalar.
   */
  static boolean sameKey(byte[] pkcs8, PrivateKey expected) throws Exception {
    PrivateKeyInfo info = PrivateKeyInfo.getInstance(pkcs8);
    if (expected instanceof RSAPrivateCrtKey e) {
      var got = org.bouncycastle.asn1.pkcs.RSAPrivateKey.getInstance(info.parsePrivateKey());
      return e.getModulus().equals(got.getModulus()) && e.getPrivateExponent().equals(got.getPrivateExponent());
    }
    if (expected instanceof ECPrivateKey e) {
      return e.getS().equals(org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey()).getKey());
    }
    return false;
  }

  static KeyPair rsa(int bits) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(bits);
    return g.generateKeyPair();
  }

  static KeyPair ec() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  static BigInteger serial() {
    return new BigInteger(64, RANDOM).setBit(63);
  }

  @Override
  public void close() throws Exception {
    for (HsmToken t : opened) {
      t.close();
    }
    hsm.close();
  }
}
