package org.keyarc.ca.kra;

import java.io.IOException;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.cms.EnvelopedData;
import org.bouncycastle.asn1.crmf.EncryptedKey;
import org.bouncycastle.asn1.crmf.EncryptedValue;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSAlgorithm;
import org.bouncycastle.cms.CMSEnvelopedData;
import org.bouncycastle.cms.CMSEnvelopedDataGenerator;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.RecipientInformation;
import org.bouncycastle.cms.jcajce.JceCMSContentEncryptorBuilder;
import org.bouncycastle.cms.jcajce.JceKeyTransRecipientInfoGenerator;
import org.bouncycastle.operator.jcajce.JceAsymmetricKeyWrapper;
import org.keyarc.ca.CaException;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmKeyTransRecipient;
import org.keyarc.hsm.HsmSession;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.hsm.KeyPolicy;
import org.keyarc.hsm.KeySpec;
import org.keyarc.hsm.OaepHash;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.archive.ArchiveRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Archival inside the HSM (invariants 2 and 4; docs/archive-format.md). The enrollee's private key is
 * unwrapped into the CA token as a session object (RSA-OAEP unwrap of the transport key with the
 * exchange key, AES-KWP unwrap of the private key), proven against the requested public key by a
 * signature made with it in the token and verified in software ({@link HsmSession#provesPublicKey}),
 * wrapped under a fresh AES-256 key K generated in the token, and K is wrapped to the recovery
 * agents in M-of-N nested envelopes: for every M-subset, RSA-OAEP to the subset's last agent inside
 * the token, then one CMS EnvelopedData layer per further agent (in software: it is ciphertext already).
 * Every session object is destroyed on every path.
 */
public final class KeyArchiver {
  private static final Logger LOG = LoggerFactory.getLogger(KeyArchiver.class);
  static final AlgorithmIdentifier KWP = new AlgorithmIdentifier(NISTObjectIdentifiers.id_aes256_wrap_pad);

  private final HsmToken token;
  private final java.util.function.Supplier<List<CaKeyring.Exchange>> exchanges;
  /** The agents' OAEP hash; null: auto (from the agents' certificates, {@code OaepCapabilities.forAll}). */
  private final OaepHash agentOaep;
  /** False once the CA token refused to wrap with OAEP SHA-256 (SoftHSM2): auto then stays with SHA-1. */
  private volatile boolean tokenWrapsOaepSha256 = true;
  private final boolean allowSoftwareUnwrap;

  public KeyArchiver(HsmToken token, CaKeyring keys, OaepHash agentOaep, boolean allowSoftwareUnwrap) {
    this(token, keys::exchanges, agentOaep, allowSoftwareUnwrap);
  }

  /** With the exchange keys given directly (the benchmarks use session keys). */
  public KeyArchiver(HsmToken token, java.util.function.Supplier<List<CaKeyring.Exchange>> exchanges,
      OaepHash agentOaep, boolean allowSoftwareUnwrap) {
    this.token = token;
    this.exchanges = exchanges;
    this.agentOaep = agentOaep;
    this.allowSoftwareUnwrap = allowSoftwareUnwrap;
  }

  /** What archival produced before the certificate exists: all but the certificate's identity. */
  public record Sealed(AlgorithmIdentifier keyAlgorithm, byte[] wrappedKey, int threshold,
      List<X509CertificateHolder> agents, List<ArchiveRecord.Envelope> envelopes, boolean softwareUnwrap,
      ArchiveRecord.Verifier verifier) {
    /** The archive record once the certificate is signed. */
    public ArchiveRecord record(X509CertificateHolder cert) {
      return record(cert, null);
    }

    /** The archive record of {@code cert}; {@code certificateHash} its SHA-256 when another CA issued it. */
    public ArchiveRecord record(X509CertificateHolder cert, byte[] certificateHash) {
      List<org.bouncycastle.asn1.cms.IssuerAndSerialNumber> ids = new ArrayList<>();
      for (X509CertificateHolder a : agents) {
        ids.add(new org.bouncycastle.asn1.cms.IssuerAndSerialNumber(a.getIssuer(), a.getSerialNumber()));
      }
      return new ArchiveRecord(new org.bouncycastle.asn1.cms.IssuerAndSerialNumber(cert.getIssuer(),
          cert.getSerialNumber()), keyAlgorithm, KWP, wrappedKey, threshold, ids, envelopes, verifier,
          certificateHash);
    }

    @Override
    public String toString() {
      return "Sealed[" + threshold + " of " + agents.size() + "]";
    }
  }

  /**
   * Unwraps, checks and re-wraps the key in {@code encrypted} for the {@code agents} with threshold
   * {@code threshold}. Throws with BAD_POP when the key does not belong to {@code requested}.
   */
  public Sealed seal(EncryptedKey encrypted, SubjectPublicKeyInfo requested, List<X509CertificateHolder> agents,
      int threshold, java.time.Instant now) throws CaException {
    Date at = Date.from(now);
    KeyHandle.KeyType type = keyType(requested);
    PublicKey requestedKey = CaKeyring.publicKey(requested);
    boolean software = !encrypted.isEncryptedValue();
    EncryptedValue ev = software ? softwareToHsmForm(encrypted, at) : EncryptedValue.getInstance(encrypted.getValue());
    try {
      return token.call(s -> {
        List<KeyHandle> created = new ArrayList<>();
        try {
          KeyHandle transport = unwrapTransportKey(s, ev, at);
          created.add(transport);
          KeyHandle priv;
          try {
            priv = s.unwrapAesKwp(transport, ev.getEncValue().getOctets(), type, KeyPolicy.SESSION_UNWRAPPED, null);
          } catch (HsmException e) {
            if (type == KeyHandle.KeyType.EC
                && e.ckr() == org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_TEMPLATE_INCOMPLETE) {
              // NSS softoken 3.87 unwraps no EC private key, whatever the template ('keyarc hsm info' notes it)
              throw new Refused(ErrorCode.KEY_NOT_ALLOWED, "this CA's HSM token '" + token.label() + "' cannot "
                  + "unwrap EC private keys (C_UnwrapKey: CKR_TEMPLATE_INCOMPLETE), so it archives RSA keys only");
            }
            throw new Refused(ErrorCode.ARCHIVE_UNREADABLE, "the encrypted private key cannot be unwrapped with "
                + "its transport key (corrupted, or not AES key wrap with padding)");
          }
          created.add(priv);
          // a private-key operation in the token for every key type: a key with the right public half but a
          // wrong private exponent would be archived, and fail at recovery years later
          boolean proven;
          try {
            proven = s.provesPublicKey(priv, requestedKey);
          } catch (HsmException e) {
            if (e.reason() != HsmException.Reason.DEVICE_ERROR && e.reason() != HsmException.Reason.BAD_INPUT) {
              throw e; // the HSM's own trouble (busy, gone, no such mechanism): not the client's key
            }
            LOG.info("the archived private key cannot sign in the HSM: {}", e.getMessage());
            proven = false; // the token cannot compute with the key it was sent: malformed
          }
          if (!proven) {
            throw new Refused(ErrorCode.BAD_POP, "the archived private key does not match the requested public key: "
                + "it does not make a signature the public key verifies (nothing was stored)");
          }
          KeyHandle k = s.generateSecretKey(KeySpec.AES_256, KeyPolicy.SESSION_TRANSPORT, null);
          created.add(k);
          byte[] wrapped = s.wrapAesKwp(k, priv);
          List<ArchiveRecord.Envelope> envelopes = envelopes(s, k, agents, threshold, created);
          return new Sealed(requested.getAlgorithm(), wrapped, threshold, List.copyOf(agents), envelopes, software,
              verifier(s, k, created));
        } finally {
          destroyAll(s, created, "archival");
        }
      });
    } catch (Refused r) {
      throw new CaException(r.code, r.getMessage());
    } catch (HsmException e) {
      throw new CaException(ErrorCode.of(e.reason()), "archival failed in the HSM: " + e.getMessage(), e);
    }
  }

  /** Where a centrally generated key goes: under the one-time secret, or to the requester's RSA key. */
  public sealed interface Delivery {
    /** A MAC-protected request: the key wrapped under PBKDF2 of its one-time secret. */
    record ToSecret(char[] secret) implements Delivery {
      @Override
      public String toString() {
        return "ToSecret[not shown]";
      }
    }

    /** A signature-protected request: the key wrapped under a fresh AES key, that one RSA-OAEP to the requester. */
    record ToKey(PublicKey key) implements Delivery {}
  }

  /** A centrally generated key: its public key, its archive, and the private key for the requester, encrypted. */
  public record Generated(SubjectPublicKeyInfo publicKey, Sealed sealed, EncryptedValue delivered) {}

  /**
   * Central key generation with escrow (RFC 9483 4.1.6): a key pair of {@code spec} generated in the token as session
   * objects, archived to the agents exactly like a client's key (wrapped under a fresh K, K to the agents), wrapped
   * once more for the requester ({@code to}), then destroyed. The private key leaves the token only wrapped.
   */
  public Generated generate(KeySpec spec, Delivery to, List<X509CertificateHolder> agents, int threshold)
      throws CaException {
    if (to instanceof Delivery.ToKey k && !(k.key() instanceof java.security.interfaces.RSAPublicKey)) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the generated key is returned RSA-OAEP-encrypted to the "
          + "requester's protection certificate, which must be RSA; sign the request with an RSA key, or use a "
          + "one-time secret");
    }
    byte[] salt = new byte[16];
    new java.security.SecureRandom().nextBytes(salt);
    byte[] kek = to instanceof Delivery.ToSecret sec ? org.keyarc.protocol.client.CentralKeys.passwordKey(
        sec.secret(), salt, org.keyarc.protocol.client.CentralKeys.ITERATIONS) : null;
    try {
      return token.call(s -> {
        List<KeyHandle> created = new ArrayList<>();
        try {
          HsmSession.GeneratedKeyPair pair = s.generateKeyPair(spec, KeyPolicy.SESSION_UNWRAPPED, null);
          created.add(pair.privateKey());
          created.add(pair.publicKeyObject());
          KeyHandle k = s.generateSecretKey(KeySpec.AES_256, KeyPolicy.SESSION_TRANSPORT, null);
          created.add(k);
          byte[] wrapped = s.wrapAesKwp(k, pair.privateKey());
          List<ArchiveRecord.Envelope> envelopes = envelopes(s, k, agents, threshold, created);
          SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(pair.publicKey().getEncoded());
          EncryptedValue delivered;
          if (kek != null) {
            KeyHandle w = s.importWrappingKey(kek);
            created.add(w);
            delivered = org.keyarc.protocol.client.CentralKeys.encryptedValue(
                org.keyarc.protocol.client.CentralKeys.passwordWrap(salt,
                    org.keyarc.protocol.client.CentralKeys.ITERATIONS), null, null, s.wrapAesKwp(w, pair.privateKey()));
          } else {
            KeyHandle cek = s.generateSecretKey(KeySpec.AES_256, KeyPolicy.SESSION_TRANSPORT, null);
            created.add(cek);
            KeyHandle requester = s.importPublicKey(((Delivery.ToKey) to).key(), null);
            created.add(requester);
            byte[] value = s.wrapAesKwp(cek, pair.privateKey());
            // wrapped in the CA token, which may do OAEP with SHA-1 only (SoftHSM2): the configured hash, else SHA-1
            OaepHash toRequester = agentOaep != null ? agentOaep : OaepHash.SHA1;
            delivered = org.keyarc.protocol.client.CentralKeys.encryptedValue(KWP, s.wrapOaep(requester, cek,
                toRequester), toRequester.algorithmIdentifier(), value);
          }
          return new Generated(spki, new Sealed(spki.getAlgorithm(), wrapped, threshold, List.copyOf(agents),
              envelopes, false, verifier(s, k, created)), delivered);
        } finally {
          destroyAll(s, created, "central key generation");
        }
      });
    } catch (HsmException e) {
      throw new CaException(ErrorCode.of(e.reason()), "central key generation failed in the HSM: " + e.getMessage(),
          e);
    } finally {
      if (kek != null) {
        Arrays.fill(kek, (byte) 0);
      }
    }
  }

  /**
   * The record's verifier: an EC P-256 key pair made in the token, its private half wrapped under K. Whoever reaches
   * K can sign with it, and nobody else: the proof a drill or rotation answer must carry (the archived key itself
   * proves nothing of the agents, since its owner holds it).
   */
  private static ArchiveRecord.Verifier verifier(HsmSession s, KeyHandle k, List<KeyHandle> created)
      throws HsmException {
    HsmSession.GeneratedKeyPair v = s.generateKeyPair(KeySpec.EC_P256, KeyPolicy.SESSION_UNWRAPPED, null);
    created.add(v.privateKey());
    created.add(v.publicKeyObject());
    return new ArchiveRecord.Verifier(SubjectPublicKeyInfo.getInstance(v.publicKey().getEncoded()),
        s.wrapAesKwp(k, v.privateKey()));
  }

  /** The transport key, unwrapped with whichever currently valid exchange key it was encrypted to. */
  private KeyHandle unwrapTransportKey(HsmSession s, EncryptedValue ev, Date now) throws HsmException {
    if (ev.getSymmAlg() == null || !Arrays.asList(NISTObjectIdentifiers.id_aes128_wrap_pad,
        NISTObjectIdentifiers.id_aes192_wrap_pad, NISTObjectIdentifiers.id_aes256_wrap_pad)
        .contains(ev.getSymmAlg().getAlgorithm())) {
      throw new Refused(ErrorCode.ARCHIVE_FORM_REFUSED, "EncryptedValue must use AES key wrap with padding "
          + "(id-aes*-wrap-pad), not " + (ev.getSymmAlg() == null ? "nothing" : ev.getSymmAlg().getAlgorithm())
          + ": the HSM can unwrap only that");
    }
    if (ev.getKeyAlg() == null || !ev.getKeyAlg().getAlgorithm().equals(PKCSObjectIdentifiers.id_RSAES_OAEP)
        || ev.getEncSymmKey() == null || ev.getEncValue() == null) {
      throw new Refused(ErrorCode.ARCHIVE_FORM_REFUSED, "EncryptedValue must carry an RSA-OAEP encrypted symmetric "
          + "key and an encrypted value");
    }
    OaepHash hash;
    try {
      hash = HsmKeyTransRecipient.oaepHash(ev.getKeyAlg());
    } catch (CMSException e) {
      throw new Refused(ErrorCode.ARCHIVE_FORM_REFUSED, e.getMessage());
    }
    for (CaKeyring.Exchange x : exchanges.get()) {
      if (!x.cert().isValidOn(now)) {
        continue;
      }
      try {
        return s.unwrapOaep(x.key(), ev.getEncSymmKey().getOctets(), hash, KeyPolicy.SESSION_UNWRAPPING, null);
      } catch (HsmException e) {
        if (e.reason() == HsmException.Reason.MECHANISM_NOT_SUPPORTED) {
          throw new Refused(ErrorCode.ARCHIVE_FORM_REFUSED, "this HSM cannot unwrap with RSA-OAEP " + hash
              + ": " + e.getMessage());
        }
        // not encrypted to this exchange key: try the next
      }
    }
    throw new Refused(ErrorCode.WRONG_EXCHANGE_CERT, "the private key is not encrypted to a valid exchange "
        + "certificate of this CA (fetch the current one with genm id-it-caProtEncCert)");
  }

  /**
   * The software-unwrap path for forms the HSM cannot unwrap (CMS EnvelopedData with a CBC content
   * cipher): the content-encryption key is decrypted in the token, the PrivateKeyInfo in the JVM, then
   * re-encrypted at once into the form the HSM unwraps, and the plaintext is wiped. Off unless the
   * administrator sets {@code archival.allowSoftwareUnwrap}; every use is audited.
   */
  private EncryptedValue softwareToHsmForm(EncryptedKey encrypted, Date now) throws CaException {
    if (!allowSoftwareUnwrap) {
      throw new CaException(ErrorCode.ARCHIVE_FORM_REFUSED, "the private key comes as CMS EnvelopedData, which this "
          + "HSM cannot unwrap inside the token: keyarc would have to decrypt it in the JVM. Send the EncryptedValue "
          + "form (RSA-OAEP + AES key wrap with padding; keyarc enroll --archive does), or have the administrator set "
          + "archival.allowSoftwareUnwrap");
    }
    CMSEnvelopedData env;
    try {
      env = new CMSEnvelopedData(new ContentInfo(CMSObjectIdentifiers.envelopedData,
          EnvelopedData.getInstance(encrypted.getValue())));
    } catch (CMSException | IllegalArgumentException e) {
      throw new CaException(ErrorCode.ARCHIVE_UNREADABLE, "the EnvelopedData cannot be read: " + e.getMessage());
    }
    for (CaKeyring.Exchange x : exchanges.get()) {
      if (!x.cert().isValidOn(now)) {
        continue;
      }
      for (RecipientInformation ri : env.getRecipientInfos().getRecipients()) {
        byte[] pkcs8 = null;
        try {
          byte[] content = ri.getContent(new HsmKeyTransRecipient(token, x.key())); // plaintext in the JVM: allowed
          pkcs8 = privateKeyInfo(env, content);
          // at once into the form the HSM unwraps (a fresh software KWP key, RSA-OAEP to the exchange key)
          return EncryptedValue.getInstance(org.keyarc.protocol.client.ArchiveEncryption.encryptedValue(
              org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(pkcs8), x.cert(), exchangeOaep(x.cert()).jcaName())
              .getValue());
        } catch (CMSException e) {
          // not for this exchange key: try the next
        } catch (org.keyarc.protocol.client.CmpClientException | IllegalArgumentException e) {
          throw new CaException(ErrorCode.ARCHIVE_UNREADABLE, "the EnvelopedData holds no usable private key: "
              + e.getMessage());
        } finally {
          if (pkcs8 != null) {
            Arrays.fill(pkcs8, (byte) 0);
          }
        }
      }
    }
    throw new CaException(ErrorCode.WRONG_EXCHANGE_CERT, "the EnvelopedData has no recipient this CA's valid exchange "
        + "keys can decrypt (exchange keys made while archival.allowSoftwareUnwrap was off are unwrap-only: encrypt "
        + "to the current exchange certificate)");
  }

  /**
   * The PrivateKeyInfo inside an archive EnvelopedData: RFC 4211 puts either the PrivateKeyInfo itself or
   * an EncKeyWithID (content type id-ct-encKeyWithID, what Bouncy Castle's PKIArchiveControlBuilder makes).
   */
  private static byte[] privateKeyInfo(CMSEnvelopedData env, byte[] content) throws CMSException {
    ASN1ObjectIdentifier type = EnvelopedData.getInstance(env.toASN1Structure().getContent())
        .getEncryptedContentInfo().getContentType();
    if (type.equals(org.bouncycastle.asn1.crmf.CRMFObjectIdentifiers.id_ct_encKeyWithID)) {
      try {
        byte[] pkcs8 = org.bouncycastle.asn1.crmf.EncKeyWithID.getInstance(content).getPrivateKey().getEncoded("DER");
        Arrays.fill(content, (byte) 0);
        return pkcs8;
      } catch (IOException | IllegalArgumentException e) {
        throw new CMSException("the EncKeyWithID cannot be read", e);
      }
    }
    return content;
  }

  /** One envelope per M-subset of the agents: K OAEP-wrapped inside the token to each last agent, then CMS layers. */
  private List<ArchiveRecord.Envelope> envelopes(HsmSession s, KeyHandle k, List<X509CertificateHolder> agents,
      int threshold, List<KeyHandle> created) throws HsmException {
    if (agentOaep != null) {
      return envelopes(s, k, agents, threshold, created, agentOaep);
    }
    // auto: SHA-256 when every agent's card does it (its certificate says so) and this token wraps with it
    OaepHash hash = tokenWrapsOaepSha256 ? org.keyarc.protocol.OaepCapabilities.forAll(agents) : OaepHash.SHA1;
    try {
      return envelopes(s, k, agents, threshold, created, hash);
    } catch (HsmException e) {
      if (hash != OaepHash.SHA256 || e.reason() != HsmException.Reason.MECHANISM_NOT_SUPPORTED) {
        throw e;
      }
      tokenWrapsOaepSha256 = false;
      LOG.info("the CA token does not wrap with RSA-OAEP SHA-256 ({}): the agents' envelopes use SHA-1",
          e.getMessage());
      return envelopes(s, k, agents, threshold, created, OaepHash.SHA1);
    }
  }

  private static List<ArchiveRecord.Envelope> envelopes(HsmSession s, KeyHandle k, List<X509CertificateHolder> agents,
      int threshold, List<KeyHandle> created, OaepHash hash) throws HsmException {
    return org.keyarc.protocol.archive.Envelopes.build(agents, threshold, hash.algorithmIdentifier(), last -> {
      KeyHandle pub = s.importPublicKey(CaKeyring.publicKey(agents.get(last).getSubjectPublicKeyInfo()), null);
      created.add(pub);
      return s.wrapOaep(pub, k, hash);
    });
  }

  /** The OAEP hash the CA token unwraps with for {@code exchange}: configured, else what its certificate lists. */
  private OaepHash exchangeOaep(X509CertificateHolder exchange) {
    if (agentOaep != null) {
      return agentOaep;
    }
    OaepHash listed = org.keyarc.protocol.OaepCapabilities.preferred(exchange);
    return listed != null ? listed : OaepHash.SHA1;
  }

  static KeyHandle.KeyType keyType(SubjectPublicKeyInfo spki) {
    ASN1ObjectIdentifier alg = spki.getAlgorithm().getAlgorithm();
    if (alg.equals(PKCSObjectIdentifiers.rsaEncryption)) {
      return KeyHandle.KeyType.RSA;
    }
    if (alg.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
      return KeyHandle.KeyType.EC;
    }
    return KeyHandle.KeyType.OTHER;
  }

  /** Destroys the session objects an operation made, on every path; one that will not go is logged. */
  private static void destroyAll(HsmSession s, List<KeyHandle> created, String what) {
    for (KeyHandle h : created) {
      try {
        s.destroy(h);
      } catch (HsmException e) {
        LOG.warn("could not destroy a session object after {}: {}", what, e.getMessage());
      }
    }
  }

  /** A refusal raised inside the HSM session, carried out of the lambda. */
  private static final class Refused extends HsmException {
    private static final long serialVersionUID = 1L;
    final ErrorCode code;

    Refused(ErrorCode code, String message) {
      super(HsmException.Reason.BAD_INPUT, "archival", null, message);
      this.code = code;
    }
  }

}
