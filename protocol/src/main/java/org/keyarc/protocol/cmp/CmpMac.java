package org.keyarc.protocol.cmp;

import java.io.OutputStream;
import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.cmp.PBMParameter;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.iana.IANAObjectIdentifiers;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PBKDF2Params;
import org.bouncycastle.asn1.pkcs.PBMAC1Params;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.crmf.CRMFException;
import org.bouncycastle.cert.crmf.PKMACBuilder;
import org.bouncycastle.cert.crmf.jcajce.JcePKMACValuesCalculator;
import org.bouncycastle.operator.GenericKey;
import org.bouncycastle.operator.MacCalculator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.PBEMacCalculatorProvider;
import org.bouncycastle.pkcs.jcajce.JcePBMac1CalculatorBuilder;
import org.bouncycastle.pkcs.jcajce.JcePBMac1CalculatorProviderBuilder;
import org.keyarc.protocol.Bc;
import org.keyarc.protocol.ErrorCode;

/**
 * Password-based MAC protection (PBM and PBMAC1) as both sides do it: the parameters a received message
 * may use (an allow-list, checked before any key derivation runs), the calculator provider to verify it
 * with (which checks them again), and the calculator that protects an outgoing message.
 *
 * <p>The rules, the same for requests the node receives and answers the client receives:
 * <ul>
 *   <li>PBM (RFC 9810 5.1.3.1): one-way function SHA-256, SHA-384 or SHA-512; MAC HMAC-SHA1 (either of its
 *   two OIDs: {@code openssl cmp}'s default, and a sound MAC) or HMAC-SHA-256/384/512.</li>
 *   <li>PBMAC1 (RFC 9481, RFC 8018): key derivation PBKDF2 with PRF HMAC-SHA-256/384/512 named explicitly
 *   (the default PRF is HMAC-SHA1), a keyLength equal to the MAC's output length (Bouncy Castle derives a key
 *   of whatever length the sender names: a 1-byte key makes 1 guess in 256 verify); MAC
 *   HMAC-SHA-256/384/512.</li>
 *   <li>Both: a salt of {@value #MIN_SALT}..{@value #MAX_SALT} bytes and an iteration count of
 *   {@value #MIN_ITERATIONS}..{@value #MAX_ITERATIONS}. keyarc's one-time secrets are 128 random bits, so
 *   iterations add no strength; the lower bound is {@code openssl cmp}'s default (500), the upper bound keeps
 *   one forged request from costing the receiver more than a few milliseconds.</li>
 * </ul>
 * {@code openssl cmp} (3.0) sends by default PBM with a 16-byte salt, OWF SHA-256, 500 iterations and
 * HMAC-SHA1 (OID 1.3.6.1.5.5.8.1.2): accepted exactly.
 */
public final class CmpMac {
  /**
   * PBM / PBKDF2 iterations for the MACs this side computes. keyarc's one-time secrets are 128 random
   * bits, so iterations add no strength; 1,000 is the floor RFC 9481 recommends.
   */
  public static final int MAC_ITERATIONS = 1_000;
  /** Lower bound of PBM / PBKDF2 iterations a received message may use: {@code openssl cmp}'s default. */
  public static final int MIN_ITERATIONS = 500;
  /** Upper bound of PBM / PBKDF2 iterations a received message may ask for (each costs the receiver CPU). */
  public static final int MAX_ITERATIONS = 100_000;
  /** The shortest salt, in bytes, a received message may use (RFC 9481: at least 128 bits). */
  public static final int MIN_SALT = 16;
  /** The longest salt, in bytes, a received message may use. */
  public static final int MAX_SALT = 64;
  /** The salt length, in bytes, of the MACs this side computes. */
  public static final int SALT_LENGTH = 16;
  /** PBMAC1's MAC (and PBKDF2 PRF) for the MACs this side computes. */
  public static final String PBMAC1_MAC = "HmacSHA256";
  /** PBMAC1's derived key length, in bits, for the MACs this side computes. */
  public static final int PBMAC1_KEY_BITS = 256;

  /** PBM's one-way functions allowed, by OID. */
  private static final Map<ASN1ObjectIdentifier, String> PBM_OWF = Map.of(
      NISTObjectIdentifiers.id_sha256, "SHA-256",
      NISTObjectIdentifiers.id_sha384, "SHA-384",
      NISTObjectIdentifiers.id_sha512, "SHA-512");
  /** PBM's MACs allowed, by OID. */
  private static final Map<ASN1ObjectIdentifier, String> PBM_MAC = Map.of(
      IANAObjectIdentifiers.hmacSHA1, "HMAC-SHA1",
      PKCSObjectIdentifiers.id_hmacWithSHA1, "HMAC-SHA1",
      PKCSObjectIdentifiers.id_hmacWithSHA256, "HMAC-SHA256",
      PKCSObjectIdentifiers.id_hmacWithSHA384, "HMAC-SHA384",
      PKCSObjectIdentifiers.id_hmacWithSHA512, "HMAC-SHA512");
  /** PBMAC1's MACs and PBKDF2's PRFs allowed, by OID, with their output length in bytes. */
  private static final Map<ASN1ObjectIdentifier, Integer> HMAC_SHA2 = Map.of(
      PKCSObjectIdentifiers.id_hmacWithSHA256, 32,
      PKCSObjectIdentifiers.id_hmacWithSHA384, 48,
      PKCSObjectIdentifiers.id_hmacWithSHA512, 64);
  /** Names of algorithms a sender may try, for the error text. */
  private static final Map<ASN1ObjectIdentifier, String> NAMES = Map.of(
      OIWObjectIdentifiers.idSHA1, "SHA-1",
      PKCSObjectIdentifiers.id_hmacWithSHA1, "HMAC-SHA1",
      PKCSObjectIdentifiers.id_hmacWithSHA224, "HMAC-SHA224",
      PKCSObjectIdentifiers.id_hmacWithSHA256, "HMAC-SHA256",
      PKCSObjectIdentifiers.id_hmacWithSHA384, "HMAC-SHA384",
      PKCSObjectIdentifiers.id_hmacWithSHA512, "HMAC-SHA512",
      NISTObjectIdentifiers.id_sha224, "SHA-224",
      PKCSObjectIdentifiers.md5, "MD5");

  private static final SecureRandom RANDOM = new SecureRandom();

  private CmpMac() {}

  /** {@link #checkParameters(AlgorithmIdentifier)} of the message's header protectionAlg. */
  public static MacKind checkParameters(PKIMessage msg) throws CmpProtectionException {
    return checkParameters(msg.getHeader().getProtectionAlg());
  }

  /**
   * Checks the PBM / PBMAC1 parameters a sender chose against the allow-list (see the class comment) and
   * returns the kind. Runs no key derivation: call it before anything that does.
   *
   * @throws CmpProtectionException {@link ErrorCode#BAD_MESSAGE} when the parameters cannot be read,
   *     {@link ErrorCode#BAD_MESSAGE_CHECK} when they are outside the rules or the algorithm is neither PBM
   *     nor PBMAC1
   */
  public static MacKind checkParameters(AlgorithmIdentifier protectionAlg) throws CmpProtectionException {
    Objects.requireNonNull(protectionAlg, "protectionAlg");
    ASN1ObjectIdentifier alg = protectionAlg.getAlgorithm();
    ASN1Encodable params = protectionAlg.getParameters();
    MacKind kind = MacKind.of(alg).orElse(null);
    if (kind == null) {
      throw new CmpProtectionException(ErrorCode.BAD_MESSAGE_CHECK, "MAC algorithm " + alg
          + " is not supported (PBM or PBMAC1)");
    }
    PBMParameter pbm = null;
    PBMAC1Params pb = null;
    PBKDF2Params kdf = null;
    try {
      if (kind == MacKind.PBM) {
        pbm = PBMParameter.getInstance(params);
        pbm.getSalt().getOctets();
        pbm.getIterationCount().getValue();
        pbm.getOwf().getAlgorithm();
        pbm.getMac().getAlgorithm();
      } else {
        pb = PBMAC1Params.getInstance(params);
        kdf = PBKDF2Params.getInstance(pb.getKeyDerivationFunc().getParameters());
        pb.getMessageAuthScheme().getAlgorithm();
        kdf.getSalt();
        kdf.getIterationCount();
      }
    } catch (IllegalArgumentException | IllegalStateException | ClassCastException | NullPointerException e) {
      throw new CmpProtectionException(ErrorCode.BAD_MESSAGE, "the MAC parameters cannot be read");
    }
    if (kind == MacKind.PBM) {
      checkPbm(pbm);
    } else {
      checkPbmac1(pb, kdf);
    }
    return kind;
  }

  private static void checkPbm(PBMParameter pbm) throws CmpProtectionException {
    ASN1ObjectIdentifier owf = pbm.getOwf().getAlgorithm();
    if (!PBM_OWF.containsKey(owf)) {
      throw new CmpProtectionException(ErrorCode.BAD_MESSAGE_CHECK, "PBM's one-way function " + name(owf)
          + " is not allowed; use SHA-256, SHA-384 or SHA-512");
    }
    ASN1ObjectIdentifier mac = pbm.getMac().getAlgorithm();
    if (!PBM_MAC.containsKey(mac)) {
      throw new CmpProtectionException(ErrorCode.BAD_MESSAGE_CHECK, "PBM's MAC " + name(mac) + " is not allowed; "
          + "use HMAC-SHA1, HMAC-SHA256, HMAC-SHA384 or HMAC-SHA512");
    }
    checkSaltAndCount(pbm.getSalt().getOctets().length, pbm.getIterationCount().getValue());
  }

  private static void checkPbmac1(PBMAC1Params pb, PBKDF2Params kdf) throws CmpProtectionException {
    ASN1ObjectIdentifier kdfAlg = pb.getKeyDerivationFunc().getAlgorithm();
    // id-PBES2 as well: Bouncy Castle up to 1.82 wrote it there for the PBKDF2 parameters (older clients)
    if (!kdfAlg.equals(PKCSObjectIdentifiers.id_PBKDF2) && !kdfAlg.equals(PKCSObjectIdentifiers.id_PBES2)) {
      throw new CmpProtectionException(ErrorCode.BAD_MESSAGE_CHECK, "PBMAC1's key derivation " + kdfAlg
          + " is not allowed; use PBKDF2");
    }
    ASN1ObjectIdentifier mac = pb.getMessageAuthScheme().getAlgorithm();
    Integer macLength = HMAC_SHA2.get(mac);
    if (macLength == null) {
      throw new CmpProtectionException(ErrorCode.BAD_MESSAGE_CHECK, "PBMAC1's MAC " + name(mac) + " is not allowed; "
          + "use HMAC-SHA256, HMAC-SHA384 or HMAC-SHA512");
    }
    // an absent PRF is HMAC-SHA1 (RFC 8018), and Bouncy Castle drops an explicit HMAC-SHA1 as the default
    ASN1ObjectIdentifier prf = kdf.isDefaultPrf() ? PKCSObjectIdentifiers.id_hmacWithSHA1
        : kdf.getPrf().getAlgorithm();
    if (!HMAC_SHA2.containsKey(prf)) {
      throw new CmpProtectionException(ErrorCode.BAD_MESSAGE_CHECK, "PBKDF2's PRF " + name(prf)
          + (kdf.isDefaultPrf() ? ", the default when none is named," : "") + " is not allowed; "
          + "use HMAC-SHA256, HMAC-SHA384 or HMAC-SHA512");
    }
    BigInteger keyLength = kdf.getKeyLength();
    if (keyLength == null || keyLength.intValue() != macLength || keyLength.bitLength() > 31) {
      throw new CmpProtectionException(ErrorCode.BAD_MESSAGE_CHECK, "PBKDF2's keyLength "
          + (keyLength == null ? "is missing" : keyLength + " bytes is wrong") + "; it must be " + macLength
          + " bytes, the output length of " + name(mac));
    }
    checkSaltAndCount(kdf.getSalt().length, kdf.getIterationCount());
  }

  /**
   * Refuses a salt outside {@value #MIN_SALT}..{@value #MAX_SALT} bytes or an iteration count outside
   * {@value #MIN_ITERATIONS}..{@value #MAX_ITERATIONS}.
   */
  public static void checkSaltAndCount(int saltLength, BigInteger count) throws CmpProtectionException {
    if (saltLength < MIN_SALT || saltLength > MAX_SALT) {
      throw new CmpProtectionException(ErrorCode.BAD_MESSAGE_CHECK, "the MAC salt is " + saltLength
          + " bytes; " + MIN_SALT + ".." + MAX_SALT + " are required");
    }
    if (count.compareTo(BigInteger.valueOf(MIN_ITERATIONS)) < 0
        || count.compareTo(BigInteger.valueOf(MAX_ITERATIONS)) > 0) {
      throw new CmpProtectionException(ErrorCode.BAD_MESSAGE_CHECK, "the MAC iteration count " + count
          + " is outside " + MIN_ITERATIONS + ".." + MAX_ITERATIONS);
    }
  }

  private static String name(ASN1ObjectIdentifier oid) {
    String n = NAMES.get(oid);
    if (n == null) {
      n = PBM_OWF.get(oid);
    }
    if (n == null) {
      n = PBM_MAC.get(oid);
    }
    return n == null ? oid.getId() : oid.getId() + " (" + n + ")";
  }

  /**
   * The provider to verify a received MAC of this kind with ({@code ProtectedPKIMessage.verify(provider,
   * secret)}). It checks the parameters with {@link #checkParameters(AlgorithmIdentifier)} before it derives
   * anything (a message that breaks them fails to verify); callers still call {@link #checkParameters} first, to
   * tell the sender why. A new one each call (PBM's is not safe to share between threads).
   */
  public static PBEMacCalculatorProvider verifier(MacKind kind) {
    PBEMacCalculatorProvider bc = switch (kind) {
      case PBM -> new PKMACBuilder(new JcePKMACValuesCalculator().setProvider(Bc.PROVIDER));
      case PBMAC1 -> new JcePBMac1CalculatorProviderBuilder().setProvider(Bc.PROVIDER).build();
    };
    return (algorithm, password) -> {
      try {
        if (checkParameters(algorithm) != kind) {
          throw new OperatorCreationException("the MAC is " + algorithm.getAlgorithm() + ", not " + kind);
        }
      } catch (CmpProtectionException e) {
        throw new OperatorCreationException(e.getMessage(), e);
      }
      return bc.get(algorithm, password);
    };
  }

  /**
   * The calculator that protects an outgoing message: a fresh {@link #SALT_LENGTH}-byte salt and
   * {@link #MAC_ITERATIONS} iterations; PBM with SHA-256 as one-way function and HMAC-SHA256; PBMAC1 with
   * PBKDF2 (PRF HMAC-SHA256, a {@link #PBMAC1_KEY_BITS}-bit key) and {@link #PBMAC1_MAC}, labelled id-PBKDF2 as
   * RFC 8018 asks (Bouncy Castle's builder wrote id-PBES2 there up to 1.82; 1.87 writes id-PBKDF2 itself).
   *
   * @throws CmpProtectionException {@link ErrorCode#BAD_INPUT} when the MAC cannot be set up
   */
  public static MacCalculator calculator(MacKind kind, char[] secret) throws CmpProtectionException {
    byte[] salt = new byte[SALT_LENGTH];
    RANDOM.nextBytes(salt);
    try {
      return switch (kind) {
        case PBMAC1 -> pbkdf2Labelled(new JcePBMac1CalculatorBuilder(PBMAC1_MAC, PBMAC1_KEY_BITS)
            .setProvider(Bc.PROVIDER).setPrf(JcePBMac1CalculatorBuilder.PRF_SHA256).setIterationCount(MAC_ITERATIONS)
            .setSalt(salt).build(secret));
        case PBM -> new PKMACBuilder(new JcePKMACValuesCalculator().setProvider(Bc.PROVIDER)).setParameters(new PBMParameter(salt,
            new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256), MAC_ITERATIONS,
            new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE))).build(secret);
      };
    } catch (CRMFException | OperatorCreationException e) {
      throw new CmpProtectionException(ErrorCode.BAD_INPUT, "cannot set up the MAC: " + e.getMessage(), e);
    }
  }

  /** {@code real} with its key derivation named id-PBKDF2 (the MAC covers the header, so the label is signed too). */
  private static MacCalculator pbkdf2Labelled(MacCalculator real) {
    PBMAC1Params p = PBMAC1Params.getInstance(real.getAlgorithmIdentifier().getParameters());
    AlgorithmIdentifier labelled = new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBMAC1, new PBMAC1Params(
        new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBKDF2, p.getKeyDerivationFunc().getParameters()),
        p.getMessageAuthScheme()));
    return new MacCalculator() {
      @Override
      public AlgorithmIdentifier getAlgorithmIdentifier() {
        return labelled;
      }

      @Override
      public OutputStream getOutputStream() {
        return real.getOutputStream();
      }

      @Override
      public byte[] getMac() {
        return real.getMac();
      }

      @Override
      public GenericKey getKey() {
        return real.getKey();
      }
    };
  }
}
