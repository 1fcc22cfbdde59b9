package org.keyarc.ca.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.template.Enrollers;
import org.keyarc.ca.template.SanPolicy;
import org.keyarc.ca.template.SanType;
import org.keyarc.ca.template.Template;
import org.keyarc.ca.template.Templates;
import org.keyarc.hsm.KeySpec;
import org.keyarc.hsm.OaepHash;

/**
 * The CA node's configuration (YAML). Loaded, then defaults applied, then validated; every error
 * names the file and the field. Field names and defaults are documented in docs/operations.md.
 */
public final class NodeConfig {

  /** Where the PKCS#11 module and the CA token are. */
  public static final class Hsm {
    public String module;
    public String token = "keyarc-ca";
    public String pinFile;
    public int sessions = 8;
    /** Arguments to the module's C_Initialize (pReserved), for modules that need them (NSS softoken); none by default. */
    public String initArgs;
    /**
     * The HSM vendor's mechanism code for RFC 5649 key wrap (hex, such as 0x80000171), where it has no
     * CKM_AES_KEY_WRAP_KWP; empty: 0x210B when the token offers it, 0x210A on SoftHSM2.
     */
    public String kwpMechanism;
    /**
     * A separate token (or partition) of the same module for the exchange keys, where archived private keys are
     * unwrapped and wrapped again for the agents (a Luna partition that allows private-key wrapping, which the CA's
     * must not); empty: the CA token.
     */
    public String archivalToken;
    /** The archival token's PIN file; empty: $KEYARC_ARCHIVAL_PIN. */
    public String archivalPinFile;
  }

  /** The database. Empty url = the embedded database under dataDir. */
  public static final class StoreCfg {
    public String url;
    public String user = "keyarc";
    public String passwordFile;
    public int poolSize = 10;
    /**
     * The embedded database only: let local tools (keyarc ca info, audit verify --config) open it while the node
     * runs, through H2's TCP server on the loopback interface, guarded by the database password. Off by default.
     */
    public boolean localServer;
    /** PostgreSQL on another host without TLS (sslmode=verify-full or verify-ca); off: such a URL is refused. */
    public boolean allowPlaintext;
  }

  /** The binary CMP listener. */
  public static final class Binary {
    public String host = "127.0.0.1";
    public int port = 8700;
    public int maxFrameBytes = 1 << 20;
    public int idleTimeoutSeconds = 60;
    public int maxInFlight = 4096;
    /** TLS by default, with the node's own certificate; {@code tls: {enabled: false}} for plain TCP. */
    public Tls tls = new Tls();
    /**
     * Over plain TCP (tls.enabled false): still answer one-time secrets, administrative requests and archival
     * enrollments. Off: they are refused with TLS_REQUIRED (63).
     */
    public boolean allowSecretsInClear;
  }

  /**
   * TLS of a listener: TLS 1.3 and 1.2, ECDHE + AEAD only. The server certificate is the node's own (issued by
   * the CA at init, its key in the CA token) unless certFile and keyFile name PEM files.
   */
  public static final class Tls {
    public boolean enabled = true;
    public String certFile;
    public String keyFile;
    /** none | optional | require: client certificates issued by this CA. */
    public String clientAuth = "optional";
    /** More DNS names or IP addresses for the node's own certificate (besides 127.0.0.1, localhost, the host). */
    public List<String> names = List.of();
  }

  /**
   * The HTTP CMP listener (RFC 6712), also serving GET /crl, /ca.crt and /metrics, in clear; and its HTTPS twin
   * on {@code tlsPort} with the same paths.
   */
  public static final class Http {
    public String host = "127.0.0.1";
    public int port = 8080;
    public boolean enabled = true;
    public int maxBodyBytes = 1 << 20;
    /**
     * The HTTPS listener's port (0 = any free port); it runs when {@code tls.enabled}. Default 8443, or 0 when
     * {@code http.port} is 0.
     */
    public Integer tlsPort;
    public Tls tls = new Tls();
    /**
     * Over plain HTTP: still answer one-time secrets, administrative requests and archival enrollments. Off:
     * they are refused with TLS_REQUIRED (63); openssl cmp's MAC-protected ir, cr, rr and genm still work.
     */
    public boolean allowSecretsInClear;

    /** {@link #tlsPort}, defaulted. */
    public int tlsPort() {
      return tlsPort != null ? tlsPort : port == 0 ? 0 : 8443;
    }
  }

  /** The CA keys created by init. */
  public static final class Ca {
    public String subject = "CN=keyarc Root CA";
    public String keyType = "p256";
    public int validityYears = 10;
    public String exchangeKeyType = "rsa2048";
    public int exchangeValidityDays = 7;
    public int exchangeRenewBeforeDays = 2;
    /** An expired exchange key's private key is destroyed in the HSM this many days after its certificate ends. */
    public int exchangeRetireAfterDays = 3;
    /**
     * The RSA-OAEP hash of the envelopes to recovery agents: "auto" (SHA-256 when every agent's certificate lists it
     * in sMIMECapabilities, from its card's trial; else SHA-1, SoftHSM2's only OAEP hash), or SHA-1 / SHA-256 always.
     */
    public String oaepHash = "auto";
    /** The URL put in issued certificates' CRL distribution points; unset: publicUrl + "crl". */
    public String crlUrl;
    /**
     * The node's public HTTP address as relying parties reach it (the load balancer's, for a cluster), ending in
     * "/": issued certificates carry its {@code crl} as CRL distribution point and, in their authority information
     * access, {@code ca.crt} (caIssuers) and {@code ocsp} (the OCSP responder). Unset: none of these (a node's
     * own listener address, often a loopback one, is no address to write into long-lived certificates).
     */
    public String publicUrl;
    /** The key that signs CMP answers (the CA key signs only certificates and CRLs). */
    public String responderKeyType = "p256";
    public int responderValidityDays = 30;
    public int responderRenewBeforeDays = 7;
  }

  /** Timers. */
  public static final class Timers {
    public int certConfTimeoutSeconds = 300;
    public int crlIntervalMinutes = 60;
    public int crlValidityHours = 24;
    /**
     * Delta CRLs (RFC 5280 5.2.4) every this many minutes between complete ones, listing what was revoked since the
     * last complete CRL; 0: none. Shorter than crlIntervalMinutes.
     */
    public int deltaCrlMinutes;
    public int pollIntervalSeconds = 5;
    public int auditCheckpointSeconds = 10;
    public int secretValidityDays = 14;
    public int messageTimeSkewSeconds = 600;
  }

  /** Key archival. */
  public static final class Archival {
    /**
     * Accept archive forms the HSM cannot unwrap inside the token (CMS EnvelopedData with a CBC content
     * cipher): the private key is then decrypted in the JVM for a moment, and each such archival is
     * audited as a software unwrap. Off by default.
     */
    public boolean allowSoftwareUnwrap;
  }

  /** Failure budgets and lock-out of the wire's authentication (MAC, signature). */
  public static final class Limits {
    /** Authentication failures a peer address may have per minute; then its requests are answered RATE_LIMITED. */
    public int failuresPerPeerPerMinute = 20;
    /** Failures a one-time secret's reference may have per minute, from any peer. */
    public int failuresPerReferencePerMinute = 10;
    /** Failed MACs after which a one-time secret is locked for good (re-issue it). */
    public int secretMaxFailures = 5;
  }

  /** Connection hygiene of each listener. */
  public static final class ConnectionsCfg {
    /** Connections a listener holds at once; more are closed as they arrive. */
    public int maxTotal = 4096;
    /** Connections one peer address may hold on a listener (1,000 for the load generator on one host fit). */
    public int maxPerPeer = 1024;
    /** Seconds a whole message (frame or HTTP request) may take from its first byte; then the connection closes. */
    public int messageDeadlineSeconds = 30;
    /**
     * Bytes a second an unfinished message must bring on average over each 5 s since its first byte; a slower one
     * is closed before its deadline. 0: no minimum rate (the deadline alone).
     */
    public int minBytesPerSecond = 1024;
    /**
     * Bytes that unfinished binary frames over 64 KiB may hold across a listener's connections; more such frames
     * are refused (error 66) until some finish. 0: a quarter of the JVM's maximum heap, at least 16 MiB.
     */
    public long maxBufferedBytes = 0;

    /** {@link #maxBufferedBytes} with 0 resolved against this JVM's heap. */
    long bufferedBytes() {
      return maxBufferedBytes > 0 ? maxBufferedBytes : Math.max(16L << 20, Runtime.getRuntime().maxMemory() / 4);
    }
  }

  /**
   * This node's audit chain, and where signed audit checkpoints are exported as they are made (besides the store
   * and the CA token).
   */
  public static final class AuditCfg {
    /**
     * The audit chain this node appends to: give each node of a cluster its own, stable name (1 to 64 letters,
     * digits, '.', '_', '-'), so that nodes never wait on each other's audit appends; unset: "main".
     */
    public String chain;
    /**
     * A file of one JSON checkpoint a line (0600) to ship off the host; unset: dataDir/audit-checkpoints.jsonl;
     * empty: none.
     */
    public String exportFile;
    /** host:port of a syslog receiver (RFC 5424 over UDP); empty for none. */
    public String syslog;
  }

  /** {@code ca.publicUrl} ending in "/", or null. */
  String publicUrl() {
    if (ca.publicUrl == null || ca.publicUrl.isBlank()) {
      return null;
    }
    return ca.publicUrl.endsWith("/") ? ca.publicUrl : ca.publicUrl + "/";
  }

  /** A template of the configuration: replaces a built-in one of the same name or adds one. */
  public static final class TemplateCfg {
    public String name;
    public int validityDays = 365;
    public List<String> keyUsage = List.of("digitalSignature", "keyEncipherment");
    public List<String> extendedKeyUsage = List.of();
    public int rsaMinBits = 2048;
    public List<String> ecCurves = List.of("P-256", "P-384");
    public List<String> requiredRdns = List.of("CN");
    public List<String> allowedRdns = List.of("CN", "O", "OU", "C", "L", "ST", "E", "SERIALNUMBER");
    public boolean requiresApproval;
    public boolean archivePrivateKey;
    /** A request without a public key gets one generated in the HSM (with archivePrivateKey only). */
    public boolean centralKeygen;
    /**
     * Who may enroll on it; left out: one-time secrets made by a manager or administrator, and holders of a
     * certificate of this same template (renewal) — for KeyRecoveryAgent, secrets only.
     */
    public EnrollCfg enroll;
    /** The subjectAltName types its certificates may carry, by name (rfc822Name, dNSName, ...); none by default. */
    public Map<String, SanCfg> subjectAltNames = new LinkedHashMap<>();
    /** The certificate policies its certificates assert, as dotted OIDs; none by default. */
    public List<String> certificatePolicies = List.of();
    /** The URL of the certification practice statement, a qualifier of each of those policies; none by default. */
    public String cpsUri;
    /**
     * How many days before its certificate expires a holder may renew it (kur, or enrolling again on this
     * template with it); 0: at any time.
     */
    public int renewalWindowDays;
    /** With requiresApproval: how many certificate managers must approve a request, each once (1 to 5). */
    public int approvals = 1;
    /** Set for a template of CA certificates (sub-CAs and cross-certificates): their constraints. */
    public SubordinateCaCfg subordinateCa;
  }

  /**
   * The constraints of the CA certificates a template issues ({@code templates[].subordinateCa}): qualified
   * subordination. -1 leaves a number out.
   */
  public static final class SubordinateCaCfg {
    /** How many CA certificates may follow below it (pathLenConstraint); -1: no limit. */
    public int pathLen = 0;
    /** The names the CA below may certify: dns:example.com, email:.example.com, dir:O=Example, ip:10.0.0.0/8. */
    public List<String> permitted = List.of();
    /** The names it may not certify, in the same form. */
    public List<String> excluded = List.of();
    /** ISSUER_OID=SUBJECT_OID pairs: the CA below's policies that stand for ours. */
    public List<String> policyMappings = List.of();
    /** requireExplicitPolicy (policyConstraints); -1: none. */
    public int requireExplicitPolicy = -1;
    /** inhibitPolicyMapping (policyConstraints); -1: none. */
    public int inhibitPolicyMapping = -1;
    /** inhibitAnyPolicy's skipCerts; -1: none. */
    public int inhibitAnyPolicy = -1;
  }

  /** Who may enroll on a template (ADCS's Enroll permission): {@code templates[].enroll}. */
  public static final class EnrollCfg {
    /** One-time secrets made for this template. */
    public boolean secret = true;
    /** Who may make those secrets: manager and/or administrator. */
    public List<String> secretCreators = List.of("manager", "administrator");
    /** Holders of these roles may enroll with their certificate. */
    public List<String> roles = List.of();
    /** Holders of a certificate issued from one of these templates may enroll with it. */
    public List<String> holdersOf = List.of();
  }

  /** One subjectAltName type of a template: {@code templates[].subjectAltNames.<type>}. */
  public static final class SanCfg {
    /** secret | approver | request. */
    public String from;
    /** With {@code from: request}: the domains a requested value must fall under. */
    public List<String> suffixes = List.of();
    /** Every certificate of the template must carry one. */
    public boolean required;
  }

  public String dataDir;
  /**
   * Threads that run requests. They wait on the HSM session pool and on the store's group commit, so there are
   * more of them than HSM sessions: while some wait for a commit, others use the sessions.
   */
  public int workers = 64;
  public Hsm hsm = new Hsm();
  public StoreCfg store = new StoreCfg();
  public Binary binary = new Binary();
  public Http http = new Http();
  public Ca ca = new Ca();
  public Timers timers = new Timers();
  public Archival archival = new Archival();
  public Limits limits = new Limits();
  public AuditCfg audit = new AuditCfg();
  public ConnectionsCfg connections = new ConnectionsCfg();
  public boolean roleSeparation = true;
  public String defaultTemplate = "User";
  public List<TemplateCfg> templates = new ArrayList<>();

  /** Where the config came from, for error messages. */
  transient String source = "(defaults)";

  /** Loads {@code file}, applies defaults (from the process's environment), validates. */
  public static NodeConfig load(Path file) throws ConfigException {
    return load(file, Environment.system());
  }

  /** Loads {@code file}, applies defaults (from {@code env}), validates. */
  public static NodeConfig load(Path file, Environment env) throws ConfigException {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory())
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    NodeConfig cfg;
    try {
      cfg = yaml.readValue(Files.readAllBytes(file), NodeConfig.class);
      if (cfg == null) {
        cfg = new NodeConfig();
      }
    } catch (UnrecognizedPropertyException e) {
      throw new ConfigException(file + ": unknown field '" + path(e) + "'; known fields there: "
          + e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", ")));
    } catch (JsonMappingException e) {
      throw new ConfigException(file + ": field '" + path(e) + "': " + e.getOriginalMessage().lines().findFirst()
          .orElse("invalid value"));
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read: " + e.getMessage());
    }
    cfg.source = file.toString();
    cfg.applyDefaults(file.toAbsolutePath().getParent(), env);
    cfg.validate();
    return cfg;
  }

  /** The embedded defaults: everything under {@code home}, the PKCS#11 module given. */
  public static NodeConfig defaults(Path home, String module, String pinFile) throws ConfigException {
    NodeConfig cfg = new NodeConfig();
    cfg.dataDir = home.resolve("ca").toString();
    cfg.hsm.module = module;
    cfg.hsm.pinFile = pinFile;
    cfg.applyDefaults(home, Environment.system());
    cfg.validate();
    return cfg;
  }

  private static String path(JsonMappingException e) {
    return e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
        .collect(Collectors.joining(".")).replace(".[", "[");
  }

  private void applyDefaults(Path base, Environment env) {
    if (dataDir == null) {
      dataDir = base.resolve("ca-data").toString();
    }
    if (hsm.module == null) {
      hsm.module = env.pkcs11Module();
    }

    if (hsm.pinFile == null && env.pinDir() != null) {
      hsm.pinFile = Path.of(env.pinDir(), hsm.token + ".pin").toString();
    }
  }

  private long kwpCode() {
    String v = hsm.kwpMechanism.strip().toLowerCase(java.util.Locale.ROOT);
    return Long.parseLong(v.startsWith("0x") ? v.substring(2) : v, 16);
  }

  /** Checks every field; the first error found is thrown with the field's name. */
  public void validate() throws ConfigException {
    positive("workers", workers);
    positive("hsm.sessions", hsm.sessions);
    if (hsm.kwpMechanism != null && !hsm.kwpMechanism.isBlank()) {
      try {
        if (kwpCode() <= 0) {
          fail("hsm.kwpMechanism", "must be a positive mechanism code");
        }
      } catch (NumberFormatException e) {
        fail("hsm.kwpMechanism", "must be a mechanism code in hex such as 0x210B, not '" + hsm.kwpMechanism + "'");
      }
    }
    if (hsm.archivalToken != null && hsm.archivalToken.trim().equals(hsm.token)) {
      fail("hsm.archivalToken", "names the CA token itself; leave it out to archive on the CA token");
    }
    positive("store.poolSize", store.poolSize);
    if (store.url != null && !store.url.isBlank()) {
      String u = store.url.toLowerCase(Locale.ROOT);
      if (u.contains("password=")) {
        fail("store.url", "must not carry the password: put it in store.passwordFile (0600) or KEYARC_STORE_PASSWORD");
      }
      if (u.startsWith("jdbc:postgresql:") && !store.allowPlaintext && !loopback(u)
          && !(u.contains("sslmode=verify-full") || u.contains("sslmode=verify-ca"))) {
        fail("store.url", "connects to PostgreSQL on another host without verified TLS: add sslmode=verify-full "
            + "(and sslrootcert=...) or set store.allowPlaintext");
      }
    }
    port("binary.port", binary.port);
    port("http.port", http.port);
    atLeast("binary.maxFrameBytes", binary.maxFrameBytes, 1024);
    positive("binary.idleTimeoutSeconds", binary.idleTimeoutSeconds);
    positive("binary.maxInFlight", binary.maxInFlight);
    atLeast("http.maxBodyBytes", http.maxBodyBytes, 1024);
    port("http.tlsPort", http.tlsPort());
    tls("binary.tls", binary.tls);
    tls("http.tls", http.tls);
    if (http.enabled && http.tls.enabled && http.port != 0 && http.port == http.tlsPort()) {
      fail("http.tlsPort", "must differ from http.port (" + http.port + "): HTTPS is a listener of its own");
    }
    try {
      X500Subject.parse(ca.subject);
    } catch (IllegalArgumentException e) {
      fail("ca.subject", e.getMessage());
    }
    keySpec("ca.keyType", ca.keyType, false);
    keySpec("ca.exchangeKeyType", ca.exchangeKeyType, true);
    positive("ca.validityYears", ca.validityYears);
    positive("ca.exchangeValidityDays", ca.exchangeValidityDays);
    if (ca.exchangeRetireAfterDays < 0) {
      fail("ca.exchangeRetireAfterDays", "must be 0 or more, not " + ca.exchangeRetireAfterDays);
    }
    if (ca.exchangeRenewBeforeDays < 0 || ca.exchangeRenewBeforeDays >= ca.exchangeValidityDays) {
      fail("ca.exchangeRenewBeforeDays", "must be 0 or more and less than ca.exchangeValidityDays ("
          + ca.exchangeValidityDays + ")");
    }
    try {
      if (!"auto".equalsIgnoreCase(ca.oaepHash.trim())) {
        OaepHash.parse(ca.oaepHash);
      }
    } catch (IllegalArgumentException e) {
      fail("ca.oaepHash", e.getMessage());
    }
    positive("timers.certConfTimeoutSeconds", timers.certConfTimeoutSeconds);
    positive("timers.crlIntervalMinutes", timers.crlIntervalMinutes);
    positive("timers.crlValidityHours", timers.crlValidityHours);
    if (timers.deltaCrlMinutes < 0 || timers.deltaCrlMinutes >= timers.crlIntervalMinutes && timers.deltaCrlMinutes > 0) {
      fail("timers.deltaCrlMinutes", "must be 0 (no delta CRLs) or fewer than timers.crlIntervalMinutes ("
          + timers.crlIntervalMinutes + "), not " + timers.deltaCrlMinutes);
    }
    positive("timers.pollIntervalSeconds", timers.pollIntervalSeconds);
    positive("timers.auditCheckpointSeconds", timers.auditCheckpointSeconds);
    positive("timers.secretValidityDays", timers.secretValidityDays);
    positive("timers.messageTimeSkewSeconds", timers.messageTimeSkewSeconds);
    keySpec("ca.responderKeyType", ca.responderKeyType, false);
    positive("ca.responderValidityDays", ca.responderValidityDays);
    if (ca.responderRenewBeforeDays < 0 || ca.responderRenewBeforeDays >= ca.responderValidityDays) {
      fail("ca.responderRenewBeforeDays", "must be 0 or more and less than ca.responderValidityDays ("
          + ca.responderValidityDays + ")");
    }
    positive("limits.failuresPerPeerPerMinute", limits.failuresPerPeerPerMinute);
    for (String[] u : new String[][] {{"ca.publicUrl", ca.publicUrl}, {"ca.crlUrl", ca.crlUrl}}) {
      if (u[1] != null && !u[1].isBlank()) {
        java.net.URI uri;
        try {
          uri = new java.net.URI(u[1]);
        } catch (java.net.URISyntaxException e) {
          fail(u[0], "is not a URL: " + e.getMessage());
          return;
        }
        if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null
            || !u[1].chars().allMatch(c -> c > 0x20 && c < 0x7f) || uri.getQuery() != null || uri.getFragment() != null) {
          fail(u[0], "must be an absolute http(s) URL of printable ASCII with a host and no query, not '" + u[1] + "'");
        }
      }
    }
    positive("connections.maxTotal", connections.maxTotal);
    positive("connections.maxPerPeer", connections.maxPerPeer);
    positive("connections.messageDeadlineSeconds", connections.messageDeadlineSeconds);
    if (connections.minBytesPerSecond < 0) {
      fail("connections.minBytesPerSecond", "must be 0 (no minimum) or more, not " + connections.minBytesPerSecond);
    }
    if (connections.maxBufferedBytes != 0 && connections.maxBufferedBytes < org.keyarc.protocol.frame.FrameBudget.SMALL) {
      fail("connections.maxBufferedBytes", "must be 0 (a quarter of the heap) or at least "
          + org.keyarc.protocol.frame.FrameBudget.SMALL + ", not " + connections.maxBufferedBytes);
    }
    positive("limits.failuresPerReferencePerMinute", limits.failuresPerReferencePerMinute);
    if (limits.secretMaxFailures < 1 || limits.secretMaxFailures > 10) {
      fail("limits.secretMaxFailures", "must be 1..10, not " + limits.secretMaxFailures);
    }
    if (audit.chain != null && !audit.chain.matches("[A-Za-z0-9._-]{1,64}")) {
      fail("audit.chain", "must be 1 to 64 letters, digits, '.', '_' or '-', not '"
          + org.keyarc.ca.support.Texts.printable(audit.chain) + "'");
    }
    if (audit.syslog != null && !audit.syslog.isBlank() && !audit.syslog.matches("[^:\\s]+:\\d{1,5}")) {
      fail("audit.syslog", "must be host:port, not '" + audit.syslog + "'");
    }
    validateTemplates();
  }

  /** The templates' part of {@link #validate}: names unique, each convertible (also for runtime definitions). */
  void validateTemplates() throws ConfigException {
    Set<String> names = new LinkedHashSet<>();
    for (int i = 0; i < templates.size(); i++) {
      TemplateCfg t = templates.get(i);
      String at = "templates[" + i + "]";
      required(at + ".name", t.name);
      if (!t.name.matches("[A-Za-z][A-Za-z0-9_.-]{0,63}")) {
        fail(at + ".name", "must be a letter then up to 63 letters, digits, '_', '.' or '-', not '" + t.name + "'");
      }
      if (!names.add(t.name)) {
        fail(at + ".name", "template '" + t.name + "' is defined twice");
      }
    }
    for (int i = 0; i < templates.size(); i++) {
      toTemplate(templates.get(i), "templates[" + i + "]");
    }
  }

  /** The names of every template the node offers: the built-in ones and the configured ones. */
  private Set<String> templateNames() {
    Set<String> all = new LinkedHashSet<>();
    Templates.builtIn().forEach(t -> all.add(t.name()));
    templates.forEach(t -> all.add(t.name));
    return all;
  }

  /** The configured templates, converted (already validated). */
  public List<Template> configuredTemplates() throws ConfigException {
    List<Template> out = new ArrayList<>();
    for (int i = 0; i < templates.size(); i++) {
      out.add(toTemplate(templates.get(i), "templates[" + i + "]"));
    }
    return out;
  }

  private Template toTemplate(TemplateCfg t, String at) throws ConfigException {
    positive(at + ".validityDays", t.validityDays);
    int ku = 0;
    for (String u : t.keyUsage) {
      ku |= keyUsageBit(at + ".keyUsage", u);
    }
    List<ASN1ObjectIdentifier> ekus = new ArrayList<>();
    for (String e : t.extendedKeyUsage) {
      try {
        ekus.add(Template.ekuOf(e));
      } catch (IllegalArgumentException ex) {
        fail(at + ".extendedKeyUsage", ex.getMessage());
      }
    }
    Set<ASN1ObjectIdentifier> curves = new LinkedHashSet<>();
    for (String c : t.ecCurves) {
      ASN1ObjectIdentifier oid = ECNamedCurveTable.getOID(c);
      if (oid == null) {
        fail(at + ".ecCurves", "unknown curve '" + c + "' (use P-256 or P-384)");
      }
      curves.add(oid);
    }
    if (t.rsaMinBits != 0 && t.rsaMinBits < 2048) {
      fail(at + ".rsaMinBits", "must be 0 (no RSA) or at least 2048, not " + t.rsaMinBits);
    }
    if (t.rsaMinBits == 0 && curves.isEmpty()) {
      fail(at + ".rsaMinBits", "the template accepts no key at all (rsaMinBits 0 and no ecCurves)");
    }
    Enrollers enrollers = enrollers(t, at + ".enroll");
    SanPolicy sans = sanPolicy(t, at + ".subjectAltNames");
    List<ASN1ObjectIdentifier> policies = new ArrayList<>();
    for (String p : t.certificatePolicies) {
      try {
        policies.add(new ASN1ObjectIdentifier(p.trim()));
      } catch (IllegalArgumentException e) {
        fail(at + ".certificatePolicies", "'" + p + "' is not a dotted OID");
      }
    }
    org.keyarc.ca.template.Subordination sub = t.subordinateCa == null ? null
        : new org.keyarc.ca.template.Subordination(t.subordinateCa.pathLen, t.subordinateCa.permitted,
            t.subordinateCa.excluded, t.subordinateCa.policyMappings, t.subordinateCa.requireExplicitPolicy,
            t.subordinateCa.inhibitPolicyMapping, t.subordinateCa.inhibitAnyPolicy);
    try {
      return Template.builder(t.name).validity(Duration.ofDays(t.validityDays)).keyUsage(ku).extendedKeyUsages(ekus)
          .rsaMinBits(t.rsaMinBits).ecCurves(curves).requiredRdns(upper(t.requiredRdns))
          .allowedRdns(upper(t.allowedRdns)).requiresApproval(t.requiresApproval)
          .archivePrivateKey(t.archivePrivateKey).centralKeygen(t.centralKeygen).enrollers(enrollers).subjectAltNames(sans)
          .certificatePolicies(policies).cpsUri(t.cpsUri).approvals(t.approvals).renewalWindow(Duration.ofDays(t.renewalWindowDays))
          .subordinate(sub).build();
    } catch (Template.Invalid e) {
      fail(at + "." + e.field(), e.getMessage());
      return null;
    }
  }

  private Enrollers enrollers(TemplateCfg t, String at) throws ConfigException {
    if (t.enroll == null) {
      return Templates.KEY_RECOVERY_AGENT.equals(t.name) ? Enrollers.secretOnly()
          : Enrollers.secretOrHoldersOf(t.name);
    }
    Set<Role> creators = new LinkedHashSet<>();
    for (String r : t.enroll.secretCreators) {
      creators.add(role(at + ".secretCreators", r));
    }
    Set<Role> roles = new LinkedHashSet<>();
    for (String r : t.enroll.roles) {
      roles.add(role(at + ".roles", r));
    }
    Set<String> known = templateNames();
    for (String h : t.enroll.holdersOf) {
      if (!known.contains(h)) {
        fail(at + ".holdersOf", "names template '" + h + "', which this CA does not offer (it offers "
            + String.join(", ", known) + ")");
      }
    }
    return new Enrollers(t.enroll.secret, creators, roles, Set.copyOf(t.enroll.holdersOf));
  }

  private Role role(String field, String name) throws ConfigException {
    try {
      return Role.valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_').replace(' ', '_'));
    } catch (IllegalArgumentException e) {
      fail(field, "unknown role '" + name + "' (use manager, administrator, auditor or recovery_agent)");
      return null;
    }
  }

  private SanPolicy sanPolicy(TemplateCfg t, String at) throws ConfigException {
    Map<SanType, SanPolicy.Rule> rules = new LinkedHashMap<>();
    for (Map.Entry<String, SanCfg> e : t.subjectAltNames.entrySet()) {
      SanType type = SanType.ofConfigName(e.getKey()).orElse(null);
      if (type == null) {
        fail(at, "unknown subjectAltName type '" + e.getKey() + "' (use rfc822Name, dNSName, iPAddress, upn, "
            + "directoryName or uniformResourceIdentifier)");
      }
      SanCfg c = e.getValue() == null ? new SanCfg() : e.getValue();
      SanPolicy.Source from = null;
      if (c.from == null) {
        fail(at + "." + e.getKey() + ".from", "is required: secret, approver or request");
      }
      try {
        from = SanPolicy.Source.valueOf(c.from.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException ex) {
        fail(at + "." + e.getKey() + ".from", "must be secret, approver or request, not '" + c.from + "'");
      }
      rules.put(type, new SanPolicy.Rule(from, c.suffixes == null ? List.of() : c.suffixes, c.required));
    }
    return new SanPolicy(rules);
  }

  private static Set<String> upper(List<String> in) {
    return in.stream().map(s -> s.toUpperCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
  }

  private int keyUsageBit(String field, String name) throws ConfigException {
    switch (name) {
      case "digitalSignature": return KeyUsage.digitalSignature;
      case "nonRepudiation": return KeyUsage.nonRepudiation;
      case "keyEncipherment": return KeyUsage.keyEncipherment;
      case "dataEncipherment": return KeyUsage.dataEncipherment;
      case "keyAgreement": return KeyUsage.keyAgreement;
      default:
        fail(field, "unknown key usage '" + name + "' (use digitalSignature, nonRepudiation, keyEncipherment, "
            + "dataEncipherment or keyAgreement)");
        return 0;
    }
  }

  private void keySpec(String field, String value, boolean rsaOnly) throws ConfigException {
    try {
      KeySpec s = KeySpec.parse(value);
      if (s == KeySpec.AES_256 || (rsaOnly && s.type() != org.keyarc.hsm.KeyHandle.KeyType.RSA)) {
        fail(field, "'" + value + "' is not allowed here (use " + (rsaOnly ? "rsa2048, rsa3072 or rsa4096"
            : "p256, p384, rsa2048, rsa3072 or rsa4096") + ")");
      }
    } catch (IllegalArgumentException e) {
      fail(field, e.getMessage());
    }
  }

  private void tls(String field, Tls t) throws ConfigException {
    if (t == null) {
      fail(field, "is empty; leave it out for TLS with the node's own certificate, or write {enabled: false} "
          + "for no TLS");
    }
    if (!t.enabled) {
      return;
    }
    if ((t.certFile == null) != (t.keyFile == null)) {
      fail(field + (t.certFile == null ? ".certFile" : ".keyFile"), "is required with " + field
          + (t.certFile == null ? ".keyFile" : ".certFile") + " (leave both out for the node's own certificate)");
    }
    if (!Set.of("none", "optional", "require").contains(t.clientAuth)) {
      fail(field + ".clientAuth", "must be none, optional or require, not '" + t.clientAuth + "'");
    }
    for (String n : t.names) {
      if (n == null || n.isBlank() || n.contains("*") || n.contains(" ")) {
        fail(field + ".names", "'" + n + "' is not a DNS name or IP address (wildcards are not issued)");
      }
    }
  }

  private static NodeSettings.Tls tlsSettings(Tls t) {
    if (!t.enabled) {
      return null;
    }
    return new NodeSettings.Tls(t.certFile == null ? null : Path.of(t.certFile),
        t.keyFile == null ? null : Path.of(t.keyFile),
        NodeSettings.ClientAuth.valueOf(t.clientAuth.toUpperCase(Locale.ROOT)), List.copyOf(t.names));
  }

  /** True for a PostgreSQL URL on this host (localhost, 127.x, ::1, or a Unix socket). */
  private static boolean loopback(String url) {
    String rest = url.substring("jdbc:postgresql:".length());
    if (!rest.startsWith("//")) {
      return true; // jdbc:postgresql:database: the default host, localhost
    }
    String host = rest.substring(2).split("[/:?]", 2)[0];
    return host.isEmpty() || host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]");
  }

  private void positive(String field, int v) throws ConfigException {
    atLeast(field, v, 1);
  }

  private void atLeast(String field, int v, int min) throws ConfigException {
    if (v < min) {
      fail(field, "must be at least " + min + ", not " + v);
    }
  }

  private void port(String field, int v) throws ConfigException {
    if (v < 0 || v > 65535) {
      fail(field, "must be a TCP port (0 = any free port), not " + v);
    }
  }

  private void required(String field, String v) throws ConfigException {
    if (v == null || v.isBlank()) {
      fail(field, "is required");
    }
  }

  private void fail(String field, String why) throws ConfigException {
    throw new ConfigException(source + ": field '" + field + "' " + why);
  }

  /** The effective configuration as canonical JSON (sorted keys): what the audit log records. */
  public String toJson() {
    try {
      return new ObjectMapper().configure(com.fasterxml.jackson.databind.SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS,
          true).configure(com.fasterxml.jackson.databind.MapperFeature.SORT_PROPERTIES_ALPHABETICALLY, true)
          .writeValueAsString(this);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The validated configuration as immutable settings, every string parsed once. Validates first, so a
   * configuration a test or the CLI changed after loading is checked again.
   */
  public NodeSettings settings() throws ConfigException {
    validate();
    return new NodeSettings(Path.of(dataDir), workers,
        new NodeSettings.Hsm(Path.of(hsm.module), hsm.token, hsm.pinFile == null ? null : Path.of(hsm.pinFile),
            hsm.sessions, hsm.initArgs, hsm.kwpMechanism == null || hsm.kwpMechanism.isBlank() ? 0 : kwpCode(),
            hsm.archivalToken == null || hsm.archivalToken.isBlank() ? null : hsm.archivalToken.trim(),
            hsm.archivalPinFile == null || hsm.archivalPinFile.isBlank() ? null : Path.of(hsm.archivalPinFile)),
        new NodeSettings.Store(store.url == null || store.url.isBlank() ? null : store.url, store.user,
            store.passwordFile == null ? null : Path.of(store.passwordFile), store.poolSize, store.localServer),
        new NodeSettings.Binary(binary.host, binary.port, binary.maxFrameBytes,
            Duration.ofSeconds(binary.idleTimeoutSeconds), binary.maxInFlight, tlsSettings(binary.tls),
            binary.allowSecretsInClear),
        new NodeSettings.Http(http.host, http.port, http.enabled, http.maxBodyBytes, http.tlsPort(),
            tlsSettings(http.tls), http.allowSecretsInClear),
        new NodeSettings.Ca(X500Subject.parse(ca.subject), KeySpec.parse(ca.keyType), ca.validityYears,
            KeySpec.parse(ca.exchangeKeyType), Duration.ofDays(ca.exchangeValidityDays),
            Duration.ofDays(ca.exchangeRenewBeforeDays), "auto".equalsIgnoreCase(ca.oaepHash.trim()) ? null
                : OaepHash.parse(ca.oaepHash),
            ca.crlUrl == null || ca.crlUrl.isBlank() ? null : ca.crlUrl, KeySpec.parse(ca.responderKeyType),
            Duration.ofDays(ca.responderValidityDays), Duration.ofDays(ca.responderRenewBeforeDays),
            Duration.ofDays(ca.exchangeRetireAfterDays), publicUrl()),
        new NodeSettings.Timers(Duration.ofSeconds(timers.certConfTimeoutSeconds),
            Duration.ofMinutes(timers.crlIntervalMinutes), Duration.ofHours(timers.crlValidityHours),
            Duration.ofSeconds(timers.pollIntervalSeconds), Duration.ofSeconds(timers.auditCheckpointSeconds),
            Duration.ofDays(timers.secretValidityDays), Duration.ofSeconds(timers.messageTimeSkewSeconds),
            Duration.ofMinutes(timers.deltaCrlMinutes)),
        new NodeSettings.Archival(archival.allowSoftwareUnwrap),
        new NodeSettings.AuditExport(audit.chain == null ? "main" : audit.chain, audit.exportFile == null ? Path.of(dataDir).resolve("audit-checkpoints.jsonl")
            : audit.exportFile.isBlank() ? null : Path.of(audit.exportFile),
            audit.syslog == null || audit.syslog.isBlank() ? null
            : new java.net.InetSocketAddress(audit.syslog.substring(0, audit.syslog.lastIndexOf(':')),
                Integer.parseInt(audit.syslog.substring(audit.syslog.lastIndexOf(':') + 1)))),
        roleSeparation, defaultTemplate,
        List.copyOf(configuredTemplates()), toJson(),
        new NodeSettings.Limits(limits.failuresPerPeerPerMinute, limits.failuresPerReferencePerMinute,
            limits.secretMaxFailures),
        new NodeSettings.Connections(connections.maxTotal, connections.maxPerPeer,
            Duration.ofSeconds(connections.messageDeadlineSeconds), connections.minBytesPerSecond,
            connections.bufferedBytes()));
  }
}
