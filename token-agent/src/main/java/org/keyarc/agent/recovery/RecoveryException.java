package org.keyarc.agent.recovery;

import org.keyarc.protocol.ErrorCode;

/** A recovery step that cannot be done: the code is the CLI's exit code, the message one line for the agent. */
public class RecoveryException extends Exception {
  private static final long serialVersionUID = 1L;
  private final ErrorCode code;

  public RecoveryException(ErrorCode code, String message) {
    super(message);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }
}
