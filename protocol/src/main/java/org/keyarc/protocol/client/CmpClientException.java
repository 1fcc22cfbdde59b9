package org.keyarc.protocol.client;

import org.keyarc.protocol.ErrorCode;

/** A CMP exchange failed: the CA refused (its code and text), the answer was bad, or the node was unreachable. */
public class CmpClientException extends Exception {
  private static final long serialVersionUID = 1L;
  private final ErrorCode code;

  public CmpClientException(ErrorCode code, String message) {
    super(message);
    this.code = code;
  }

  public CmpClientException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }
}
