package org.keyarc.ca.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.keyarc.ca.template.Template;
import org.keyarc.hsm.KeySpec;
import org.keyarc.hsm.OaepHash;

/**
 * The node's configuration as the services use it: loaded, defaulted and validated once
 * ({@link NodeConfig#settings()}), immutable, with every string already parsed (key specs, the OAEP hash, the
 * TLS client-auth mode, durations, templates). Each service gets its part.
 */
public record NodeSettings(Path dataDir, int workers, Hsm hsm, Store store, Binary binary, Http http, Ca ca,
    Timers timers, Archival archival, AuditExport audit, boolean roleSeparation, String defaultTemplate,
    List<Template> templates, String effectiveJson, Limits limits, Connections connections) {

  /** The PKCS#11 module and the CA token; {@code pinFile} null means the environment's KEYARC_PIN. */
  /**
   * The CA's PKCS#11 module and token; {@code initArgs} for C_Initialize, null for none; {@code kwpMechanism} the
   * vendor's RFC 5649 code, 0 for the token's standard one.
   */
  public record Hsm(Path module, String token, Path pinFile, int sessions, String initArgs, long kwpMechanism,
      String archivalToken, Path archivalPinFile) {}

  /** The database; {@code url} null means the embedded database under dataDir. */
  /**
   * The database; {@code url} null means the embedded database under dataDir, which runs H2's loopback TCP
   * server for local tools only with {@code localServer}.
   */
  public record Store(String url, String user, Path passwordFile, int poolSize, boolean localServer) {}

  /**
   * The binary CMP listener; {@code tls} null means plain TCP, where {@code allowSecretsInClear} decides whether
   * one-time secrets, administrative answers and archival enrollments are still served.
   */
  public record Binary(String host, int port, int maxFrameBytes, Duration idleTimeout, int maxInFlight, Tls tls,
      boolean allowSecretsInClear) {}

  /** Which TLS client certificates the binary listener asks for. */
  public enum ClientAuth { NONE, OPTIONAL, REQUIRE }

  /**
   * TLS of a listener: the server certificate and key from PEM files, or, with {@code certFile} null, the node's
   * own certificate (key in the CA token) naming 127.0.0.1, localhost, the listener's host and {@code names};
   * which client certificates are asked for.
   */
  public record Tls(Path certFile, Path keyFile, ClientAuth clientAuth, List<String> names) {
    /** True for the node's own certificate, false for PEM files. */
    public boolean own() {
      return certFile == null;
    }
  }

  /**
   * The HTTP CMP listener (also GET /crl, /ca.crt, /metrics) in clear, and with {@code tls} (null: none) its
   * HTTPS twin on {@code tlsPort}.
   */
  public record Http(String host, int port, boolean enabled, int maxBodyBytes, int tlsPort, Tls tls,
      boolean allowSecretsInClear) {}

  /**
   * The CA keys init creates, the exchange keys' life, the agents' OAEP hash (null: auto, from the agents'
   * certificates, {@code OaepCapabilities.forAll}), the CRL URL (null: from publicUrl), the CMP
   * responder (and OCSP signing) key's type and life, and the node's public HTTP address ending in "/" (null for
   * none): issued certificates point to its crl, ocsp and ca.crt.
   */
  public record Ca(X500Name subject, KeySpec keyType, int validityYears, KeySpec exchangeKeyType,
      Duration exchangeValidity, Duration exchangeRenewBefore, OaepHash oaepHash, String crlUrl,
      KeySpec responderKeyType, Duration responderValidity, Duration responderRenewBefore,
      Duration exchangeRetireAfter, String publicUrl) {}

  /** Timers and validity periods. */
  public record Timers(Duration certConfTimeout, Duration crlInterval, Duration crlValidity, Duration pollInterval,
      Duration auditCheckpoint, Duration secretValidity, Duration messageTimeSkew, Duration deltaCrlInterval) {}

  /** Key archival: whether forms the HSM cannot unwrap inside the token are accepted (off by default). */
  public record Archival(boolean allowSoftwareUnwrap) {}

  /**
   * The wire's authentication limits: failures per peer address and per secret reference per minute, and
   * the failed MACs that lock a one-time secret.
   */
  public record Limits(int failuresPerPeerPerMinute, int failuresPerReferencePerMinute, int secretMaxFailures) {}

  /**
   * Connection hygiene of each listener: connections in all and from one address, the time a whole message (a
   * frame, an HTTP request) may take to arrive from its first byte, the least rate it must arrive at (0: none), and
   * {@code maxBufferedBytes}, what unfinished large messages may hold across all its connections ({@link
   * org.keyarc.protocol.frame.FrameBudget}).
   */
  public record Connections(int maxTotal, int maxPerPeer, Duration messageDeadline, int minBytesPerSecond,
      long maxBufferedBytes) {}

  /**
   * The node's audit chain ({@code chain}) and where signed audit checkpoints are exported: a file and a syslog
   * receiver (either may be null).
   */
  public record AuditExport(String chain, Path file, java.net.InetSocketAddress syslog) {}
}
