package org.keyarc.agent.recovery;

import java.util.Arrays;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.engines.RFC5649WrapEngine;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.operator.OperatorException;
import org.bouncycastle.operator.jcajce.JceAsymmetricKeyWrapper;
import org.bouncycastle.operator.jcajce.JceGenericKey;
import org.keyarc.hsm.Der;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmKeyTransRecipient;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.archive.ArchiveRecord;
import org.keyarc.protocol.archive.Envelopes;

/**
 * An archive's key K (AES-256), what the last agent's card yields from the innermost layer: it opens the archived
 * private key ({@link #open}) and, at an agent rotation, is wrapped again to the new agents ({@link #wrapTo}), so
 * that the private key itself need not leave {@link RecoveredKey}. Held only on the last agent's machine, for one
 * archive; {@link #close()} wipes this copy (the JCA key objects made from it at a rotation cannot be wiped and are
 * left to the garbage collector); {@link #toString()} shows nothing of it.
 */
public final class ArchiveKey implements AutoCloseable {
  private final byte[] k;

  private ArchiveKey(byte[] k) {
    this.k = k;
  }

  /** Decrypts the innermost layer (RSA-OAEP of K) with the agent's key on the card. */
  static ArchiveKey decrypt(HsmToken card, KeyHandle key, AlgorithmIdentifier keyWrap, byte[] innermost)
      throws RecoveryException {
    try {
      org.keyarc.hsm.OaepHash hash = HsmKeyTransRecipient.oaepHash(keyWrap);
      byte[] k = card.call(s -> s.decryptOaep(key, hash, innermost));
      if (k.length != 32) {
        Arrays.fill(k, (byte) 0);
        throw new RecoveryException(ErrorCode.BAD_INPUT, "the innermost layer does not hold an AES-256 key");
      }
      return new ArchiveKey(k);
    } catch (HsmException e) {
      throw new RecoveryException(ErrorCode.of(e.reason()), "card '" + card.label() + "': " + e.getMessage());
    } catch (CMSException e) {
      throw new RecoveryException(ErrorCode.BAD_INPUT, "the archive's key wrap cannot be used: " + e.getMessage());
    }
  }

  /**
   * The archived private key: AES key wrap with padding (RFC 5649, whose integrity check proves that this K is the
   * archive's) of {@code record}'s wrappedKey.
   */
  RecoveredKey open(ArchiveRecord record) throws RecoveryException {
    try {
      RFC5649WrapEngine kwp = new RFC5649WrapEngine(AESEngine.newInstance());
      kwp.init(false, new KeyParameter(k));
      byte[] wrapped = record.wrappedKey();
      byte[] pkcs8 = Der.trimTrailingPadding(kwp.unwrap(wrapped, 0, wrapped.length));
      String alg = PrivateKeyInfo.getInstance(pkcs8).getPrivateKeyAlgorithm().getAlgorithm().getId();
      return new RecoveredKey(pkcs8, alg);
    } catch (InvalidCipherTextException | RuntimeException e) {
      throw new RecoveryException(ErrorCode.BAD_INPUT, "the archived key cannot be unwrapped: " + e.getMessage());
    }
  }

  /** RSA-OAEP ({@code oaep}) of K to {@code agent}'s public key: the innermost layer of a new envelope. */
  public byte[] wrapTo(X509CertificateHolder agent, AlgorithmIdentifier oaep) throws RecoveryException {
    try {
      return new JceAsymmetricKeyWrapper(oaep, Envelopes.publicKey(agent)).generateWrappedKey(new JceGenericKey(
          new AlgorithmIdentifier(NISTObjectIdentifiers.id_aes256_wrap_pad), new SecretKeySpec(k, "AES")));
    } catch (OperatorException | RuntimeException e) {
      throw new RecoveryException(ErrorCode.BAD_INPUT, "cannot wrap the archive key to " + agent.getSubject() + ": "
          + e.getMessage());
    }
  }

  /**
   * Signs {@code message} with the record's verifier key (its private half is wrapped under K: only who reaches K can)
   * and checks the signature with the verifier's public key; the key is wiped at once. ECDSA with SHA-256.
   */
  public byte[] proveWithVerifier(ArchiveRecord.Verifier verifier, byte[] message) throws RecoveryException {
    byte[] pkcs8 = null;
    try {
      RFC5649WrapEngine kwp = new RFC5649WrapEngine(AESEngine.newInstance());
      kwp.init(false, new KeyParameter(k));
      byte[] wrapped = verifier.wrappedPrivate();
      pkcs8 = Der.trimTrailingPadding(kwp.unwrap(wrapped, 0, wrapped.length));
      java.security.PrivateKey priv = new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter().getPrivateKey(
          PrivateKeyInfo.getInstance(pkcs8));
      java.security.Signature sig = java.security.Signature.getInstance("SHA256withECDSA");
      sig.initSign(priv);
      sig.update(message);
      byte[] out = sig.sign();
      java.security.Signature v = java.security.Signature.getInstance("SHA256withECDSA");
      v.initVerify(new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter().getPublicKey(verifier.publicKey()));
      v.update(message);
      if (!v.verify(out)) {
        throw new RecoveryException(ErrorCode.BAD_INPUT, "the archive's verifier key does not match its public key");
      }
      return out;
    } catch (InvalidCipherTextException | java.io.IOException | java.security.GeneralSecurityException
        | RuntimeException e) {
      throw new RecoveryException(ErrorCode.BAD_INPUT, "the archive's verifier key cannot be opened with K: "
          + e.getMessage());
    } finally {
      if (pkcs8 != null) {
        Arrays.fill(pkcs8, (byte) 0);
      }
    }
  }

  /**
   * A new verifier for a record that has none (made before verifiers): an EC P-256 key pair made here, its private
   * half wrapped under K; {@link NewVerifier#sign} signs the proof with it.
   */
  public NewVerifier newVerifier() throws RecoveryException {
    byte[] pkcs8 = null;
    try {
      java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
      g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
      java.security.KeyPair kp = g.generateKeyPair();
      pkcs8 = kp.getPrivate().getEncoded();
      RFC5649WrapEngine kwp = new RFC5649WrapEngine(AESEngine.newInstance());
      kwp.init(true, new KeyParameter(k));
      byte[] wrapped = kwp.wrap(pkcs8, 0, pkcs8.length);
      return new NewVerifier(new ArchiveRecord.Verifier(org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(
          kp.getPublic().getEncoded()), wrapped), kp.getPrivate());
    } catch (java.security.GeneralSecurityException | RuntimeException e) {
      throw new RecoveryException(ErrorCode.BAD_INPUT, "cannot make a verifier: " + e.getMessage());
    } finally {
      if (pkcs8 != null) {
        Arrays.fill(pkcs8, (byte) 0);
      }
    }
  }

  /** A verifier made at a rotation, with its private half for the one proof it signs. */
  public static final class NewVerifier {
    private final ArchiveRecord.Verifier verifier;
    private final java.security.PrivateKey key;

    NewVerifier(ArchiveRecord.Verifier verifier, java.security.PrivateKey key) {
      this.verifier = verifier;
      this.key = key;
    }

    public ArchiveRecord.Verifier verifier() {
      return verifier;
    }

    /** ECDSA with SHA-256 of {@code message}. */
    public byte[] sign(byte[] message) throws RecoveryException {
      try {
        java.security.Signature sig = java.security.Signature.getInstance("SHA256withECDSA");
        sig.initSign(key);
        sig.update(message);
        return sig.sign();
      } catch (java.security.GeneralSecurityException e) {
        throw new RecoveryException(ErrorCode.BAD_INPUT, "cannot sign with the new verifier: " + e.getMessage());
      }
    }

    @Override
    public String toString() {
      return "NewVerifier[not shown]";
    }
  }

  @Override
  public void close() {
    Arrays.fill(k, (byte) 0);
  }

  @Override
  public String toString() {
    return "ArchiveKey[not shown]";
  }
}
