package org.keyarc.hsm;

import static org.xipki.pkcs11.wrapper.PKCS11Constants.*;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.keyarc.hsm.HsmException.Reason;
import org.keyarc.hsm.KeyHandle.KeyClass;
import org.keyarc.hsm.KeyHandle.KeyType;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.KeyPairTemplate;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11KeyPair;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.TokenException;
import org.xipki.pkcs11.wrapper.params.RSA_PKCS_OAEP_PARAMS;
import org.xipki.pkcs11.wrapper.params.RSA_PKCS_PSS_PARAMS;

/**
 * One PKCS#11 session, lent to the calling thread by {@link HsmToken#session()} until {@link #close()}.
 * All key operations of keyarc are here. Keys go in and come out as {@link KeyHandle}s; private and
 * secret key bytes never cross this API: wrapping returns ciphertext and unwrapping creates an object
 * inside the token.
 *
 * <p>Not thread-safe, by design: one session serves one thread at a time.
 */
public final class HsmSession implements AutoCloseable {
  private static final int KEY_ID_LENGTH = 16;

  private final HsmToken token;
  private final Session session;
  private boolean broken;
  private boolean closed;

  HsmSession(HsmToken token, Session session) {
    this.token = token;
    this.session = session;
  }

  public HsmToken token() {
    return token;
  }

  // ---------------------------------------------------------------- finding keys

  /** Every key object this session can see (private objects only after login). */
  public List<KeyHandle> listKeys() throws HsmException {
    List<KeyHandle> keys = new ArrayList<>();
    for (KeyClass cls : KeyClass.values()) {
      long[] handles;
      try {
        handles = session.findAllObjectsSingle(new AttributeVector().class_(ckoOf(cls)));
      } catch (PKCS11Exception e) {
        throw fail("C_FindObjects", e);
      }
      for (long h : handles) {
        keys.add(describe(h, cls));
      }
    }
    return keys;
  }

  /** The one key of the class with this CKA_LABEL; KEY_NOT_FOUND if none, BAD_INPUT if several. */
  public KeyHandle findKey(KeyClass cls, String label) throws HsmException {
    return findOne(cls, new AttributeVector().class_(ckoOf(cls)).label(label), "labelled '" + label + "'");
  }

  /** Like {@link #findKey} but null when there is no such key. */
  public KeyHandle findKeyOrNull(KeyClass cls, String label) throws HsmException {
    try {
      return findKey(cls, label);
    } catch (HsmException e) {
      if (e.reason() == Reason.KEY_NOT_FOUND) {
        return null;
      }
      throw e;
    }
  }

  /** The one key of the class with this CKA_ID. */
  public KeyHandle findKeyById(KeyClass cls, byte[] id) throws HsmException {
    return findOne(cls, new AttributeVector().class_(ckoOf(cls)).id(id),
        "with id " + java.util.HexFormat.of().formatHex(id));
  }

  /** Like {@link #findKeyById} but null when there is no such key. */
  public KeyHandle findKeyByIdOrNull(KeyClass cls, byte[] id) throws HsmException {
    try {
      return findKeyById(cls, id);
    } catch (HsmException e) {
      if (e.reason() == Reason.KEY_NOT_FOUND) {
        return null;
      }
      throw e;
    }
  }

  /** The public key object that pairs with a private key (same CKA_ID). */
  public KeyHandle publicKeyObjectOf(KeyHandle privateKey) throws HsmException {
    return findKeyById(KeyClass.PUBLIC, privateKey.id());
  }

  private KeyHandle findOne(KeyClass cls, AttributeVector template, String what) throws HsmException {
    long[] handles;
    try {
      handles = session.findObjectsSingle(template, 2);
    } catch (PKCS11Exception e) {
      throw fail("C_FindObjects", e);
    }
    String kind = cls.name().toLowerCase() + " key " + what;
    if (handles.length == 0) {
      throw new HsmException(Reason.KEY_NOT_FOUND, "find key", token.label(),
          "no " + kind + " on token '" + token.label() + "'"
              + (token.loggedIn() || cls == KeyClass.PUBLIC ? "" : " (not logged in: private keys are hidden)"));
    }
    if (handles.length > 1) {
      throw new HsmException(Reason.BAD_INPUT, "find key", token.label(),
          "more than one " + kind + " on token '" + token.label() + "'; select it by id");
    }
    return describe(handles[0], cls);
  }

  private KeyHandle describe(long handle, KeyClass cls) throws HsmException {
    AttributeVector a = attrs("describe key", handle, CKA_LABEL, CKA_ID, CKA_KEY_TYPE, CKA_TOKEN);
    Long ckk = a.keyType();
    KeyType type = ckk == null ? KeyType.OTHER
        : ckk == CKK_RSA ? KeyType.RSA : ckk == CKK_EC ? KeyType.EC : ckk == CKK_AES ? KeyType.AES : KeyType.OTHER;
    return new KeyHandle(token.label(), handle, cls, type, a.label(), a.id(), !Boolean.TRUE.equals(a.token()));
  }

  // ---------------------------------------------------------------- generating keys

  /** A generated key pair: both handles and the public key as a JCA object (public keys are not secret). */
  public record GeneratedKeyPair(KeyHandle privateKey, KeyHandle publicKeyObject, PublicKey publicKey) {}

  /**
   * Generates a key pair inside the token. The private key is always sensitive; it is
   * non-extractable unless the policy is a per-operation one. CKA_ID is 16 random bytes from the token.
   */
  public GeneratedKeyPair generateKeyPair(KeySpec spec, KeyPolicy policy, String label) throws HsmException {
    return generateKeyPair(spec, policy, label, null);
  }

  /**
   * {@link #generateKeyPair(KeySpec, KeyPolicy, String)} with the CKA_ID the caller chooses (a PIV card's module
   * names its key slots by CKA_ID: ykcs11's 03 is slot 9d); null for 16 random bytes.
   */
  public GeneratedKeyPair generateKeyPair(KeySpec spec, KeyPolicy policy, String label, byte[] chosenId)
      throws HsmException {
    if (spec.type() == KeyType.AES) {
      throw new IllegalArgumentException(spec + " is not a key pair; use generateSecretKey");
    }
    byte[] id = chosenId != null ? chosenId.clone() : random(KEY_ID_LENGTH);
    KeyPairTemplate t = new KeyPairTemplate(spec.type() == KeyType.RSA ? CKK_RSA : CKK_EC)
        .token(policy.tokenObject()).labels(label).id(id).private_(true, false)
        .signVerify(policy.canSign()).unwrapWrap(policy.canUnwrap()).decryptEncrypt(policy.canDecrypt());
    t.privateKey().sensitive(true).extractable(policy.extractable());
    long mechanism;
    if (spec.type() == KeyType.RSA) {
      t.publicKey().modulusBits(spec.bits()).publicExponent(BigInteger.valueOf(65537));
      mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
    } else {
      t.publicKey().ecParams(der(spec.curve()));
      mechanism = CKM_EC_KEY_PAIR_GEN;
    }
    requireMechanism(mechanism, CKF_GENERATE_KEY_PAIR, spec.type() + " key pair generation");
    PKCS11KeyPair pair;
    try {
      pair = session.generateKeyPair(new Mechanism(mechanism), t);
    } catch (PKCS11Exception e) {
      throw fail("C_GenerateKeyPair", e);
    }
    KeyHandle priv = new KeyHandle(token.label(), pair.getPrivateKey(), KeyClass.PRIVATE, spec.type(), label, id,
        !policy.tokenObject());
    KeyHandle pub = new KeyHandle(token.label(), pair.getPublicKey(), KeyClass.PUBLIC, spec.type(), label, id,
        !policy.tokenObject());
    return new GeneratedKeyPair(priv, pub, publicKey(pub));
  }

  /** Generates an AES-256 key inside the token (a session object for the per-operation policies). */
  public KeyHandle generateSecretKey(KeySpec spec, KeyPolicy policy, String label) throws HsmException {
    if (spec != KeySpec.AES_256) {
      throw new IllegalArgumentException(spec + " is not a secret key spec");
    }
    requireMechanism(CKM_AES_KEY_GEN, CKF_GENERATE, "AES key generation");
    byte[] id = random(KEY_ID_LENGTH);
    AttributeVector t = secretKeyTemplate(policy, label).id(id).valueLen(spec.bits() / 8);
    try {
      long h = session.generateKey(new Mechanism(CKM_AES_KEY_GEN), t);
      return new KeyHandle(token.label(), h, KeyClass.SECRET, KeyType.AES, label, id, !policy.tokenObject());
    } catch (PKCS11Exception e) {
      throw fail("C_GenerateKey", e);
    }
  }

  private static AttributeVector secretKeyTemplate(KeyPolicy policy, String label) {
    AttributeVector t = AttributeVector.newAESSecretKey().token(policy.tokenObject()).private_(true)
        .sensitive(true).extractable(policy.extractable())
        .wrap(policy.canWrap()).unwrap(policy.canUnwrap()).encrypt(false).decrypt(false)
        .sign(policy.canSign()).verify(policy.canSign());
    return label == null ? t : t.label(label);
  }

  // ---------------------------------------------------------------- reading public things

  /** The public key of a public or private key object (for EC private keys, read from its public object). */
  public PublicKey publicKey(KeyHandle key) throws HsmException {
    if (key.keyClass() == KeyClass.SECRET) {
      throw new IllegalArgumentException("a secret key has no public key");
    }
    try {
      if (key.keyType() == KeyType.RSA) {
        AttributeVector a = attrs("read public key", key.objectHandle(), CKA_MODULUS, CKA_PUBLIC_EXPONENT);
        return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(a.modulus(), a.publicExponent()));
      }
      if (key.keyType() == KeyType.EC) {
        KeyHandle pub = key.keyClass() == KeyClass.PUBLIC ? key : publicKeyObjectOf(key);
        AttributeVector a = attrs("read public key", pub.objectHandle(), CKA_EC_PARAMS, CKA_EC_POINT);
        ASN1ObjectIdentifier curve = ASN1ObjectIdentifier.getInstance(a.ecParams());
        byte[] point = unwrapEcPoint(a.ecPoint(), curve);
        SubjectPublicKeyInfo spki = new SubjectPublicKeyInfo(
            new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, curve), point);
        return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(spki.getEncoded()));
      }
    } catch (GeneralSecurityException | IOException | IllegalArgumentException e) {
      throw new HsmException(Reason.DEVICE_ERROR, "read public key", token.label(), -1,
          "cannot read the public key of " + key + ": " + e.getMessage(), e);
    }
    throw new HsmException(Reason.BAD_INPUT, "read public key", token.label(), key + " is of an unsupported type");
  }

  /** The security attributes of a key, as the token reports them (never its value). */
  public KeyAttributes attributes(KeyHandle key) throws HsmException {
    if (key.keyClass() == KeyClass.PUBLIC) {
      AttributeVector a = attrs("read attributes", key.objectHandle(), CKA_TOKEN, CKA_PRIVATE, CKA_WRAP, CKA_LOCAL);
      return new KeyAttributes(a.token(), a.private_(), null, null, null, null, null, null, null, a.wrap(), a.local());
    }
    boolean secret = key.keyClass() == KeyClass.SECRET;
    long[] types = {CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_ALWAYS_SENSITIVE,
        CKA_NEVER_EXTRACTABLE, CKA_SIGN, CKA_DECRYPT, CKA_UNWRAP, CKA_LOCAL, CKA_WRAP};
    if (!secret) {
      types = Arrays.copyOf(types, types.length - 1); // CKA_WRAP is a secret-key attribute here
    }
    AttributeVector a = attrs("read attributes", key.objectHandle(), types);
    return new KeyAttributes(a.token(), a.private_(), a.sensitive(), a.extractable(), a.alwaysSensitive(),
        a.neverExtractable(), a.sign(), a.decrypt(), a.unwrap(), secret ? a.wrap() : null, a.local());
  }

  // ---------------------------------------------------------------- signing

  /**
   * Signs {@code data} with a private key. For ECDSA the result is the DER SEQUENCE of r and s, as
   * X.509 and CMS expect; for RSA the raw signature block.
   */
  public byte[] sign(KeyHandle key, SignatureAlgorithm alg, byte[] data) throws HsmException {
    if (key.keyType() != alg.keyType()) {
      throw new HsmException(Reason.BAD_INPUT, "sign", token.label(),
          alg.jcaName() + " needs an " + alg.keyType() + " key, but " + key + " is " + key.keyType());
    }
    if (!alg.isEcdsa() && !alg.isPss() && !token.supports(alg.mechanism(), CKF_SIGN)
        && token.supports(CKM_RSA_PKCS, CKF_SIGN)) {
      return signDigestInfo(key, alg, data); // a card without hash-and-sign: the same signature, hashed here
    }
    requireMechanism(alg.mechanism(), CKF_SIGN, "signing");
    try {
      if (alg.isEcdsa()) {
        byte[] digest = MessageDigest.getInstance(alg.digest()).digest(data);
        byte[] rs = signOnce(new Mechanism(CKM_ECDSA), key, digest);
        return derEcdsa(rs);
      }
      Mechanism m = alg.isPss()
          ? new Mechanism(alg.mechanism(), new RSA_PKCS_PSS_PARAMS(hashMechanism(alg.digest()),
              mgfOf(alg.digest()), alg.pssSaltLength()))
          : new Mechanism(alg.mechanism());
      return signOnce(m, key, data);
    } catch (PKCS11Exception e) {
      throw fail("C_Sign", e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks " + alg.digest(), e);
    }
  }

  /**
   * RSA PKCS#1 v1.5 signing with the hash computed here: the DigestInfo (RFC 8017 9.2) of {@code data} signed with
   * CKM_RSA_PKCS. The signature is the same bytes as hash-and-sign (CKM_SHA256_RSA_PKCS) gives; for tokens that
   * offer only CKM_RSA_PKCS (smartcards, many PIV middlewares), which {@link #sign} falls back to.
   */
  public byte[] signDigestInfo(KeyHandle key, SignatureAlgorithm alg, byte[] data) throws HsmException {
    if (alg.isEcdsa() || alg.isPss() || key.keyType() != KeyHandle.KeyType.RSA) {
      throw new HsmException(Reason.BAD_INPUT, "sign", token.label(), alg.jcaName() + " is not RSA PKCS#1 v1.5");
    }
    requireMechanism(CKM_RSA_PKCS, CKF_SIGN, "RSA PKCS#1 v1.5 signing of a DigestInfo");
    String name = alg.jcaName().substring(0, alg.jcaName().indexOf("with")); // SHA256
    String digest = "SHA-" + name.substring(3);
    org.bouncycastle.asn1.ASN1ObjectIdentifier oid = switch (digest) {
      case "SHA-256" -> org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha256;
      case "SHA-384" -> org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha384;
      case "SHA-512" -> org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha512;
      default -> throw new IllegalStateException("no DigestInfo for " + digest);
    };
    try {
      byte[] hash = MessageDigest.getInstance(digest).digest(data);
      byte[] info = new org.bouncycastle.asn1.x509.DigestInfo(new org.bouncycastle.asn1.x509.AlgorithmIdentifier(oid,
          org.bouncycastle.asn1.DERNull.INSTANCE), hash).getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER);
      return signOnce(new Mechanism(CKM_RSA_PKCS), key, info);
    } catch (PKCS11Exception e) {
      throw fail("C_Sign", e);
    } catch (NoSuchAlgorithmException | java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** AES-CMAC (CKM_AES_CMAC, 16 bytes) of {@code data} with a {@link KeyPolicy#MAC_SECRET} key. */
  public byte[] cmac(KeyHandle key, byte[] data) throws HsmException {
    requireMechanism(CKM_AES_CMAC, CKF_SIGN, "AES-CMAC");
    try {
      return session.signSingle(new Mechanism(CKM_AES_CMAC), key.objectHandle(), data);
    } catch (PKCS11Exception e) {
      throw fail("C_Sign", e);
    }
  }

  /**
   * CKA_EC_POINT is a DER OCTET STRING holding the point; some modules (and wrappers) give the bare point.
   * A bare uncompressed point has exactly 1 + 2 * field bytes and starts with 0x04, which is also the DER
   * tag of an OCTET STRING, so the length decides: guessing by parsing alone misreads 1 point in 256.
   */
  static byte[] unwrapEcPoint(byte[] value, ASN1ObjectIdentifier curve) {
    org.bouncycastle.asn1.x9.X9ECParameters params = org.bouncycastle.asn1.x9.ECNamedCurveTable.getByOID(curve);
    if (params != null) {
      int bare = 1 + 2 * ((params.getCurve().getFieldSize() + 7) / 8);
      if (value.length == bare && value[0] == 0x04) {
        return value;
      }
    }
    try {
      ASN1Primitive p = ASN1Primitive.fromByteArray(value);
      if (p instanceof ASN1OctetString os && os.getEncoded().length == value.length) {
        return os.getOctets();
      }
    } catch (IOException | RuntimeException e) {
      // not DER: the bare point
    }
    return value;
  }

  private static byte[] derEcdsa(byte[] rs) throws HsmException {
    if (rs.length % 2 != 0) {
      throw new HsmException(Reason.DEVICE_ERROR, "C_Sign", null,
          "the token returned an ECDSA signature of odd length " + rs.length);
    }
    int n = rs.length / 2;
    BigInteger r = new BigInteger(1, Arrays.copyOfRange(rs, 0, n));
    BigInteger s = new BigInteger(1, Arrays.copyOfRange(rs, n, rs.length));
    try {
      return new DERSequence(new ASN1Encodable[] {new ASN1Integer(r), new ASN1Integer(s)}).getEncoded();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---------------------------------------------------------------- context-specific login

  /**
   * One signature. On a token opened with {@link HsmToken#allowContextLogin a PIN for context-specific login} (a
   * card), a key that says CKA_ALWAYS_AUTHENTICATE (a PIV key with PIN policy "always") gets C_Login(
   * CKU_CONTEXT_SPECIFIC) between C_SignInit and C_Sign; elsewhere nothing is asked (no extra call on the CA's path).
   */
  private byte[] signOnce(Mechanism m, KeyHandle key, byte[] data) throws PKCS11Exception {
    if (token.contextPin() == null) {
      return session.signSingle(m, key.objectHandle(), data);
    }
    session.signInit(m, key.objectHandle());
    contextLogin(key);
    return session.sign(data);
  }

  /** One decryption, with the context-specific login of {@link #signOnce}. */
  private byte[] decryptOnce(Mechanism m, KeyHandle key, byte[] data) throws PKCS11Exception {
    if (token.contextPin() == null) {
      return session.decryptSingle(m, key.objectHandle(), data);
    }
    session.decryptInit(m, key.objectHandle());
    contextLogin(key);
    return session.decrypt(data);
  }

  private void contextLogin(KeyHandle key) throws PKCS11Exception {
    Boolean always = session.getAttrValues(key.objectHandle(), CKA_ALWAYS_AUTHENTICATE).alwaysAuthenticate();
    if (Boolean.TRUE.equals(always)) {
      session.login(CKU_CONTEXT_SPECIFIC, token.contextPin());
    }
  }

  // ---------------------------------------------------------------- RSA-OAEP

  /** RSA-OAEP decryption of data (not keys: keys are unwrapped with {@link #unwrapOaep}). */
  public byte[] decryptOaep(KeyHandle privateKey, OaepHash hash, byte[] ciphertext) throws HsmException {
    boolean raw = token.rawRsaOaep() && token.supports(CKM_RSA_X_509, CKF_DECRYPT);
    if (raw && !token.supports(CKM_RSA_PKCS_OAEP, CKF_DECRYPT)) {
      return decryptOaepRaw(privateKey, hash, ciphertext);
    }
    requireMechanism(CKM_RSA_PKCS_OAEP, CKF_DECRYPT, "RSA-OAEP decryption");
    try {
      return decryptOnce(oaep(hash), privateKey, ciphertext);
    } catch (PKCS11Exception e) {
      HsmException failed = oaepFail("C_Decrypt", hash, e);
      if (raw && failed.reason() == Reason.MECHANISM_NOT_SUPPORTED) {
        return decryptOaepRaw(privateKey, hash, ciphertext); // the card's OAEP lacks this hash (SoftHSM2: SHA-256)
      }
      throw failed;
    }
  }

  /**
   * The explicit fallback for a card without (this hash of) CKM_RSA_PKCS_OAEP: the card does the raw RSA operation
   * (CKM_RSA_X_509) and Bouncy Castle's OAEP decoding removes the padding here, so the padding check runs in this
   * process rather than on the card. The result is the same secret a card's OAEP would give to this process. Only
   * with {@link HsmToken#allowRawRsaOaep}; logged once per token.
   */
  private byte[] decryptOaepRaw(KeyHandle privateKey, OaepHash hash, byte[] ciphertext) throws HsmException {
    token.noteRawRsaOaep();
    byte[] block;
    try {
      block = decryptOnce(new Mechanism(CKM_RSA_X_509), privateKey, ciphertext);
    } catch (PKCS11Exception e) {
      HsmException failed = fail("C_Decrypt", e); // marks the session broken where the code says so
      long code = e.getErrorCode();
      if (code == CKR_ENCRYPTED_DATA_INVALID || code == CKR_ENCRYPTED_DATA_LEN_RANGE || code == CKR_DATA_INVALID
          || code == CKR_GENERAL_ERROR) {
        // a ciphertext for another key may be larger than this modulus: SoftHSM2 answers CKR_GENERAL_ERROR
        throw new HsmException(Reason.BAD_INPUT, "C_Decrypt", token.label(), code,
            "RSA-OAEP decoding failed for a decryption by token '" + token.label() + "' (CKM_RSA_X_509: "
                + HsmException.ckrName(code) + "): not encrypted to this key, or with another hash", failed);
      }
      throw failed;
    }
    java.math.BigInteger modulus;
    try {
      modulus = session.getAttrValues(privateKey.objectHandle(), CKA_MODULUS).modulus();
    } catch (PKCS11Exception e) {
      throw fail("C_GetAttributeValue", e);
    }
    int k = (modulus.bitLength() + 7) / 8;
    byte[] em = new byte[k]; // the card may drop leading zero bytes of the encoded message
    System.arraycopy(block, Math.max(0, block.length - k), em, Math.max(0, k - block.length), Math.min(k, block.length));
    org.bouncycastle.crypto.Digest digest = hash == OaepHash.SHA256
        ? new org.bouncycastle.crypto.digests.SHA256Digest() : new org.bouncycastle.crypto.digests.SHA1Digest();
    org.bouncycastle.crypto.encodings.OAEPEncoding decoding = new org.bouncycastle.crypto.encodings.OAEPEncoding(
        new RawBlock(em, k), digest);
    decoding.init(false, new org.bouncycastle.crypto.params.RSAKeyParameters(true, modulus, java.math.BigInteger.ONE));
    try {
      return decoding.processBlock(ciphertext, 0, ciphertext.length);
    } catch (org.bouncycastle.crypto.InvalidCipherTextException e) {
      throw new HsmException(Reason.BAD_INPUT, "C_Decrypt", token.label(),
          "RSA-OAEP decoding failed for a decryption by token '" + token.label() + "' (CKM_RSA_X_509): not "
              + "encrypted to this key, or with another hash");
    } finally {
      java.util.Arrays.fill(em, (byte) 0);
      java.util.Arrays.fill(block, (byte) 0);
    }
  }

  /**
   * The RSA "engine" of {@link #decryptOaepRaw}: the k-byte block the card already computed, given to OAEP decoding
   * as Bouncy Castle's RSA engine gives a decryption (k - 1 bytes, the leading zero byte dropped; a block whose first
   * byte is not zero comes back whole, which the decoding refuses).
   */
  private static final class RawBlock implements org.bouncycastle.crypto.AsymmetricBlockCipher {
    private final byte[] block;
    private final int size;

    RawBlock(byte[] block, int size) {
      this.block = block;
      this.size = size;
    }

    @Override
    public void init(boolean forEncryption, org.bouncycastle.crypto.CipherParameters param) {}

    @Override
    public int getInputBlockSize() {
      return size;
    }

    @Override
    public int getOutputBlockSize() {
      return size - 1;
    }

    @Override
    public byte[] processBlock(byte[] in, int inOff, int len) {
      return block[0] == 0 ? java.util.Arrays.copyOfRange(block, 1, size) : block.clone();
    }
  }

  /** Wraps a secret key with RSA-OAEP to a public key object (C_WrapKey: the secret never leaves in clear). */
  /**
   * RSA PKCS#1 v1.5 decryption (CKM_RSA_PKCS): only for the key-transport step of CMS EnvelopedData built
   * by clients that do not use OAEP; the result is a content-encryption key, not a private key.
   */
  public byte[] decryptRsaPkcs1(KeyHandle privateKey, byte[] ciphertext) throws HsmException {
    requireMechanism(CKM_RSA_PKCS, CKF_DECRYPT, "RSA PKCS#1 v1.5 decryption");
    try {
      return decryptOnce(new Mechanism(CKM_RSA_PKCS), privateKey, ciphertext);
    } catch (PKCS11Exception e) {
      throw fail("C_Decrypt", e);
    }
  }

  /** Sets CKA_SIGN false on a private key (an agent key after it signed its own certificate request). */
  public void forbidSigning(KeyHandle key) throws HsmException {
    setSign(key, false);
  }

  /** Gives a key its CKA_SIGN back: for a key keyarc adopted and switched off, whose agent request then failed. */
  public void restoreSigning(KeyHandle key) throws HsmException {
    setSign(key, true);
  }

  private void setSign(KeyHandle key, boolean sign) throws HsmException {
    try {
      session.setAttributeValues(key.objectHandle(), new AttributeVector().sign(sign));
    } catch (PKCS11Exception e) {
      throw fail("C_SetAttributeValue", e);
    }
  }

  /**
   * Whether the token still signs with a key whose CKA_SIGN was turned off: tries a signature of a random
   * challenge. Some modules accept {@code C_SetAttributeValue(CKA_SIGN=false)} and read it back false, yet go on
   * signing (tpm2-pkcs11 1.9): a caller that promises "decrypt/unwrap only" checks with this.
   */
  public boolean stillSigns(KeyHandle key) {
    try {
      SignatureAlgorithm alg = key.keyType() == KeyType.RSA ? SignatureAlgorithm.SHA256_WITH_RSA
          : SignatureAlgorithm.SHA256_WITH_ECDSA;
      return sign(key, alg, random(32)).length > 0;
    } catch (HsmException e) {
      // only a refusal of the key's use counts as "switched off"; any other failure (no PIN, a device error) is no
      // evidence, and the caller is told the key may still sign
      long c = e.ckr();
      return c != CKR_KEY_FUNCTION_NOT_PERMITTED && c != CKR_KEY_TYPE_INCONSISTENT && c != CKR_MECHANISM_INVALID;
    }
  }

  /** How many session objects (CKA_TOKEN false) this application holds in the token: leaks show here. */
  public int countSessionObjects() throws HsmException {
    try {
      return session.findAllObjectsSingle(new AttributeVector().token(false)).length;
    } catch (PKCS11Exception e) {
      throw fail("C_FindObjects", e);
    }
  }

  public byte[] wrapOaep(KeyHandle publicKey, KeyHandle secretKey, OaepHash hash) throws HsmException {
    requireMechanism(CKM_RSA_PKCS_OAEP, CKF_WRAP, "RSA-OAEP key wrapping");
    try {
      return session.wrapKey(oaep(hash), publicKey.objectHandle(), secretKey.objectHandle());
    } catch (PKCS11Exception e) {
      throw oaepFail("C_WrapKey", hash, e);
    }
  }

  /** Unwraps an RSA-OAEP-wrapped AES key into the token as a new key with the given policy. */
  public KeyHandle unwrapOaep(KeyHandle privateKey, byte[] wrapped, OaepHash hash, KeyPolicy policy, String label)
      throws HsmException {
    requireMechanism(CKM_RSA_PKCS_OAEP, CKF_UNWRAP, "RSA-OAEP key unwrapping");
    try {
      long h = session.unwrapKey(oaep(hash), privateKey.objectHandle(), wrapped, secretKeyTemplate(policy, label));
      return new KeyHandle(token.label(), h, KeyClass.SECRET, KeyType.AES, label, null, !policy.tokenObject());
    } catch (PKCS11Exception e) {
      throw oaepFail("C_UnwrapKey", hash, e);
    }
  }

  private static Mechanism oaep(OaepHash hash) {
    return new Mechanism(CKM_RSA_PKCS_OAEP, new RSA_PKCS_OAEP_PARAMS(hash.hashMechanism(), hash.mgf()));
  }

  private HsmException oaepFail(String op, OaepHash hash, PKCS11Exception e) {
    long code = e.getErrorCode();
    if (hash != OaepHash.SHA1 && (code == CKR_ARGUMENTS_BAD || code == CKR_MECHANISM_PARAM_INVALID
        || code == CKR_MECHANISM_INVALID)) {
      return new HsmException(Reason.MECHANISM_NOT_SUPPORTED, op, token.label(), code,
          "mechanism RSA-OAEP with " + hash.jcaName() + " is not supported by token '" + token.label()
              + "'; set oaep-hash to SHA-1 (" + op + ": " + HsmException.ckrName(code) + ")"
              + (op.equals("C_Decrypt") && !token.rawRsaOaep() ? "; a card may decrypt it with --raw-rsa-oaep" : ""),
          e);
    }
    return fail(op, e);
  }

  // ---------------------------------------------------------------- AES key wrap with padding (RFC 5649)

  /**
   * Wraps a key (private or secret) with CKM_AES_KEY_WRAP_PAD. The wrapped key must be extractable.
   * Note SoftHSM2 zero-pads the PKCS#8 to a multiple of 8 bytes before wrapping, so a strict RFC 5649
   * unwrap elsewhere yields the DER followed by up to 7 zero bytes.
   */
  public byte[] wrapAesKwp(KeyHandle wrappingKey, KeyHandle key) throws HsmException {
    long kwp = kwp();
    try {
      return session.wrapKey(new Mechanism(kwp), wrappingKey.objectHandle(), key.objectHandle());
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() == CKR_BUFFER_TOO_SMALL) {
        // the module's size answer was too small (NSS softoken 3.87 with 0x210B): once more with a larger buffer
        return JdkPkcs11Wrap.wrapKey(token.module().loadedLibrary(), token.label(), session.getSessionHandle(), kwp,
            wrappingKey.objectHandle(), key.objectHandle());
      }
      throw fail("C_WrapKey", e);
    }
  }

  /** The token's RFC 5649 mechanism ({@link HsmToken#kwpMechanism()}), or MECHANISM_NOT_SUPPORTED saying what to set. */
  private long kwp() throws HsmException {
    long kwp = token.kwpMechanism();
    if (kwp == 0) {
      throw new HsmException(Reason.MECHANISM_NOT_SUPPORTED, "AES key wrap with padding", token.label(),
          "token '" + token.label() + "' offers no mechanism known to mean RFC 5649 (AES key wrap with padding): "
              + "not CKM_AES_KEY_WRAP_KWP (0x210B); CKM_AES_KEY_WRAP_PAD (0x210A) means RFC 5649 only on some modules. "
              + "If the HSM has a vendor code for it, set hsm.kwpMechanism");
    }
    return kwp;
  }

  /**
   * Unwraps an RFC 5649-wrapped PKCS#8 private key (RSA or EC) into the token as a new key object
   * with the given policy.
   */
  public KeyHandle unwrapAesKwp(KeyHandle wrappingKey, byte[] wrapped, KeyType type, KeyPolicy policy, String label)
      throws HsmException {
    long kwp = kwp();
    if (type != KeyType.RSA && type != KeyType.EC) {
      throw new IllegalArgumentException("unwrapAesKwp unwraps RSA or EC private keys, not " + type);
    }
    AttributeVector t = AttributeVector.newPrivateKey(type == KeyType.RSA ? CKK_RSA : CKK_EC)
        .token(policy.tokenObject()).private_(true).sensitive(true).extractable(policy.extractable())
        .sign(policy.canSign()).decrypt(policy.canDecrypt()).unwrap(policy.canUnwrap());
    if (label != null) {
      t.label(label);
    }
    try {
      long h = session.unwrapKey(new Mechanism(kwp), wrappingKey.objectHandle(), wrapped, t);
      return new KeyHandle(token.label(), h, KeyClass.PRIVATE, type, label, null, !policy.tokenObject());
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() == CKR_GENERAL_ERROR) {
        // SoftHSM2 reports a failed RFC 5649 integrity check as CKR_GENERAL_ERROR; the session is fine.
        throw new HsmException(Reason.BAD_INPUT, "C_UnwrapKey", token.label(), e.getErrorCode(),
            "the wrapped key does not unwrap with this key on token '" + token.label()
                + "' (wrong key or corrupted data; C_UnwrapKey: " + HsmException.ckrName(e.getErrorCode()) + ")", e);
      }
      throw fail("C_UnwrapKey", e);
    }
  }

  // ---------------------------------------------------------------- public keys from outside

  /**
   * Creates a session AES key from outside that may only wrap (sensitive, not extractable): a key-encryption key
   * derived from a shared secret, under which a key made in the token leaves it wrapped (central key generation for a
   * MAC-protected request). {@code value} is 16, 24 or 32 bytes; the caller wipes it.
   */
  public KeyHandle importWrappingKey(byte[] value) throws HsmException {
    if (value.length != 16 && value.length != 24 && value.length != 32) {
      throw new HsmException(Reason.BAD_INPUT, "import wrapping key", token.label(), "an AES key is 16, 24 or 32 "
          + "bytes");
    }
    AttributeVector t = AttributeVector.newAESSecretKey().token(false).private_(true).sensitive(true)
        .extractable(false).wrap(true).unwrap(false).encrypt(false).decrypt(false).sign(false).verify(false)
        .value(value);
    try {
      long h = session.createObject(t);
      return new KeyHandle(token.label(), h, KeyClass.SECRET, KeyType.AES, null, null, true);
    } catch (PKCS11Exception e) {
      throw fail("C_CreateObject", e);
    }
  }

  /** Creates a session object for an RSA or EC public key from outside (for example an agent's wrapping key). */
  public KeyHandle importPublicKey(PublicKey key, String label) throws HsmException {
    AttributeVector t;
    KeyType type;
    if (key instanceof RSAPublicKey rsa) {
      type = KeyType.RSA;
      t = AttributeVector.newRSAPublicKey().modulus(rsa.getModulus()).publicExponent(rsa.getPublicExponent())
          .wrap(true).encrypt(true).verify(true);
    } else if (key instanceof ECPublicKey) {
      type = KeyType.EC;
      SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(key.getEncoded());
      ASN1Primitive params = spki.getAlgorithm().getParameters().toASN1Primitive();
      if (!(params instanceof ASN1ObjectIdentifier curve)) {
        throw new HsmException(Reason.BAD_INPUT, "import public key", token.label(),
            "EC public keys must use a named curve");
      }
      t = AttributeVector.newECPublicKey().ecParams(der(curve))
          .ecPoint(der(new DEROctetString(spki.getPublicKeyData().getOctets()))).verify(true);
    } else {
      throw new HsmException(Reason.BAD_INPUT, "import public key", token.label(),
          "unsupported public key algorithm " + key.getAlgorithm());
    }
    t.token(false).private_(false);
    if (label != null) {
      t.label(label);
    }
    try {
      long h = session.createObject(t);
      return new KeyHandle(token.label(), h, KeyClass.PUBLIC, type, label, null, true);
    } catch (PKCS11Exception e) {
      throw fail("C_CreateObject", e);
    }
  }

  /**
   * Proves inside the token that a private key belongs to a public key by a private-key operation, for
   * every key type, without the private key leaving the token: a random 32-byte challenge is signed with
   * the private key in the token (RSA: CKM_SHA256_RSA_PKCS, after CKA_MODULUS and CKA_PUBLIC_EXPONENT
   * are compared; EC: CKM_ECDSA on its SHA-256) and the signature is verified in software with
   * {@code publicKey}. Comparing RSA's modulus and exponent alone would accept a key whose private
   * exponent is wrong. False when the key does not sign for {@code publicKey}; an HsmException when the
   * token cannot sign with it at all (a malformed key, say).
   */
  public boolean provesPublicKey(KeyHandle privateKey, PublicKey publicKey) throws HsmException {
    if (privateKey.keyType() == KeyType.RSA) {
      if (!(publicKey instanceof RSAPublicKey rsa)) {
        return false;
      }
      AttributeVector a = attrs("pair check", privateKey.objectHandle(), CKA_MODULUS, CKA_PUBLIC_EXPONENT);
      if (!rsa.getModulus().equals(a.modulus()) || !rsa.getPublicExponent().equals(a.publicExponent())) {
        return false;
      }
      byte[] challenge = random(32);
      return verifies("SHA256withRSA", publicKey, challenge,
          sign(privateKey, SignatureAlgorithm.SHA256_WITH_RSA, challenge));
    }
    if (privateKey.keyType() == KeyType.EC) {
      return matchesPublicKey(privateKey, publicKey);
    }
    throw new HsmException(Reason.BAD_INPUT, "pair check", token.label(), privateKey + " is of an unsupported type");
  }

  private static boolean verifies(String alg, PublicKey key, byte[] data, byte[] sig) {
    try {
      Signature v = Signature.getInstance(alg);
      v.initVerify(key);
      v.update(data);
      return v.verify(sig);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /**
   * Checks inside the token that a private key belongs to a public key, without the private key
   * leaving the token: RSA by comparing CKA_MODULUS and CKA_PUBLIC_EXPONENT (an identification, enough to
   * find the key of a certificate on a card, but no proof: see {@link #provesPublicKey}); EC by signing a
   * random challenge with the private key and verifying the signature with the public key.
   */
  public boolean matchesPublicKey(KeyHandle privateKey, PublicKey publicKey) throws HsmException {
    if (privateKey.keyType() == KeyType.RSA) {
      if (!(publicKey instanceof RSAPublicKey rsa)) {
        return false;
      }
      AttributeVector a = attrs("pair check", privateKey.objectHandle(), CKA_MODULUS, CKA_PUBLIC_EXPONENT);
      return rsa.getModulus().equals(a.modulus()) && rsa.getPublicExponent().equals(a.publicExponent());
    }
    if (privateKey.keyType() == KeyType.EC) {
      if (!(publicKey instanceof ECPublicKey)) {
        return false;
      }
      byte[] challenge = random(32);
      byte[] sig = sign(privateKey, SignatureAlgorithm.SHA256_WITH_ECDSA, challenge);
      try {
        Signature v = Signature.getInstance("SHA256withECDSA");
        v.initVerify(publicKey);
        v.update(challenge);
        return v.verify(sig);
      } catch (GeneralSecurityException e) {
        return false;
      }
    }
    throw new HsmException(Reason.BAD_INPUT, "pair check", token.label(), privateKey + " is of an unsupported type");
  }

  // ---------------------------------------------------------------- capability probe

  /**
   * Tries the wrap mechanisms keyarc relies on with session keys made for the purpose (all destroyed
   * afterwards), because tokens accept mechanisms in their list that fail with some parameters.
   */
  public TokenCapabilities probeCapabilities() {
    java.util.Set<String> works = new java.util.HashSet<>();
    for (ProbeStep st : probe()) {
      if (Boolean.TRUE.equals(st.works())) {
        works.add(st.name());
      }
    }
    return new TokenCapabilities(works.contains(ProbeStep.OAEP_SHA1_UNWRAP),
        works.contains(ProbeStep.OAEP_SHA256_UNWRAP), works.contains(ProbeStep.KWP_WRAP),
        works.contains(ProbeStep.CBC_PAD_WRAP));
  }

  /**
   * One step of {@link #probe}: what was tried (the names below), and whether it worked; {@code works} null: not
   * tried ({@code detail} says why).
   */
  public record ProbeStep(String name, Boolean works, String detail) {
    public static final String RSA_PAIR = "RSA-2048 key pair";
    public static final String RSA_SIGNING_PAIR = "RSA-2048 signing key pair";
    public static final String EC_PAIR = "EC P-256 key pair";
    public static final String AES_KEY = "AES-256 key";
    public static final String RSA_TOKEN_PAIR = "RSA-2048 key pair as a token object";
    public static final String RSA_SIGNING = "RSA SHA-256 PKCS#1 signing";
    public static final String SIGN_OFF = "CKA_SIGN=false stops signing";
    public static final String OAEP_SHA1_UNWRAP = "RSA-OAEP SHA-1 key unwrap";
    public static final String OAEP_SHA256_UNWRAP = "RSA-OAEP SHA-256 key unwrap";
    public static final String OAEP_SHA1_DECRYPT = "RSA-OAEP SHA-1 decryption";
    public static final String OAEP_SHA256_DECRYPT = "RSA-OAEP SHA-256 decryption";
    public static final String KWP_WRAP = "RFC 5649 key wrap of an RSA private key";
    public static final String KWP_WRAP_EC = "RFC 5649 key wrap of an EC private key";
    public static final String CBC_PAD_WRAP = "AES-CBC-PAD wrap of a private key";

    static ProbeStep of(String name, boolean works, String detail) {
      return new ProbeStep(name, works, detail);
    }
  }

  private interface Attempt<T> {
    T run() throws HsmException;
  }

  /** Runs one probe step: its result, or null when it failed (recorded with the token's answer). */
  private static <T> T attempt(List<ProbeStep> steps, String name, Attempt<T> a) {
    try {
      T t = a.run();
      steps.add(ProbeStep.of(name, true, ""));
      return t;
    } catch (HsmException | RuntimeException e) {
      steps.add(ProbeStep.of(name, false, e.getMessage()));
      return null;
    }
  }

  /**
   * Tries, with throw-away session keys, everything keyarc asks of a token — each step on its own, so that one
   * refusal (no EC, no session key pairs) does not hide what else works; a step that needs what failed is reported
   * as not tried. The steps: key-pair and AES generation, RSA signing, RSA-OAEP with SHA-1 and SHA-256 as key unwrap
   * (the CA's exchange key) and as decryption (a recovery agent's card), AES key wrap with padding and AES-CBC-PAD
   * of a private key.
   */
  public List<ProbeStep> probe() {
    List<ProbeStep> steps = new ArrayList<>();
    List<KeyHandle> made = new ArrayList<>();
    try {
      GeneratedKeyPair sessionRsa = attempt(steps, ProbeStep.RSA_PAIR, () -> generateKeyPair(KeySpec.RSA_2048,
          KeyPolicy.SESSION_UNWRAPPING, "keyarc-probe"));
      GeneratedKeyPair sessionSigner = attempt(steps, ProbeStep.RSA_SIGNING_PAIR, () -> generateKeyPair(
          KeySpec.RSA_2048, KeyPolicy.SESSION_UNWRAPPED, "keyarc-probe"));
      GeneratedKeyPair tokenPair = null;
      if (sessionRsa == null && sessionSigner == null) {
        // a module that makes no session key pairs (tpm2-pkcs11 wants CKA_TOKEN true): the key init-card would
        // make, as a token object, destroyed below
        tokenPair = attempt(steps, ProbeStep.RSA_TOKEN_PAIR, () -> generateKeyPair(KeySpec.RSA_2048,
            KeyPolicy.RECOVERY_AGENT_ENROLLING, "keyarc-probe"));
      }
      GeneratedKeyPair rsa = sessionRsa != null ? sessionRsa : tokenPair;
      GeneratedKeyPair signer = sessionSigner != null ? sessionSigner : tokenPair;
      GeneratedKeyPair ec = attempt(steps, ProbeStep.EC_PAIR, () -> generateKeyPair(KeySpec.EC_P256,
          KeyPolicy.SESSION_UNWRAPPED, "keyarc-probe"));
      KeyHandle aes = attempt(steps, ProbeStep.AES_KEY, () -> generateSecretKey(KeySpec.AES_256,
          KeyPolicy.SESSION_TRANSPORT, "keyarc-probe"));
      for (GeneratedKeyPair kp : java.util.Arrays.asList(sessionRsa, sessionSigner, tokenPair, ec)) {
        if (kp != null) {
          made.add(kp.privateKey());
          made.add(kp.publicKeyObject());
        }
      }
      if (aes != null) {
        made.add(aes);
      }
      if (signer == null) {
        steps.add(new ProbeStep(ProbeStep.RSA_SIGNING, null, "no RSA signing key pair"));
      } else {
        attempt(steps, ProbeStep.RSA_SIGNING, () -> sign(signer.privateKey(),
            SignatureAlgorithm.SHA256_WITH_RSA, new byte[32]));
      }
      // what kra init-card promises after the agent's request: the key can no longer sign
      GeneratedKeyPair switchable = tokenPair != null ? tokenPair : sessionSigner;
      if (switchable == null) {
        steps.add(new ProbeStep(ProbeStep.SIGN_OFF, null, "no RSA signing key pair"));
      } else {
        attempt(steps, ProbeStep.SIGN_OFF, () -> {
          forbidSigning(switchable.privateKey());
          if (stillSigns(switchable.privateKey())) {
            throw new HsmException(HsmException.Reason.KEY_POLICY, "C_Sign", token.label(),
                "the key still signs: the module accepts CKA_SIGN=false but does not enforce it");
          }
          return Boolean.TRUE;
        });
      }
      for (OaepHash hash : List.of(OaepHash.SHA1, OaepHash.SHA256)) {
        String unwrapStep = hash == OaepHash.SHA256 ? ProbeStep.OAEP_SHA256_UNWRAP : ProbeStep.OAEP_SHA1_UNWRAP;
        String decryptStep = hash == OaepHash.SHA256 ? ProbeStep.OAEP_SHA256_DECRYPT : ProbeStep.OAEP_SHA1_DECRYPT;
        if (rsa == null || aes == null) {
          steps.add(new ProbeStep(unwrapStep, null, "no RSA key pair or AES key"));
        } else {
          KeyHandle pub = attempt(new ArrayList<>(), "import", () -> importPublicKey(rsa.publicKey(), "keyarc-probe"));
          if (pub != null) {
            made.add(pub);
          }
          attempt(steps, unwrapStep, () -> {
            byte[] w = wrapOaep(pub, aes, hash);
            KeyHandle u = unwrapOaep(rsa.privateKey(), w, hash, KeyPolicy.SESSION_TRANSPORT, "keyarc-probe");
            made.add(u);
            return u;
          });
        }
        if (rsa == null) {
          steps.add(new ProbeStep(decryptStep, null, "no RSA key pair"));
        } else {
          attempt(steps, decryptStep, () -> {
            byte[] secret = new byte[32];
            byte[] c = softwareOaep(rsa.publicKey(), hash, secret);
            if (!java.util.Arrays.equals(decryptOaep(rsa.privateKey(), hash, c), secret)) {
              throw new HsmException(HsmException.Reason.MECHANISM_NOT_SUPPORTED, "C_Decrypt", "",
                  "decrypted to something else");
            }
            return c;
          });
        }
      }
      KeyHandle anyPrivate = ec != null ? ec.privateKey() : signer != null ? signer.privateKey() : null;
      if (aes == null || anyPrivate == null) {
        steps.add(new ProbeStep(ProbeStep.KWP_WRAP, null, "no AES key or private key"));
        steps.add(new ProbeStep(ProbeStep.KWP_WRAP_EC, null, "no AES key or private key"));
        steps.add(new ProbeStep(ProbeStep.CBC_PAD_WRAP, null, "no AES key or private key"));
      } else {
        attempt(steps, ProbeStep.KWP_WRAP, () -> kwpInterop(KeyType.RSA, made));
        attempt(steps, ProbeStep.KWP_WRAP_EC, () -> kwpInterop(KeyType.EC, made));
        attempt(steps, ProbeStep.CBC_PAD_WRAP, () -> {
          try {
            return session.wrapKey(new Mechanism(CKM_AES_CBC_PAD, new org.xipki.pkcs11.wrapper.params.ByteArrayParams(
                new byte[16])), aes.objectHandle(), anyPrivate.objectHandle());
          } catch (PKCS11Exception e) {
            throw new HsmException(HsmException.Reason.MECHANISM_NOT_SUPPORTED, "C_WrapKey", "", e.getMessage());
          }
        });
      }
      return steps;
    } finally {
      destroyQuietly(made);
    }
  }

  /**
   * Checks at start-up that the token's {@link HsmToken#kwpMechanism RFC 5649 mechanism} is RFC 5649, against Bouncy
   * Castle's on both sides (the probe's step, with an EC key, else an RSA key where EC keys do not unwrap): a
   * configured vendor code that means something else would otherwise only show when agents cannot open archives
   * years later. Returns null when it holds, or a reason the check could not be made (a token that refuses a
   * plaintext key, as FIPS-mode HSMs do); throws MECHANISM_NOT_SUPPORTED when the mechanism is not RFC 5649.
   */
  public String checkRfc5649() throws HsmException {
    kwp(); // none at all: the clear message
    List<KeyHandle> made = new ArrayList<>();
    try {
      try {
        kwpInterop(KeyType.EC, made);
        return null;
      } catch (HsmException ec) {
        if ("C_CreateObject".equals(ec.operation())) {
          return "the token refuses a plaintext AES key (" + ec.getMessage() + ")";
        }
        try {
          kwpInterop(KeyType.RSA, made);
          return null;
        } catch (HsmException rsa) {
          throw new HsmException(Reason.MECHANISM_NOT_SUPPORTED, "RFC 5649 check", token.label(), rsa.ckr(),
              "token '" + token.label() + "' does not do RFC 5649 key wrap with mechanism "
                  + String.format("0x%X", token.kwpMechanism()) + ": " + rsa.getMessage(), rsa);
        }
      }
    } finally {
      destroyQuietly(made);
    }
  }

  /** Destroys the probe's and the check's throw-away objects; one that will not go is left for its session's end. */
  private void destroyQuietly(List<KeyHandle> made) {
    for (KeyHandle k : made) {
      try {
        destroy(k);
      } catch (HsmException e) {
        // a session object dies with the session; a probe's token pair is named by 'keyarc hsm keys'
      }
    }
  }

  /**
   * The probe's RFC 5649 step, against Bouncy Castle's RFC 5649 on both sides: a private key made in software is
   * wrapped by Bouncy Castle under a known AES key, unwrapped into the token with {@link #kwpMechanism its
   * mechanism} and checked against its public key; the token wraps it again and Bouncy Castle's unwrap must give
   * the same PKCS#8 (a token that means something else by its mechanism, as NSS does by 0x210A, fails here).
   */
  private Object kwpInterop(KeyType type, List<KeyHandle> made) throws HsmException {
    byte[] kek = new byte[32];
    try {
      java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance(type == KeyType.RSA ? "RSA" : "EC");
      g.initialize(type == KeyType.RSA ? 2048 : 256);
      java.security.KeyPair pair = g.generateKeyPair();
      byte[] pkcs8 = pair.getPrivate().getEncoded();
      new java.security.SecureRandom().nextBytes(kek);
      AttributeVector t = AttributeVector.newAESSecretKey().token(false).private_(true).sensitive(true)
          .extractable(false).wrap(true).unwrap(true).encrypt(false).decrypt(false).label("keyarc-probe").value(kek);
      KeyHandle aes;
      try {
        aes = new KeyHandle(token.label(), session.createObject(t), KeyClass.SECRET, KeyType.AES, "keyarc-probe", null,
            true);
      } catch (PKCS11Exception e) {
        throw fail("C_CreateObject", e);
      }
      made.add(aes);
      org.bouncycastle.crypto.Wrapper bc = new org.bouncycastle.crypto.engines.RFC5649WrapEngine(
          org.bouncycastle.crypto.engines.AESEngine.newInstance());
      bc.init(true, new org.bouncycastle.crypto.params.KeyParameter(kek));
      byte[] wrapped = bc.wrap(pkcs8, 0, pkcs8.length);
      KeyHandle inside = unwrapAesKwp(aes, wrapped, type, KeyPolicy.SESSION_UNWRAPPED, "keyarc-probe");
      made.add(inside);
      if (!matchesPublicKey(inside, pair.getPublic())) {
        throw new HsmException(Reason.MECHANISM_NOT_SUPPORTED, "C_UnwrapKey", token.label(),
            "the unwrapped key is not the key Bouncy Castle wrapped");
      }
      byte[] again = wrapAesKwp(aes, inside);
      bc.init(false, new org.bouncycastle.crypto.params.KeyParameter(kek));
      byte[] back = Der.trimTrailingPadding(bc.unwrap(again, 0, again.length));
      java.security.KeyFactory kf = java.security.KeyFactory.getInstance(type == KeyType.RSA ? "RSA" : "EC");
      if (!kf.generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(back)).equals(pair.getPrivate())) {
        throw new HsmException(Reason.MECHANISM_NOT_SUPPORTED, "C_WrapKey", token.label(),
            "the token's wrap does not unwrap to the same key with RFC 5649");
      }
      return Boolean.TRUE;
    } catch (GeneralSecurityException | org.bouncycastle.crypto.InvalidCipherTextException e) {
      throw new HsmException(Reason.MECHANISM_NOT_SUPPORTED, "RFC 5649", token.label(), -1,
          "the token's key wrap is not RFC 5649: " + e.getMessage(), e);
    } finally {
      java.util.Arrays.fill(kek, (byte) 0);
    }
  }

  /** RSA-OAEP encryption in software (a sender's side: the probe's, or a check that a card holds a key). */
  public static byte[] softwareOaep(java.security.PublicKey key, OaepHash hash, byte[] data) throws HsmException {
    try {
      String h = hash == OaepHash.SHA256 ? "SHA-256" : "SHA-1";
      javax.crypto.Cipher c = javax.crypto.Cipher.getInstance("RSA/ECB/OAEPPadding");
      c.init(javax.crypto.Cipher.ENCRYPT_MODE, key, new javax.crypto.spec.OAEPParameterSpec(h, "MGF1",
          new java.security.spec.MGF1ParameterSpec(h), javax.crypto.spec.PSource.PSpecified.DEFAULT));
      return c.doFinal(data);
    } catch (java.security.GeneralSecurityException e) {
      throw new HsmException(HsmException.Reason.MECHANISM_NOT_SUPPORTED, "OAEP", "", e.getMessage());
    }
  }

  // ---------------------------------------------------------------- certificates, destroy, random

  /**
   * Stores a certificate on the token next to its key (same CKA_ID and CKA_LABEL), as smartcards and
   * the SunPKCS11 KeyStore expect: SunPKCS11 lists a private key only when such a certificate exists.
   */
  public void storeCertificate(KeyHandle key, X509Certificate cert) throws HsmException {
    try {
      AttributeVector t = AttributeVector.newX509Certificate().token(true).private_(false)
          .label(key.label()).id(key.id())
          .subject(cert.getSubjectX500Principal().getEncoded())
          .issuer(cert.getIssuerX500Principal().getEncoded())
          .serialNumber(new ASN1Integer(cert.getSerialNumber()).getEncoded())
          .value(cert.getEncoded());
      session.createObject(t);
    } catch (PKCS11Exception e) {
      throw fail("C_CreateObject", e);
    } catch (CertificateEncodingException | IOException e) {
      throw new HsmException(Reason.BAD_INPUT, "store certificate", token.label(), -1,
          "cannot encode the certificate: " + e.getMessage(), e);
    }
  }

  /** Destroys the certificate objects stored next to a key (same CKA_ID); returns how many there were. */
  public int destroyCertificates(KeyHandle key) throws HsmException {
    try {
      long[] certs = session.findAllObjectsSingle(AttributeVector.newX509Certificate().id(key.id()));
      for (long h : certs) {
        session.destroyObject(h);
      }
      return certs.length;
    } catch (PKCS11Exception e) {
      throw fail("C_DestroyObject", e);
    }
  }

  /** Destroys a key object (session objects after each operation; token objects only on purpose). */
  public void destroy(KeyHandle key) throws HsmException {
    try {
      session.destroyObject(key.objectHandle());
    } catch (PKCS11Exception e) {
      throw fail("C_DestroyObject", e);
    }
  }

  // ---------------------------------------------------------------- data objects

  /**
   * The values of the private token data objects (CKO_DATA) labelled {@code label} of application "keyarc", in
   * no particular order (empty when there is none). Data objects hold small state the node keeps outside its
   * database (the audit anchor): only a logged-in session can read or change them. There is normally one; two
   * exist only if the process stopped inside {@link #writeData}, and the caller decides which is newer.
   */
  public List<byte[]> readData(String label) throws HsmException {
    try {
      List<byte[]> out = new ArrayList<>();
      for (long h : session.findAllObjectsSingle(dataTemplate(label))) {
        byte[] v = session.getAttrValues(h, CKA_VALUE).getByteArrayAttrValue(CKA_VALUE);
        out.add(v == null ? new byte[0] : v); // an empty CKA_VALUE reads back as absent
      }
      long[] held = session.findAllObjectsSingle(dataKeyTemplate(label));
      if (held.length > 0) {
        KeyHandle mac = findDataMacKey();
        for (long h : held) {
          byte[] v = session.getAttrValues(h, CKA_ID).getByteArrayAttrValue(CKA_ID);
          byte[] value = v == null || v.length < 1 + DATA_MAC_LENGTH || v[0] != DATA_FORMAT || mac == null ? null
              : java.util.Arrays.copyOfRange(v, 1 + DATA_MAC_LENGTH, v.length);
          if (value == null || !MessageDigest.isEqual(java.util.Arrays.copyOfRange(v, 1, 1 + DATA_MAC_LENGTH),
              dataMac(mac, label, value))) {
            throw new HsmException(Reason.BAD_INPUT, "read data", token.label(), "the token's record '" + label
                + "' is not one keyarc wrote (its MAC does not verify): the token's files were edited");
          }
          out.add(value);
        }
      }
      return out;
    } catch (PKCS11Exception e) {
      throw fail("C_GetAttributeValue", e);
    }
  }

  /**
   * Replaces the value of the private token data object labelled {@code label}: the new object is created first
   * and the old ones destroyed after, so a crash in between leaves both (never none). SoftHSM2 keeps a data
   * object's CKA_VALUE read-only after creation, hence create-then-destroy rather than C_SetAttributeValue.
   *
   * <p>A token that keeps no data objects (NSS softoken refuses CKO_DATA token objects, and does not give back the
   * CKA_VALUE of a token secret key) gets a private generic secret labelled {@code keyarc-data:LABEL} instead, a
   * random sensitive value that may do nothing, whose CKA_ID is 0x02, an AES-CMAC of the label and value under the
   * token key {@code keyarc-data-mac}, and the value. NSS keeps CKA_ID in its database file unencrypted and
   * unauthenticated, so the MAC (checked on every read) is what stops an edit of the file without the PIN.
   */
  public void writeData(String label, byte[] value) throws HsmException {
    try {
      long[] old = session.findAllObjectsSingle(dataTemplate(label));
      long[] oldKeys = session.findAllObjectsSingle(dataKeyTemplate(label));
      try {
        session.createObject(dataTemplate(label).value(value));
      } catch (PKCS11Exception e) {
        long code = e.getErrorCode();
        if (code != CKR_ATTRIBUTE_VALUE_INVALID && code != CKR_TEMPLATE_INCONSISTENT
            && code != CKR_ATTRIBUTE_TYPE_INVALID && code != CKR_FUNCTION_NOT_SUPPORTED) {
          throw e;
        }
        KeyHandle mac = findDataMacKey();
        if (mac == null) {
          mac = generateSecretKey(KeySpec.AES_256, KeyPolicy.MAC_SECRET, DATA_MAC_LABEL);
        }
        byte[] tag = dataMac(mac, label, value);
        byte[] held = new byte[1 + DATA_MAC_LENGTH + value.length];
        held[0] = DATA_FORMAT;
        System.arraycopy(tag, 0, held, 1, DATA_MAC_LENGTH);
        System.arraycopy(value, 0, held, 1 + DATA_MAC_LENGTH, value.length);
        session.createObject(dataKeyTemplate(label).sensitive(true).extractable(false)
            .encrypt(false).decrypt(false).sign(false).verify(false).wrap(false).unwrap(false).derive(false)
            .value(random(16)).id(held));
      }
      for (long h : old) {
        session.destroyObject(h);
      }
      for (long h : oldKeys) {
        session.destroyObject(h);
      }
    } catch (PKCS11Exception e) {
      throw fail("C_CreateObject", e);
    }
  }

  private static AttributeVector dataKeyTemplate(String label) {
    return new AttributeVector().class_(CKO_SECRET_KEY).keyType(CKK_GENERIC_SECRET).label(DATA_KEY_PREFIX + label)
        .token(true).private_(true);
  }

  /** The label of a record kept in a generic secret is this and the record's label. */
  private static final String DATA_KEY_PREFIX = "keyarc-data:";
  /** The format byte of a record kept in a generic secret's CKA_ID: 0x02, the value after its AES-CMAC. */
  private static final byte DATA_FORMAT = 2;
  private static final int DATA_MAC_LENGTH = 16;
  /** The token key that authenticates the records kept in CKA_ID, which NSS stores neither encrypted nor MACed. */
  static final String DATA_MAC_LABEL = "keyarc-data-mac";

  private KeyHandle findDataMacKey() throws HsmException {
    return findKeyOrNull(KeyClass.SECRET, DATA_MAC_LABEL);
  }

  /** AES-CMAC, in the token, of the record's label and value: a file edit cannot make one without the key. */
  private byte[] dataMac(KeyHandle mac, String label, byte[] value) throws HsmException {
    byte[] name = (DATA_KEY_PREFIX + label).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] input = new byte[name.length + 1 + value.length];
    System.arraycopy(name, 0, input, 0, name.length);
    System.arraycopy(value, 0, input, name.length + 1, value.length);
    return cmac(mac, input);
  }

  private static AttributeVector dataTemplate(String label) {
    return new AttributeVector().class_(CKO_DATA).label(label).application("keyarc").token(true).private_(true);
  }

  /** Random bytes from the token's generator. */
  public byte[] random(int length) throws HsmException {
    try {
      return session.generateRandom(length);
    } catch (PKCS11Exception e) {
      throw fail("C_GenerateRandom", e);
    }
  }

  /** Gives the session back to the pool; a session that failed in a way that may have spoiled it is closed. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      token.giveBack(session, broken);
    }
  }

  @Override
  public String toString() {
    return "session of " + token;
  }

  // ---------------------------------------------------------------- helpers

  private void requireMechanism(long mechanism, long flag, String what) throws HsmException {
    if (!token.supports(mechanism, flag)) {
      throw new HsmException(Reason.MECHANISM_NOT_SUPPORTED, "mechanism check", token.label(),
          "mechanism " + mechanismName(mechanism) + " (" + what + ") is not supported by token '"
              + token.label() + "'");
    }
  }

  /** "CKM_RSA_PKCS_OAEP", or the hex code of a vendor mechanism. */
  public static String mechanismName(long code) {
    String name = codeToName(Category.CKM, code);
    return name == null ? String.format("0x%08X", code) : name;
  }

  private AttributeVector attrs(String op, long handle, long... types) throws HsmException {
    try {
      return session.getAttrValues(handle, types);
    } catch (PKCS11Exception e) {
      throw fail("C_GetAttributeValue (" + op + ")", e);
    }
  }

  private HsmException fail(String op, TokenException e) {
    if (e instanceof PKCS11Exception p) {
      long c = p.getErrorCode();
      if (c == CKR_SESSION_HANDLE_INVALID || c == CKR_SESSION_CLOSED || c == CKR_DEVICE_REMOVED
          || c == CKR_TOKEN_NOT_PRESENT || c == CKR_DEVICE_ERROR || c == CKR_GENERAL_ERROR
          || c == CKR_CRYPTOKI_NOT_INITIALIZED) {
        broken = true;
      }
    }
    return HsmException.of(op, token.label(), e);
  }

  private static long ckoOf(KeyClass cls) {
    switch (cls) {
      case PRIVATE: return CKO_PRIVATE_KEY;
      case PUBLIC: return CKO_PUBLIC_KEY;
      default: return CKO_SECRET_KEY;
    }
  }

  private static long hashMechanism(String digest) {
    switch (digest) {
      case "SHA-256": return CKM_SHA256;
      case "SHA-384": return CKM_SHA384;
      case "SHA-512": return CKM_SHA512;
      default: throw new IllegalArgumentException(digest);
    }
  }

  private static long mgfOf(String digest) {
    switch (digest) {
      case "SHA-256": return CKG_MGF1_SHA256;
      case "SHA-384": return CKG_MGF1_SHA384;
      case "SHA-512": return CKG_MGF1_SHA512;
      default: throw new IllegalArgumentException(digest);
    }
  }

  private static byte[] der(ASN1Encodable value) {
    try {
      return value.toASN1Primitive().getEncoded();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
