package org.keyarc.protocol.client;

import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.util.Arrays;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.crmf.EncryptedValue;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.EncryptionScheme;
import org.bouncycastle.asn1.pkcs.KeyDerivationFunc;
import org.bouncycastle.asn1.pkcs.PBES2Parameters;
import org.bouncycastle.asn1.pkcs.PBKDF2Params;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.engines.RFC5649WrapEngine;
import org.bouncycastle.crypto.generators.PKCS5S2ParametersGenerator;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.operator.jcajce.JceAsymmetricKeyUnwrapper;
import org.keyarc.hsm.Der;
import org.keyarc.protocol.ErrorCode;

/**
 * The private key a CA generated for a requester (central key generation, RFC 9483 4.1.6), as keyarc returns it in
 * {@code CertifiedKeyPair.privateKey}: the RFC 4211 EncryptedValue form of RFC 9810's EncryptedKey, because it is
 * what a PKCS#11 token can make without the key ever being plaintext outside it (C_WrapKey with AES key wrap with
 * padding). Two ways to the requester:
 *
 * <ul>
 *   <li>a MAC-protected request (a one-time secret): {@code symmAlg} is PBES2 with PBKDF2-HMAC-SHA256 over the
 *       secret (UTF-8) and id-aes256-wrap-pad as its scheme; {@code encValue} is the PrivateKeyInfo wrapped under the
 *       derived key; no {@code encSymmKey};
 *   <li>a signature-protected request: {@code symmAlg} is id-aes256-wrap-pad, {@code encSymmKey} the fresh AES key
 *       RSA-OAEP-encrypted ({@code keyAlg}) to the requester's protection certificate, {@code encValue} the
 *       PrivateKeyInfo wrapped under it.
 * </ul>
 */
public final class CentralKeys {
  /** PBKDF2 iterations the CA uses (the one-time secret has 128 bits or more: this is not what protects it). */
  public static final int ITERATIONS = 10_000;
  /** The most iterations a client computes for an answer (a hostile CA must not buy its CPU). */
  static final int MAX_ITERATIONS = 1_000_000;

  private CentralKeys() {}

  /** The symmAlg of the MAC-protected form: PBES2(PBKDF2-HMAC-SHA256(salt, iterations, 32), id-aes256-wrap-pad). */
  public static AlgorithmIdentifier passwordWrap(byte[] salt, int iterations) {
    PBKDF2Params kdf = new PBKDF2Params(salt, iterations, 32, new AlgorithmIdentifier(
        PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE));
    return new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBES2, new PBES2Parameters(
        new KeyDerivationFunc(PKCSObjectIdentifiers.id_PBKDF2, kdf),
        new EncryptionScheme(NISTObjectIdentifiers.id_aes256_wrap_pad)));
  }

  /** The key-encryption key of the MAC-protected form. The caller wipes it. */
  public static byte[] passwordKey(char[] secret, byte[] salt, int iterations) {
    byte[] pw = new String(secret).getBytes(StandardCharsets.UTF_8);
    try {
      PKCS5S2ParametersGenerator g = new PKCS5S2ParametersGenerator(new SHA256Digest());
      g.init(pw, salt, iterations);
      return ((KeyParameter) g.generateDerivedParameters(256)).getKey();
    } finally {
      Arrays.fill(pw, (byte) 0);
    }
  }

  /**
   * Opens the key the CA returned: with the one-time secret (MAC-protected request) or the requester's own private
   * key (signature-protected). The PrivateKeyInfo, which the caller checks against the certificate.
   */
  public static PrivateKeyInfo open(EncryptedValue ev, char[] secret, PrivateKey requesterKey)
      throws CmpClientException {
    if (ev.getSymmAlg() == null || ev.getEncValue() == null) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the returned private key has no algorithm or value");
    }
    byte[] kek = null;
    try {
      ASN1ObjectIdentifier alg = ev.getSymmAlg().getAlgorithm();
      if (alg.equals(PKCSObjectIdentifiers.id_PBES2)) {
        if (secret == null) {
          throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the key is encrypted under a shared secret, but the "
              + "request was not MAC-protected");
        }
        PBES2Parameters p = PBES2Parameters.getInstance(ev.getSymmAlg().getParameters());
        PBKDF2Params kdf = PBKDF2Params.getInstance(p.getKeyDerivationFunc().getParameters());
        if (!p.getKeyDerivationFunc().getAlgorithm().equals(PKCSObjectIdentifiers.id_PBKDF2)
            || !p.getEncryptionScheme().getAlgorithm().equals(NISTObjectIdentifiers.id_aes256_wrap_pad)
            || !kdf.getPrf().getAlgorithm().equals(PKCSObjectIdentifiers.id_hmacWithSHA256)
            || kdf.getIterationCount().intValueExact() < 1000
            || kdf.getIterationCount().intValueExact() > MAX_ITERATIONS) {
          throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the returned key uses a password wrap this client "
              + "does not accept (PBKDF2-HMAC-SHA256, 1,000 to 1,000,000 iterations, AES-256 key wrap with padding)");
        }
        kek = passwordKey(secret, kdf.getSalt(), kdf.getIterationCount().intValueExact());
      } else if (alg.equals(NISTObjectIdentifiers.id_aes256_wrap_pad)) {
        if (requesterKey == null || ev.getEncSymmKey() == null || ev.getKeyAlg() == null
            || !ev.getKeyAlg().getAlgorithm().equals(PKCSObjectIdentifiers.id_RSAES_OAEP)) {
          throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the key is encrypted to the requester's key with "
              + "RSA-OAEP, which this request cannot open");
        }
        Object rep = new JceAsymmetricKeyUnwrapper(ev.getKeyAlg(), requesterKey).generateUnwrappedKey(
            new AlgorithmIdentifier(NISTObjectIdentifiers.id_aes256_wrap_pad), ev.getEncSymmKey().getOctets())
            .getRepresentation();
        kek = rep instanceof byte[] b ? b.clone() : rep instanceof java.security.Key k ? k.getEncoded() : null;
        if (kek == null) {
          throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the key's wrapping key cannot be read");
        }
      } else {
        throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the returned key uses " + alg + ", which this client "
            + "does not open");
      }
      RFC5649WrapEngine kwp = new RFC5649WrapEngine(AESEngine.newInstance());
      kwp.init(false, new KeyParameter(kek));
      byte[] wrapped = ev.getEncValue().getOctets();
      byte[] pkcs8 = Der.trimTrailingPadding(kwp.unwrap(wrapped, 0, wrapped.length));
      try {
        return PrivateKeyInfo.getInstance(pkcs8);
      } finally {
        Arrays.fill(pkcs8, (byte) 0);
      }
    } catch (InvalidCipherTextException e) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the returned private key does not open with this "
          + (secret != null ? "secret" : "key") + " (altered in transit?)");
    } catch (org.bouncycastle.operator.OperatorException | RuntimeException e) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the returned private key cannot be read: "
          + e.getMessage());
    } finally {
      if (kek != null) {
        Arrays.fill(kek, (byte) 0);
      }
    }
  }

  /** An EncryptedValue with no intended algorithm or hint. */
  public static EncryptedValue encryptedValue(AlgorithmIdentifier symmAlg, byte[] encSymmKey, AlgorithmIdentifier keyAlg,
      byte[] encValue) {
    return new EncryptedValue(null, symmAlg, encSymmKey == null ? null : new org.bouncycastle.asn1.DERBitString(
        encSymmKey), keyAlg, null, new org.bouncycastle.asn1.DERBitString(encValue));
  }

}
