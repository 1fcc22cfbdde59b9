package org.keyarc.ca.support;

import org.keyarc.ca.CaException;
import org.keyarc.hsm.HsmException;
import org.keyarc.protocol.ErrorCode;

/** Work against the HSM, with its failures as the CA's error codes (the same on the node and the CLI). */
public final class HsmCalls {
  private HsmCalls() {}

  /** A piece of HSM work. */
  @FunctionalInterface
  public interface HsmWork<T> {
    T run() throws HsmException;
  }

  public static <T> T call(HsmWork<T> work) throws CaException {
    try {
      return work.run();
    } catch (HsmException e) {
      throw new CaException(ErrorCode.of(e.reason()), e.getMessage(), e);
    }
  }

  /** The CaException of an HSM failure, with {@code what} in front of its message. */
  public static CaException failure(String what, HsmException e) {
    return new CaException(ErrorCode.of(e.reason()), what + e.getMessage(), e);
  }
}
