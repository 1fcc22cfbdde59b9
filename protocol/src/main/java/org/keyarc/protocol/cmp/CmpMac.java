package org.keyarc.protocol.cmp;

import java.math.BigInteger;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cmp.PBMParameter;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.pkcs.PBKDF2Params;
import org.bouncycastle.asn1.pkcs.PBMAC1Params;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.crmf.CRMFException;
import org.bouncycastle.cert.crmf.PKMACBuilder;
import org.bouncycastle.cert.crmf.jcajce.JcePKMACValuesCalculator;
import org.bouncycastle.operator.MacCalculator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.PBEMacCalculatorProvider;
import org.bouncycastle.pkcs.jcajce.JcePBMac1CalculatorBuilder;
import org.bouncycastle.pkcs.jcajce.JcePBMac1CalculatorProviderBuilder;
import org.keyarc.protocol.Bc;
import org.keyarc.protocol.ErrorCode;

/**
 * Password-based MAC protection (PBM and PBMAC1) as both sides do it: the parameter bounds a received
 * message must keep, the calculator provider to verify it with, and the calculator that protects an
 * outgoing message.
 */
public final class CmpMac {
  /**
   * PBM / PBKDF2 iterations for the MACs this side computes. keyarc's one-time secrets are 128 random
   * bits, so iterations add no strength; 1,000 is the floor RFC 9481 recommends.
   */
  public static final int MAC_ITERATIONS = 1_000;
  /** Upper bound of PBM / PBKDF2 iterations a received message may ask for (each costs the receiver CPU). */
  public static final int MAX_ITERATIONS = 100_000;
  /** The shortest salt, in bytes, a received message may use. */
  public static final int MIN_SALT = 8;
  /** The salt length, in bytes, of the MACs this side computes. */
  public static final int SALT_LENGTH = 16;
  /** PBMAC1's MAC (and PBKDF2 PRF) for the MACs this side computes. */
  public static final String PBMAC1_MAC = "HmacSHA256";
  /** PBMAC1's derived key length, in bits, for the MACs this side computes. */
  public static final int PBMAC1_KEY_BITS = 256;

  private CmpMac() {}

  /** {@link #checkParameters(AlgorithmIdentifier)} of the message's header protectionAlg. */
  public static MacKind checkParameters(PKIMessage msg) throws CmpProtectionException {
    return checkParameters(msg.getHeader().getProtectionAlg());
  }

  /**
   * Checks the PBM / PBMAC1 parameters a sender chose (salt at least {@link #MIN_SALT} bytes, iteration
   * count 1..{@link #MAX_ITERATIONS}) and returns the kind.
   *
   * @throws CmpProtectionException {@link ErrorCode#BAD_MESSAGE} when the parameters cannot be read,
   *     {@link ErrorCode#BAD_MESSAGE_CHECK} when they are out of bounds or the algorithm is neither PBM nor
   *     PBMAC1
   */
  public static MacKind checkParameters(AlgorithmIdentifier protectionAlg) throws CmpProtectionException {
    Objects.requireNonNull(protectionAlg, "protectionAlg");
    ASN1ObjectIdentifier alg = protectionAlg.getAlgorithm();
    ASN1Encodable params = protectionAlg.getParameters();
    MacKind kind = MacKind.of(alg).orElse(null);
    try {
      if (kind == MacKind.PBM) {
        PBMParameter pbm = PBMParameter.getInstance(params);
        checkSaltAndCount(pbm.getSalt().getOctets().length, pbm.getIterationCount().getValue());
        return kind;
      }
      if (kind == MacKind.PBMAC1) {
        PBMAC1Params pb = PBMAC1Params.getInstance(params);
        PBKDF2Params kdf = PBKDF2Params.getInstance(pb.getKeyDerivationFunc().getParameters());
        checkSaltAndCount(kdf.getSalt().length, kdf.getIterationCount());
        return kind;
      }
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new CmpProtectionException(ErrorCode.BAD_MESSAGE, "the MAC parameters cannot be read");
    }
    throw new CmpProtectionException(ErrorCode.BAD_MESSAGE_CHECK, "MAC algorithm " + alg
        + " is not supported (PBM or PBMAC1)");
  }

  /** Refuses a salt shorter than {@link #MIN_SALT} bytes or an iteration count outside 1..{@link #MAX_ITERATIONS}. */
  public static void checkSaltAndCount(int saltLength, BigInteger count) throws CmpProtectionException {
    if (saltLength < MIN_SALT) {
      throw new CmpProtectionException(ErrorCode.BAD_MESSAGE_CHECK, "the MAC salt is " + saltLength
          + " bytes; at least " + MIN_SALT + " are required");
    }
    if (count.signum() <= 0 || count.compareTo(BigInteger.valueOf(MAX_ITERATIONS)) > 0) {
      throw new CmpProtectionException(ErrorCode.BAD_MESSAGE_CHECK, "the MAC iteration count " + count
          + " is outside 1.." + MAX_ITERATIONS);
    }
  }

  /**
   * The provider to verify a received MAC of this kind with ({@code ProtectedPKIMessage.verify(provider,
   * secret)}). It does not bound the parameters: call {@link #checkParameters} first. A new one each call
   * (PBM's is not safe to share between threads).
   */
  public static PBEMacCalculatorProvider verifier(MacKind kind) {
    return switch (kind) {
      case PBM -> new PKMACBuilder(new JcePKMACValuesCalculator());
      case PBMAC1 -> new JcePBMac1CalculatorProviderBuilder().setProvider(Bc.PROVIDER).build();
    };
  }

  /**
   * The calculator that protects an outgoing message: a fresh {@link #SALT_LENGTH}-byte salt and
   * {@link #MAC_ITERATIONS} iterations; PBMAC1 with {@link #PBMAC1_MAC} and a {@link #PBMAC1_KEY_BITS}-bit
   * key, PBM with Bouncy Castle's defaults (SHA-1 one-way function, HMAC-SHA1).
   *
   * @throws CmpProtectionException {@link ErrorCode#BAD_INPUT} when the MAC cannot be set up
   */
  public static MacCalculator calculator(MacKind kind, char[] secret) throws CmpProtectionException {
    try {
      return switch (kind) {
        case PBMAC1 -> new JcePBMac1CalculatorBuilder(PBMAC1_MAC, PBMAC1_KEY_BITS).setProvider(Bc.PROVIDER)
            .setIterationCount(MAC_ITERATIONS).setSaltLength(SALT_LENGTH).build(secret);
        case PBM -> new PKMACBuilder(new JcePKMACValuesCalculator()).setSaltLength(SALT_LENGTH)
            .setIterationCount(MAC_ITERATIONS).build(secret);
      };
    } catch (CRMFException | OperatorCreationException e) {
      throw new CmpProtectionException(ErrorCode.BAD_INPUT, "cannot set up the MAC: " + e.getMessage(), e);
    }
  }
}
