package org.keyarc.protocol.client;

import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcException;

/** A CMP exchange failed: the CA refused (its code and text), the answer was bad, or the node was unreachable. */
public class CmpClientException extends KeyarcException {
  private static final long serialVersionUID = 1L;

  public CmpClientException(ErrorCode code, String message) {
    super(code, message);
  }

  public CmpClientException(ErrorCode code, String message, Throwable cause) {
    super(code, message, cause);
  }
}
