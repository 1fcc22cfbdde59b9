package org.keyarc.protocol.client;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;

/**
 * Whether a private key belongs to a public key, by a private-key operation: a random challenge signed with the
 * private key (SHA-256 with RSA or ECDSA) must verify with the public key. Comparing RSA's modulus alone would accept
 * a key with a wrong private exponent.
 */
public final class KeyMatch {
  private static final SecureRandom RANDOM = new SecureRandom();

  private KeyMatch() {}

  public static boolean matches(PrivateKey priv, PublicKey pub) throws GeneralSecurityException {
    String alg = priv.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    byte[] challenge = new byte[32];
    RANDOM.nextBytes(challenge);
    Signature s = Signature.getInstance(alg);
    s.initSign(priv);
    s.update(challenge);
    byte[] sig = s.sign();
    Signature v = Signature.getInstance(alg);
    v.initVerify(pub);
    v.update(challenge);
    return v.verify(sig);
  }
}
