package org.keyarc.hsm;

import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAESOAEPparams;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.bc.BcRSAKeyTransEnvelopedRecipient;
import org.bouncycastle.crypto.CipherParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;

/**
 * A Bouncy Castle CMS {@code KeyTransRecipient} whose RSA private key stays in a PKCS#11 token: the
 * content-encryption key of a KeyTransRecipientInfo is decrypted in the token (RSA-OAEP with SHA-1 or
 * SHA-256, or PKCS#1 v1.5), then Bouncy Castle decrypts the content. What leaves the token is that
 * content-encryption key only, never the RSA key. Used to open CMS layers addressed to a recovery agent's
 * card or to the CA's exchange key.
 */
public final class HsmKeyTransRecipient extends BcRSAKeyTransEnvelopedRecipient {
  private final HsmToken token;
  private final KeyHandle privateKey;

  public HsmKeyTransRecipient(HsmToken token, KeyHandle privateKey) {
    // the superclass wants a key parameter; it is never used because extractSecretKey is replaced
    super(new AsymmetricKeyParameter(true));
    this.token = token;
    this.privateKey = privateKey;
  }

  @Override
  protected CipherParameters extractSecretKey(AlgorithmIdentifier keyEncryptionAlgorithm,
      AlgorithmIdentifier encryptedKeyAlgorithm, byte[] encryptedEncryptionKey) throws CMSException {
    try {
      byte[] cek;
      if (keyEncryptionAlgorithm.getAlgorithm().equals(PKCSObjectIdentifiers.id_RSAES_OAEP)) {
        OaepHash hash = oaepHash(keyEncryptionAlgorithm);
        cek = token.call(s -> s.decryptOaep(privateKey, hash, encryptedEncryptionKey));
      } else if (keyEncryptionAlgorithm.getAlgorithm().equals(PKCSObjectIdentifiers.rsaEncryption)) {
        cek = token.call(s -> s.decryptRsaPkcs1(privateKey, encryptedEncryptionKey));
      } else {
        throw new CMSException("key transport algorithm " + keyEncryptionAlgorithm.getAlgorithm()
            + " is not supported (RSA-OAEP or RSA PKCS#1 v1.5)");
      }
      return new KeyParameter(cek);
    } catch (HsmException e) {
      throw new CMSException("the token could not decrypt the content-encryption key: " + e.getMessage(), e);
    }
  }

  /** The OAEP hash of an RSAES-OAEP AlgorithmIdentifier (absent parameters mean SHA-1). */
  public static OaepHash oaepHash(AlgorithmIdentifier oaep) throws CMSException {
    RSAESOAEPparams p = RSAESOAEPparams.getInstance(oaep.getParameters());
    if (p == null || p.getHashAlgorithm().getAlgorithm().equals(OIWObjectIdentifiers.idSHA1)) {
      return OaepHash.SHA1;
    }
    if (p.getHashAlgorithm().getAlgorithm().equals(NISTObjectIdentifiers.id_sha256)) {
      return OaepHash.SHA256;
    }
    throw new CMSException("RSA-OAEP with hash " + p.getHashAlgorithm().getAlgorithm() + " is not supported");
  }

}
