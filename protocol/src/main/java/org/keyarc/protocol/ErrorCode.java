package org.keyarc.protocol;

import org.bouncycastle.asn1.cmp.PKIFailureInfo;

/**
 * keyarc's stable error codes, at the wire and CLI boundary. The number never changes once released:
 * it is the CLI's exit code and travels as text in CMP error messages; {@link #failureInfo()} is the
 * CMP PKIFailureInfo bit sent with it. Exit codes 0, 1 and 2 are success, failure and usage.
 */
public enum ErrorCode {
  // ---- HSM and smartcard (10-29)
  TOKEN_NOT_PRESENT(10, PKIFailureInfo.systemUnavail, "token not present"),
  PIN_INCORRECT(11, PKIFailureInfo.notAuthorized, "PIN incorrect"),
  PIN_LOCKED(12, PKIFailureInfo.notAuthorized, "PIN locked"),
  PIN_REQUIRED(13, PKIFailureInfo.notAuthorized, "PIN required"),
  MECHANISM_NOT_SUPPORTED(14, PKIFailureInfo.systemFailure, "mechanism not supported"),
  KEY_NOT_FOUND(15, PKIFailureInfo.systemFailure, "key not found"),
  HSM_UNAVAILABLE(16, PKIFailureInfo.systemUnavail, "HSM unavailable"),
  KEY_POLICY(17, PKIFailureInfo.systemFailure, "key attributes forbid the operation"),
  HSM_BUSY(18, PKIFailureInfo.systemUnavail, "HSM busy"),
  HSM_ERROR(19, PKIFailureInfo.systemFailure, "HSM error"),
  // ---- requests (30-49), used by the CA node and its clients
  BAD_REQUEST(30, PKIFailureInfo.badRequest, "bad request"),
  BAD_MESSAGE(31, PKIFailureInfo.badDataFormat, "malformed message"),
  BAD_POP(32, PKIFailureInfo.badPOP, "bad proof of possession"),
  UNKNOWN_TEMPLATE(33, PKIFailureInfo.badCertTemplate, "unknown template"),
  NOT_AUTHORIZED(34, PKIFailureInfo.notAuthorized, "not authorized"),
  BAD_MESSAGE_CHECK(35, PKIFailureInfo.badMessageCheck, "message protection check failed"),
  BAD_INPUT(36, PKIFailureInfo.badDataFormat, "bad input"),
  BAD_SUBJECT(37, PKIFailureInfo.badCertTemplate, "subject not allowed by the template"),
  KEY_NOT_ALLOWED(38, PKIFailureInfo.badAlg, "key algorithm or size not allowed by the template"),
  SECRET_INVALID(39, PKIFailureInfo.notAuthorized, "one-time secret unknown, used or expired"),
  UNKNOWN_SIGNER(40, PKIFailureInfo.signerNotTrusted, "signer certificate not issued by this CA, expired or revoked"),
  NOT_FOUND(41, PKIFailureInfo.badRequest, "no such request or certificate"),
  REQUEST_DENIED(42, PKIFailureInfo.badRequest, "request denied by a certificate manager"),
  MESSAGE_TOO_LARGE(43, PKIFailureInfo.badDataFormat, "message over the size limit"),
  UNSUPPORTED_MESSAGE(44, PKIFailureInfo.badRequest, "message type not supported"),
  ARCHIVAL_REQUIRED(45, PKIFailureInfo.badRequest, "the template requires the private key for archival"),
  ROLE_CONFLICT(46, PKIFailureInfo.notAuthorized, "role separation: a conflicting role, or a role holder's name"),
  CERT_REVOKED(47, PKIFailureInfo.certRevoked, "certificate already revoked"),
  BAD_TIME(48, PKIFailureInfo.badTime, "message time too far from the CA's clock"),
  RECOVERY_AGENTS_UNAVAILABLE(49, PKIFailureInfo.systemUnavail, "too few valid recovery agents for the archival policy"),
  // ---- node (50-53, 57)
  STORE_ERROR(50, PKIFailureInfo.systemFailure, "store error"),
  NODE_UNAVAILABLE(51, PKIFailureInfo.systemUnavail, "CA node unreachable"),
  CONFIG_INVALID(52, PKIFailureInfo.systemFailure, "configuration invalid"),
  CA_NOT_INITIALISED(53, PKIFailureInfo.systemUnavail, "CA not initialised"),
  // ---- archival (54-56)
  ARCHIVE_UNREADABLE(54, PKIFailureInfo.badDataFormat, "the encrypted private key cannot be unwrapped"),
  ARCHIVE_FORM_REFUSED(55, PKIFailureInfo.badAlg, "this archive form would be decrypted outside the HSM"),
  WRONG_EXCHANGE_CERT(56, PKIFailureInfo.badRequest, "private key not encrypted to a valid exchange certificate"),
  // ---- node, continued
  /** The node's own fault (a bug, an unexpected exception): never reported as the client's mistake. */
  INTERNAL(57, PKIFailureInfo.systemFailure, "internal error in the CA node"),
  // ---- wire trust (58-60)
  /** A one-time secret locked after too many failed MACs: refused before any key derivation; re-issue it. */
  SECRET_LOCKED(58, PKIFailureInfo.notAuthorized, "one-time secret locked after failed MACs"),
  /** A protected request whose (transactionID, senderNonce) the node has already seen. */
  REPLAYED(59, PKIFailureInfo.badSenderNonce, "message replayed"),
  /** The peer (or the secret reference) failed authentication too often: answered unprotected, cheaply. */
  RATE_LIMITED(60, PKIFailureInfo.systemUnavail, "too many requests from this peer"),
  // ---- template permissions and SAN policy
  /** A subjectAltName or extension the request asks for that its template does not allow (named in the text). */
  EXTENSION_NOT_ALLOWED(61, PKIFailureInfo.badCertTemplate, "subjectAltName or extension not allowed by the template"),
  // ---- four eyes
  /** The requester of an approval request (or whoever made the secret it used) tried to approve it. */
  FOUR_EYES(62, PKIFailureInfo.notAuthorized, "the requester of a request cannot approve it"),
  // ---- transport (63)
  /**
   * A one-time secret, an administrative answer or an archival enrollment asked for over a connection without
   * TLS (the node's plain HTTP or plain binary listener, unless its allowSecretsInClear is on).
   */
  TLS_REQUIRED(63, PKIFailureInfo.notAuthorized, "this operation needs a TLS connection"),
  // ---- audit anchor
  AUDIT_HALTED(64, PKIFailureInfo.systemUnavail, "the CA stopped issuing: its audit log was rolled back or rewritten"),
  // ---- archival configuration seal
  /** The recovery-agent list or the policy in the store is not the one an administrator sealed with the HSM. */
  ARCHIVAL_CONFIG_TAMPERED(65, PKIFailureInfo.systemUnavail, "the recovery-agent list or policy was changed outside the CA"),

  // ---- resource budgets
  /** The node already buffers as many unfinished large messages as its heap allows; a later try may pass. */
  NODE_BUSY(66, PKIFailureInfo.systemUnavail, "the node is buffering too many unfinished large messages"),
  // ---- templates
  /** The store's templates do not match their seal: changed outside the CA (an administrator reseals them). */
  TEMPLATES_TAMPERED(67, PKIFailureInfo.systemUnavail, "the templates were changed outside the CA");

  private final int number;
  private final int failureInfo;
  private final String summary;

  ErrorCode(int number, int failureInfo, String summary) {
    this.number = number;
    this.failureInfo = failureInfo;
    this.summary = summary;
  }

  /** The stable number: the CLI's exit code. */
  public int number() {
    return number;
  }

  /** The CMP PKIFailureInfo bit sent with this error. */
  public int failureInfo() {
    return failureInfo;
  }

  /** A few words for listings ("PIN incorrect"). */
  public String summary() {
    return summary;
  }

  /** The code with this number. */
  public static ErrorCode ofNumber(int number) {
    for (ErrorCode c : values()) {
      if (c.number == number) {
        return c;
      }
    }
    throw new IllegalArgumentException("no keyarc error code " + number);
  }

  /** The code of an HSM failure: the same on the node, in the token agent and as the CLI's exit code. */
  public static ErrorCode of(org.keyarc.hsm.HsmException.Reason reason) {
    switch (reason) {
      case TOKEN_NOT_PRESENT: return TOKEN_NOT_PRESENT;
      case PIN_INCORRECT: return PIN_INCORRECT;
      case PIN_LOCKED: return PIN_LOCKED;
      case PIN_REQUIRED: return PIN_REQUIRED;
      case MECHANISM_NOT_SUPPORTED: return MECHANISM_NOT_SUPPORTED;
      case KEY_NOT_FOUND: return KEY_NOT_FOUND;
      case MODULE_LOAD_FAILED: return HSM_UNAVAILABLE;
      case KEY_POLICY: return KEY_POLICY;
      case SESSIONS_EXHAUSTED: case MODULE_BUSY: return HSM_BUSY;
      case BAD_INPUT: return BAD_INPUT;
      default: return HSM_ERROR;
    }
  }
}
