package org.keyarc.protocol;

/**
 * The one exception base of keyarc: a refusal or failure with the stable {@link ErrorCode} that goes to a
 * client (as CMP PKIFailureInfo plus text, mapped at the protocol edge only) or to the CLI (as the exit code).
 * Every module's checked exception extends it (the CA's {@code CaException}, the client's
 * {@code CmpClientException}, the agent's {@code RecoveryException}, the configuration's
 * {@code ConfigException}), so the CLI and the wire map one type. The message is one line for the user
 * and never carries secret material. {@link ErrorCode#INTERNAL} marks the node's own faults, never the
 * client's mistake. (hsm-core sits below this module: its {@code HsmException} keeps the PKCS#11 reason
 * and CKR code and is mapped with {@link ErrorCode#of}.)
 */
public class KeyarcException extends Exception {
  private static final long serialVersionUID = 1L;
  private final ErrorCode code;

  public KeyarcException(ErrorCode code, String message) {
    super(message);
    this.code = code;
  }

  public KeyarcException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }
}
