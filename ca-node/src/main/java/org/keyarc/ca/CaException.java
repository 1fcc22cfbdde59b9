package org.keyarc.ca;

import org.keyarc.protocol.ErrorCode;

/**
 * A request the CA refuses or cannot complete, with the stable {@link ErrorCode} that goes to the
 * client (as CMP PKIFailureInfo plus text) or to the CLI (as the exit code). The message is one line
 * meant for the user and never carries secret material.
 */
public class CaException extends Exception {
  private static final long serialVersionUID = 1L;
  private final ErrorCode code;

  public CaException(ErrorCode code, String message) {
    super(message);
    this.code = code;
  }

  public CaException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }
}
