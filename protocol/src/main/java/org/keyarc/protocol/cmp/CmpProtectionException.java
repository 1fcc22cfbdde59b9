package org.keyarc.protocol.cmp;

import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcException;

/**
 * A CMP message's protection or header cannot be accepted (or, on the sending side, cannot be made): {@link
 * ErrorCode#BAD_MESSAGE} when its parameters cannot be read, {@link ErrorCode#BAD_MESSAGE_CHECK} when they
 * are out of bounds or name an unknown algorithm. The message is the one-line text that travels in the
 * {@code [keyarc N]} error answer.
 */
public class CmpProtectionException extends KeyarcException {
  private static final long serialVersionUID = 1L;

  public CmpProtectionException(ErrorCode code, String message) {
    super(code, message);
  }

  public CmpProtectionException(ErrorCode code, String message, Throwable cause) {
    super(code, message, cause);
  }
}
