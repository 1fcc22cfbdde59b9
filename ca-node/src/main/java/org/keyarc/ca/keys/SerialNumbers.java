package org.keyarc.ca.keys;

import java.math.BigInteger;
import java.security.SecureRandom;

/**
 * Certificate serial numbers per invariant 5: positive, below 2^159 (so the DER INTEGER fits the 20
 * octets RFC 5280 allows), with 159 bits from a CSPRNG (at least 64 are required). Uniqueness per issuer
 * is the store's constraint; the chance of a collision in 2^159 is what makes a retry on that constraint
 * practically never needed.
 */
public final class SerialNumbers {
  /** Serials are below this bound. */
  public static final BigInteger BOUND = BigInteger.ONE.shiftLeft(159);

  private final SecureRandom random;

  public SerialNumbers(SecureRandom random) {
    this.random = random;
  }

  public SerialNumbers() {
    this(new SecureRandom());
  }

  /** A fresh serial in [1, 2^159). */
  public BigInteger next() {
    BigInteger serial;
    do {
      serial = new BigInteger(159, random);
    } while (serial.signum() == 0);
    return serial;
  }
}
