package org.keyarc.protocol.admin;

/**
 * The field names of an administrative request's JSON object. Which operation reads which field is
 * listed on each {@link AdminOp}.
 */
public final class AdminFields {
  /** The operation: an {@link AdminOp#wireName()}. */
  public static final String OP = "op";
  /** A request or recovery number. */
  public static final String ID = "id";
  /** A certificate serial number, hexadecimal. */
  public static final String SERIAL = "serial";
  /** A subject DN. */
  public static final String SUBJECT = "subject";
  /** A template name. */
  public static final String TEMPLATE = "template";
  /** The new template's name (template.duplicate). */
  public static final String NAME = "name";
  /** Field name to text value (template.set). */
  public static final String SETTINGS = "settings";
  /** Template definitions (template.import), each in the configuration's form. */
  public static final String TEMPLATES = "templates";
  /** A status filter (lower or upper case; empty = all). */
  public static final String STATUS = "status";
  /** A reason: free text for {@link AdminOp#REQUEST_DENY}, a CRLReason number for {@link AdminOp#CERT_REVOKE}. */
  public static final String REASON = "reason";
  /** A role name: administrator, manager, auditor or recovery_agent. */
  public static final String ROLE = "role";
  /** N: the recovery agents each archived key is encrypted for. */
  public static final String AGENTS = "agents";
  /** M: the recovery agents needed to recover a key. */
  public static final String THRESHOLD = "threshold";
  /** The most rows to list. */
  public static final String LIMIT = "limit";
  /** A certificate's SHA-256 or SHA-1 hash, hexadecimal. */
  public static final String CERT_HASH = "certHash";
  public static final String CERTIFICATE = "certificate";
  public static final String ENCRYPTED_KEY = "encryptedKey";
  /** An e-mail address or UPN that archived keys' certificates carry (getkey of all a user's keys). */
  public static final String USER_NAME = "userName";
  /** True to list finished entries too. */
  public static final String ALL = "all";
  /** True to include the recovery blob and the latest progress. */
  public static final String MATERIAL = "material";
  /** The label of the recovery agent's card. */
  public static final String CARD = "card";
  /** A recovery step's partial result, base64. */
  public static final String PROGRESS = "progress";
  /** True: {@link AdminOp#KRA_ADD} accepts a certificate whose request carried no card evidence (audited). */
  public static final String WITHOUT_CARD_EVIDENCE = "withoutCardEvidence";
  /** audit.list: first sequence number, time window (ISO-8601), action, actor, target. */
  public static final String FROM = "from";
  public static final String SINCE = "since";
  public static final String UNTIL = "until";
  public static final String ACTION = "action";
  public static final String ACTOR = "actor";
  public static final String TARGET = "target";
  /** audit.acknowledge: the administrator's note. */
  public static final String NOTE = "note";
  /** audit.verify: exported checkpoints to check the store against (each an object as the export file's lines). */
  public static final String ANCHORS = "anchors";
  /** An e-mail address a one-time secret binds as the certificate's rfc822Name subjectAltName. */
  public static final String EMAIL = "email";
  /**
   * SubjectAltNames a one-time secret binds: an array of "type:value" (email:, dns:, ip:, upn:, dirName:,
   * uri:); in answers, the names a secret binds or a held request would get.
   */
  public static final String SUBJECT_ALT_NAMES = "subjectAltNames";
  /** A ceremony's kind: "rotation" or "drill". */
  public static final String KIND = "kind";
  /** Certificate serials (hex), an array. */
  public static final String SERIALS = "serials";
  /** How many archives a drill samples. */
  public static final String SAMPLE = "sample";
  /** Drill the archives a rotation gave a record no drill has proved yet. */
  public static final String UNVERIFIED = "unverified";
  /** Where a page starts. */
  public static final String OFFSET = "offset";
  /** A ceremony's answers: an array of {serial, proofAlgorithm, proof, envelopes} (DER, base64). */
  public static final String ANSWERS = "answers";
  /** The version of a ceremony's online file an agent fetched (its step replaces that one only). */
  public static final String VERSION = "version";
  /** Start a ceremony's online file again from its blobs. */
  public static final String RESTART = "restart";
  /** A ceremony file (base64 DER CeremonyWork). */
  public static final String WORK = "work";
  /** getkey of the record an agent rotation replaced. */
  public static final String PREVIOUS = "previous";

  private AdminFields() {}
}
