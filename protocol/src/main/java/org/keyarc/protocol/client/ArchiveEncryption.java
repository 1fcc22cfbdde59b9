package org.keyarc.protocol.client;

import java.io.IOException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.MGF1ParameterSpec;
import java.util.Arrays;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.crmf.EncryptedKey;
import org.bouncycastle.asn1.crmf.EncryptedValue;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.engines.RFC5649WrapEngine;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.OperatorException;
import org.bouncycastle.operator.jcajce.JceAsymmetricKeyWrapper;
import org.bouncycastle.operator.jcajce.JceGenericKey;
import org.keyarc.protocol.ErrorCode;

/**
 * The enrollee's side of archival: the private key for {@code PKIArchiveOptions.encryptedPrivKey}, in
 * the CRMF {@code EncryptedValue} form a keyarc node unwraps inside its HSM: the PrivateKeyInfo is
 * wrapped with AES-256 key wrap with padding (RFC 5649) under a fresh key K, and K is encrypted with
 * RSA-OAEP to the CA's exchange certificate.
 */
public final class ArchiveEncryption {
  private static final SecureRandom RANDOM = new SecureRandom();

  private ArchiveEncryption() {}

  /**
   * @param oaepDigest "SHA-1" (what SoftHSM2 can unwrap) or "SHA-256"
   */
  public static EncryptedKey encryptedValue(PrivateKeyInfo key, X509CertificateHolder exchange, String oaepDigest)
      throws CmpClientException {
    byte[] k = new byte[32];
    byte[] der = null;
    try {
      RANDOM.nextBytes(k);
      der = key.getEncoded("DER");
      RFC5649WrapEngine kwp = new RFC5649WrapEngine(AESEngine.newInstance());
      kwp.init(true, new KeyParameter(k));
      byte[] encValue = kwp.wrap(der, 0, der.length);
      PublicKey exchangeKey = new JcaPEMKeyConverter().getPublicKey(exchange.getSubjectPublicKeyInfo());
      MGF1ParameterSpec mgf = oaepDigest.equals("SHA-1") ? MGF1ParameterSpec.SHA1 : MGF1ParameterSpec.SHA256;
      JceAsymmetricKeyWrapper wrapper = new JceAsymmetricKeyWrapper(new OAEPParameterSpec(oaepDigest, "MGF1", mgf,
          PSource.PSpecified.DEFAULT), exchangeKey);
      AlgorithmIdentifier kwpAlg = new AlgorithmIdentifier(NISTObjectIdentifiers.id_aes256_wrap_pad);
      byte[] encSymmKey = wrapper.generateWrappedKey(new JceGenericKey(kwpAlg, new SecretKeySpec(k, "AES")));
      return new EncryptedKey(new EncryptedValue(null, kwpAlg, new DERBitString(encSymmKey),
          wrapper.getAlgorithmIdentifier(), null, new DERBitString(encValue)));
    } catch (IOException | OperatorException | RuntimeException e) {
      throw new CmpClientException(ErrorCode.BAD_INPUT, "cannot encrypt the private key to the exchange certificate: "
          + e.getMessage(), e);
    } finally {
      Arrays.fill(k, (byte) 0);
      if (der != null) {
        Arrays.fill(der, (byte) 0);
      }
    }
  }

}
