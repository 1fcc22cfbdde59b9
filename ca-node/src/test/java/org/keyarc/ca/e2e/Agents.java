package org.keyarc.ca.e2e;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSEnvelopedData;
import org.bouncycastle.cms.RecipientInformation;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.engines.RFC5649WrapEngine;
import org.bouncycastle.crypto.params.KeyParameter;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.issue.EnrollRequest;
import org.keyarc.ca.issue.Outcome;
import org.keyarc.ca.node.CaServices;
import org.keyarc.ca.store.Role;
import org.keyarc.hsm.Der;
import org.keyarc.hsm.HsmKeyTransRecipient;
import org.keyarc.hsm.HsmSession;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.hsm.KeyPolicy;
import org.keyarc.hsm.KeySpec;
import org.keyarc.hsm.OaepHash;
import org.keyarc.protocol.CardEvidence;
import org.keyarc.protocol.archive.ArchiveRecord;

/**
 * Recovery agents for the archival tests: each agent's RSA key is generated on its own SoftHSM2 token
 * (its "card", sensitive and non-extractable), its KeyRecoveryAgent certificate goes through pending →
 * approval, and the test's recovery peels an archive's layers with the cards it is given.
 */
public final class Agents {
  public static final Identity MANAGER = new Identity(Identity.Kind.CERTIFICATE, "CN=Test Manager",
      Set.of(Role.MANAGER));

  /** One agent: its card, the key handle on it, its certificate. */
  public record Card(String name, HsmToken token, KeyHandle key, X509CertificateHolder cert) {
    public BigInteger serial() {
      return cert.getSerialNumber();
    }
  }

  private Agents() {}

  /** Makes an agent on token {@code name}: key on the card, certificate approved, added to the CA. */
  public static Card enroll(TestCa ca, String name) throws Exception {
    HsmToken token = ca.hsm.open(name, 2);
    HsmSession.GeneratedKeyPair kp = token.call(s -> s.generateKeyPair(KeySpec.RSA_2048, KeyPolicy.RECOVERY_AGENT,
        "kra-key"));
    CaServices s = ca.services();
    // the card evidence the agent's client sends (kra init-card): what the card says about the key
    Outcome out = s.enrollment().enroll(new EnrollRequest(Identity.localOperator(), new EnrollRequest.ClientRef("kra-" + name, 0, "cr"),
        s.templates().require("KeyRecoveryAgent"), new X500Name("CN=Agent " + name), SubjectPublicKeyInfo.getInstance(
            kp.publicKey().getEncoded()), null, true, null, null, CardEvidence.read(token, kp.privateKey())));
    long id = ((Outcome.Pending) out).requestId();
    X509CertificateHolder cert = s.approvals().approve(MANAGER, id);
    s.agents().add(Identity.localOperator(), cert.getSerialNumber());
    return new Card(name, token, kp.privateKey(), cert);
  }

  /**
   * Recovers the PrivateKeyInfo of {@code recordDer} with {@code cards}: finds an envelope all of whose
   * agents are present, opens each CMS layer with the matching card, unwraps K with the last card (RSA-OAEP
   * decryption on the card) and K-unwraps the key. Throws when the cards are not enough.
   */
  static byte[] recover(byte[] recordDer, List<Card> cards) throws Exception {
    ArchiveRecord rec = ArchiveRecord.getInstance(recordDer);
    Map<BigInteger, Card> bySerial = new LinkedHashMap<>();
    cards.forEach(c -> bySerial.put(c.serial(), c));
    for (ArchiveRecord.Envelope env : rec.envelopes()) {
      List<Card> chain = new ArrayList<>();
      for (int i : env.agentIndexes()) {
        Card c = bySerial.get(rec.agents().get(i).getSerialNumber().getValue());
        if (c != null) {
          chain.add(c);
        }
      }
      if (chain.size() == env.agentIndexes().size()) {
        return open(rec, env, chain);
      }
    }
    throw new IllegalStateException("no envelope of the record can be opened with these " + cards.size() + " cards");
  }

  /** Peels one envelope with the given cards in order. */
  static byte[] open(ArchiveRecord rec, ArchiveRecord.Envelope env, List<Card> chain) throws Exception {
    byte[] layer = env.layers();
    for (int j = 0; j < chain.size() - 1; j++) {
      Card c = chain.get(j);
      RecipientInformation ri = new CMSEnvelopedData(layer).getRecipientInfos().getRecipients().iterator().next();
      layer = ri.getContent(new HsmKeyTransRecipient(c.token(), c.key()));
    }
    Card last = chain.get(chain.size() - 1);
    byte[] inner = layer;
    byte[] k = last.token().call(s -> s.decryptOaep(last.key(), OaepHash.SHA1, inner));
    RFC5649WrapEngine kwp = new RFC5649WrapEngine(AESEngine.newInstance());
    kwp.init(false, new KeyParameter(k));
    byte[] w = rec.wrappedKey();
    return Der.trimTrailingPadding(kwp.unwrap(w, 0, w.length));
  }

  /**
   * True when the recovered PrivateKeyInfo holds the same private key as {@code expected}: RSA by modulus
   * and private exponent, EC by the private scalar (read with BC's ASN.1 classes: the token's PKCS#8 may
   * leave the RSA CRT values out).
   */
  static boolean sameKey(byte[] recoveredPkcs8, PrivateKey expected) throws Exception {
    PrivateKeyInfo info = PrivateKeyInfo.getInstance(recoveredPkcs8);
    if (expected instanceof RSAPrivateCrtKey e) {
      org.bouncycastle.asn1.pkcs.RSAPrivateKey got = org.bouncycastle.asn1.pkcs.RSAPrivateKey.getInstance(
          info.parsePrivateKey());
      return e.getModulus().equals(got.getModulus()) && e.getPrivateExponent().equals(got.getPrivateExponent());
    }
    if (expected instanceof ECPrivateKey e) {
      return e.getS().equals(org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey()).getKey());
    }
    return false;
  }

  static KeyPair userKey(String type) throws Exception {
    return switch (type) {
      case "rsa2048" -> TestCa.rsaKey(2048);
      case "rsa3072" -> TestCa.rsaKey(3072);
      case "p384" -> {
        var g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp384r1"));
        yield g.generateKeyPair();
      }
      default -> TestCa.ecKey();
    };
  }
}
