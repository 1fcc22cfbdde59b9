package org.keyarc.protocol.cmp;

import org.keyarc.protocol.ErrorCode;

/**
 * A CMP message's protection or header cannot be accepted (or, on the sending side, cannot be made): {@link
 * ErrorCode#BAD_MESSAGE} when its parameters cannot be read, {@link ErrorCode#BAD_MESSAGE_CHECK} when they
 * are out of bounds or name an unknown algorithm. The message is the one-line text that travels in the
 * {@code [keyarc N]} error answer.
 */
public class CmpProtectionException extends Exception {
  private static final long serialVersionUID = 1L;
  private final ErrorCode code;

  public CmpProtectionException(ErrorCode code, String message) {
    super(message);
    this.code = code;
  }

  public CmpProtectionException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  /** The keyarc error code to answer with. */
  public ErrorCode code() {
    return code;
  }
}
