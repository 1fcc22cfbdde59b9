package org.keyarc.hsm;

import java.util.Locale;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.TokenException;

/**
 * The one checked exception of hsm-core. It says what happened and where: a {@link Reason} the
 * layers above map to stable error codes, the PKCS#11 operation, the token label and, when the
 * module returned one, the CKR code by name and number. It never carries key material or PINs.
 */
public class HsmException extends Exception {

  /** What went wrong, in terms a caller can act on. */
  public enum Reason {
    /** The PKCS#11 library could not be loaded or initialised. */
    MODULE_LOAD_FAILED,
    /** No token with the requested label or serial is present (card not inserted, folder gone). */
    TOKEN_NOT_PRESENT,
    /** The PIN was rejected. */
    PIN_INCORRECT,
    /** The token refuses logins: the PIN is locked. */
    PIN_LOCKED,
    /** The operation needs a login and no PIN was given. */
    PIN_REQUIRED,
    /** The token does not offer the mechanism, or not with these parameters. */
    MECHANISM_NOT_SUPPORTED,
    /** No key with the requested label or id. */
    KEY_NOT_FOUND,
    /** The key exists but its attributes forbid the operation (for example wrapping a non-extractable key). */
    KEY_POLICY,
    /** Every session of the token stayed busy for the whole wait. */
    SESSIONS_EXHAUSTED,
    /** The module has open tokens and cannot be rescanned now. */
    MODULE_BUSY,
    /** Input that cannot be right (wrong length, unknown curve, malformed key). */
    BAD_INPUT,
    /** Any other failure of the device or module. */
    DEVICE_ERROR
  }

  private final Reason reason;
  private final String operation;
  private final String tokenLabel;
  private final long ckr;

  public HsmException(Reason reason, String operation, String tokenLabel, String message) {
    this(reason, operation, tokenLabel, -1, message, null);
  }

  public HsmException(Reason reason, String operation, String tokenLabel, long ckr, String message,
      Throwable cause) {
    super(message, cause);
    this.reason = reason;
    this.operation = operation;
    this.tokenLabel = tokenLabel;
    this.ckr = ckr;
  }

  /**
   * Translates a failure of the IAIK wrapper into a message a user can act on, for example
   * "PIN incorrect for token 'kra-1' (C_Login: CKR_PIN_INCORRECT 0x000000A0)".
   */
  public static HsmException of(String operation, String tokenLabel, TokenException e) {
    if (!(e instanceof PKCS11Exception)) {
      return new HsmException(Reason.DEVICE_ERROR, operation, tokenLabel, -1,
          operation + " on token '" + tokenLabel + "' failed: " + e.getMessage(), e);
    }
    long code = ((PKCS11Exception) e).getErrorCode();
    String where = " (" + operation + ": " + ckrName(code) + ")";
    String token = "token '" + tokenLabel + "'";
    Reason reason;
    String what;
    if (code == PKCS11Constants.CKR_PIN_INCORRECT || code == PKCS11Constants.CKR_PIN_INVALID
        || code == PKCS11Constants.CKR_PIN_LEN_RANGE) {
      reason = Reason.PIN_INCORRECT;
      what = "PIN incorrect for " + token;
    } else if (code == PKCS11Constants.CKR_PIN_LOCKED) {
      reason = Reason.PIN_LOCKED;
      what = "PIN locked on " + token + "; the security officer must unblock it";
    } else if (code == PKCS11Constants.CKR_USER_NOT_LOGGED_IN) {
      reason = Reason.PIN_REQUIRED;
      what = token + " needs a login (give its PIN)";
    } else if (code == PKCS11Constants.CKR_TOKEN_NOT_PRESENT
        || code == PKCS11Constants.CKR_DEVICE_REMOVED
        || code == PKCS11Constants.CKR_TOKEN_NOT_RECOGNIZED
        || code == PKCS11Constants.CKR_SLOT_ID_INVALID) {
      reason = Reason.TOKEN_NOT_PRESENT;
      what = token + " is not present";
    } else if (code == PKCS11Constants.CKR_MECHANISM_INVALID
        || code == PKCS11Constants.CKR_MECHANISM_PARAM_INVALID) {
      reason = Reason.MECHANISM_NOT_SUPPORTED;
      what = "mechanism not supported by " + token;
    } else if (code == PKCS11Constants.CKR_KEY_UNEXTRACTABLE
        || code == PKCS11Constants.CKR_KEY_FUNCTION_NOT_PERMITTED
        || code == PKCS11Constants.CKR_KEY_NOT_WRAPPABLE
        || code == PKCS11Constants.CKR_KEY_TYPE_INCONSISTENT) {
      reason = Reason.KEY_POLICY;
      what = "the key's attributes on " + token + " forbid this operation";
    } else if (code == PKCS11Constants.CKR_WRAPPED_KEY_INVALID
        || code == PKCS11Constants.CKR_WRAPPED_KEY_LEN_RANGE
        || code == PKCS11Constants.CKR_ENCRYPTED_DATA_INVALID
        || code == PKCS11Constants.CKR_ENCRYPTED_DATA_LEN_RANGE
        || code == PKCS11Constants.CKR_DATA_LEN_RANGE) {
      reason = Reason.BAD_INPUT;
      what = "the data given to " + token + " is not valid for this key (wrong key or corrupted input)";
    } else {
      reason = Reason.DEVICE_ERROR;
      what = operation + " failed on " + token;
    }
    return new HsmException(reason, operation, tokenLabel, code, what + where, e);
  }

  /** "CKR_PIN_INCORRECT 0x000000A0". */
  public static String ckrName(long code) {
    String name = PKCS11Constants.ckrCodeToName(code);
    return (name == null ? "CKR_VENDOR_DEFINED" : name)
        + String.format(Locale.ROOT, " 0x%08X", code);
  }

  public Reason reason() {
    return reason;
  }

  public String operation() {
    return operation;
  }

  /** The token's label, or null when the failure is not tied to one token. */
  public String tokenLabel() {
    return tokenLabel;
  }

  /** True when the module does not implement the function at all (CKR_FUNCTION_NOT_SUPPORTED). */
  public boolean functionNotSupported() {
    return ckr == 0x54L; // CKR_FUNCTION_NOT_SUPPORTED
  }

  /** The PKCS#11 return code, or -1 when the failure did not come from the module. */
  public long ckr() {
    return ckr;
  }
}
