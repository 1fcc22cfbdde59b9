package org.keyarc.agent.recovery;

import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcException;

/** A recovery step that cannot be done: the code is the CLI's exit code, the message one line for the agent. */
public class RecoveryException extends KeyarcException {
  private static final long serialVersionUID = 1L;

  public RecoveryException(ErrorCode code, String message) {
    super(code, message);
  }
}
