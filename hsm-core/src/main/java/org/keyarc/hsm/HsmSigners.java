package org.keyarc.hsm;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Security;
import java.util.Locale;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.RuntimeOperatorException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.keyarc.hsm.HsmException.Reason;

/**
 * Bouncy Castle {@link ContentSigner}s backed by a key in a token, so that certificates, CRLs, CMS and
 * CMP protection are built with BC's builders while the key stays in the HSM. Two paths, chosen by
 * configuration ({@link Path}):
 * <ul>
 *   <li>{@link Path#IAIK}: C_Sign through the IAIK wrapper on a pooled {@link HsmSession};</li>
 *   <li>{@link Path#SUNPKCS11}: the JDK's SunPKCS11 provider configured for the same library file and
 *       slot. It shares C_Initialize and the login with the IAIK module in this process; its KeyStore
 *       lists a private key only when a certificate with the same CKA_ID is on the token, so the key is
 *       found by the certificate's label ({@link HsmSession#storeCertificate}).</li>
 * </ul>
 */
public final class HsmSigners {

  /** Which PKCS#11 path signs. */
  public enum Path {
    IAIK, SUNPKCS11;

    /** "iaik" or "sunpkcs11". */
    public static Path parse(String text) {
      try {
        return valueOf(text.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown signer path '" + text + "'; use iaik or sunpkcs11");
      }
    }
  }

  private final Path path;
  private final HsmToken token;
  private final Provider provider;
  private final KeyStore keyStore;

  private HsmSigners(Path path, HsmToken token, Provider provider, KeyStore keyStore) {
    this.path = path;
    this.token = token;
    this.provider = provider;
    this.keyStore = keyStore;
  }

  /** Signers over the IAIK wrapper. */
  public static HsmSigners iaik(HsmToken token) {
    return new HsmSigners(Path.IAIK, token, null, null);
  }

  /**
   * Signers over a SunPKCS11 provider configured for the token's library file and current slot.
   * The PIN is used for the KeyStore login and not kept.
   */
  public static HsmSigners sunPkcs11(HsmToken token, char[] pin) throws HsmException {
    String name = "keyarc-" + token.label().replaceAll("[^A-Za-z0-9]", "_");
    String config = "--name = " + name + "\n"
        + "library = " + token.module().loadedLibrary() + "\n"
        + "slot = " + token.description().slotId() + "\n";
    Provider base = Security.getProvider("SunPKCS11");
    if (base == null) {
      throw new HsmException(Reason.MODULE_LOAD_FAILED, "SunPKCS11", token.label(),
          "this JDK has no SunPKCS11 provider (module jdk.crypto.cryptoki)");
    }
    try {
      Provider p = base.configure(config);
      KeyStore ks = KeyStore.getInstance("PKCS11", p);
      ks.load(null, pin);
      return new HsmSigners(Path.SUNPKCS11, token, p, ks);
    } catch (GeneralSecurityException | java.io.IOException | RuntimeException e) {
      String msg = String.valueOf(e.getMessage());
      Reason reason = msg.contains("CKR_PIN_INCORRECT") || e.getCause() instanceof javax.security.auth.login.FailedLoginException
          ? Reason.PIN_INCORRECT : Reason.DEVICE_ERROR;
      throw new HsmException(reason, "SunPKCS11 login", token.label(), -1,
          (reason == Reason.PIN_INCORRECT ? "PIN incorrect for token '" + token.label() + "'"
              : "SunPKCS11 cannot open token '" + token.label() + "'") + " (" + msg + ")", e);
    }
  }

  /** Signers on the configured path. */
  public static HsmSigners of(Path path, HsmToken token, char[] pin) throws HsmException {
    return path == Path.IAIK ? iaik(token) : sunPkcs11(token, pin);
  }

  public Path path() {
    return path;
  }

  /**
   * The SunPKCS11 provider of these signers (null on the IAIK path). JSSE looks up its signatures among the
   * registered providers only, so a TLS key of this token needs the provider registered.
   */
  public Provider provider() {
    return provider;
  }

  /**
   * The SunPKCS11 object of the private key labelled {@code label}, for a JCA consumer that takes a {@link
   * PrivateKey} (a TLS KeyManager): an opaque reference into the token, whose {@code getEncoded()} is null for a
   * sensitive key. SunPKCS11 path only.
   */
  public PrivateKey jcaPrivateKey(String label) throws HsmException {
    if (path != Path.SUNPKCS11) {
      throw new IllegalStateException("jcaPrivateKey needs the SunPKCS11 path");
    }
    try {
      Key k = keyStore.getKey(label, null);
      if (!(k instanceof PrivateKey pk)) {
        throw new HsmException(Reason.KEY_NOT_FOUND, "SunPKCS11 key", token.label(),
            "SunPKCS11 lists no private key '" + label + "' on token '" + token.label()
                + "'; it lists a key only when a certificate with the same CKA_ID is on the token");
      }
      return pk;
    } catch (GeneralSecurityException e) {
      throw new HsmException(Reason.DEVICE_ERROR, "SunPKCS11 key", token.label(), -1,
          "SunPKCS11 cannot read key '" + label + "': " + e.getMessage(), e);
    }
  }

  /** A ContentSigner with the key, for one thread at a time; after each getSignature() it starts afresh. */
  public ContentSigner signer(KeyHandle key, SignatureAlgorithm alg) throws HsmException {
    if (key.keyClass() != KeyHandle.KeyClass.PRIVATE) {
      throw new IllegalArgumentException(key + " is not a private key");
    }
    if (path == Path.IAIK) {
      return new IaikContentSigner(token, key, alg);
    }
    try {
      Key k = keyStore.getKey(key.label(), null);
      if (!(k instanceof PrivateKey)) {
        throw new HsmException(Reason.KEY_NOT_FOUND, "SunPKCS11 key", token.label(),
            "SunPKCS11 lists no private key '" + key.label() + "' on token '" + token.label()
                + "'; it lists a key only when a certificate with the same CKA_ID is on the token");
      }
      return new JcaContentSignerBuilder(alg.jcaName()).setProvider(provider).build((PrivateKey) k);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new HsmException(Reason.DEVICE_ERROR, "SunPKCS11 signer", token.label(), -1,
          "SunPKCS11 cannot sign with " + alg.jcaName() + " using key '" + key.label() + "': " + e.getMessage(), e);
    }
  }

  /** Buffers the data and signs it with one C_Sign on a pooled session. */
  private static final class IaikContentSigner implements ContentSigner {
    private final HsmToken token;
    private final KeyHandle key;
    private final SignatureAlgorithm alg;
    private final ByteArrayOutputStream data = new ByteArrayOutputStream(1024);

    IaikContentSigner(HsmToken token, KeyHandle key, SignatureAlgorithm alg) {
      this.token = token;
      this.key = key;
      this.alg = alg;
    }

    @Override
    public AlgorithmIdentifier getAlgorithmIdentifier() {
      return alg.algorithmIdentifier();
    }

    @Override
    public OutputStream getOutputStream() {
      return data;
    }

    @Override
    public byte[] getSignature() {
      try {
        return token.call(s -> s.sign(key, alg, data.toByteArray()));
      } catch (HsmException e) {
        throw new RuntimeOperatorException(e.getMessage(), e);
      } finally {
        data.reset(); // ready for the next signature, as a JCA signer is
      }
    }
  }
}
