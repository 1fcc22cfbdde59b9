package org.keyarc.ca;

import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcException;

/**
 * A request the CA refuses or cannot complete, with the stable {@link ErrorCode} that goes to the
 * client (as CMP PKIFailureInfo plus text, mapped in {@code cmp/} only) or to the CLI (as the exit code).
 * Services and the work inside a store transaction throw it directly; the message is one line meant for
 * the user and never carries secret material. {@link ErrorCode#INTERNAL} is the node's own fault.
 */
public class CaException extends KeyarcException {
  private static final long serialVersionUID = 1L;

  public CaException(ErrorCode code, String message) {
    super(code, message);
  }

  public CaException(ErrorCode code, String message, Throwable cause) {
    super(code, message, cause);
  }
}
