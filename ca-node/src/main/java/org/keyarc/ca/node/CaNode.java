package org.keyarc.ca.node;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.keyarc.ca.CaException;
import org.keyarc.ca.admin.AdminApi;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.cmp.CmpResponder;
import org.keyarc.ca.config.ConfigException;
import org.keyarc.ca.config.Environment;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.config.NodeSettings;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.keys.NodeTls;
import org.keyarc.ca.kra.AgentService;
import org.keyarc.ca.net.BinaryServer;
import org.keyarc.ca.net.HttpServer;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.store.jdbc.JdbcStore;
import org.keyarc.ca.support.PrivateFiles;
import org.keyarc.ca.template.Templates;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmModule;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.PinSource;
import org.keyarc.hsm.TokenSelector;
import org.keyarc.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running CA node: the CA token, the store, the CA services, both listeners and the timers (CRL
 * publication, certConf timeout, exchange-key and CMP responder-key renewal, audit checkpoints, the replay
 * cache's purge). {@link #close()} stops the
 * listeners, signs a last audit checkpoint and releases the token and the store.
 */
public final class CaNode implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CaNode.class);

  private final HsmModule module;
  private final HsmToken token;
  private final Store store;
  private final CaServices services;
  private final ExecutorService workers;
  private final ScheduledExecutorService timers;
  private final EventLoopGroup boss;
  private final EventLoopGroup io;
  private final BinaryServer binary;
  private final HttpServer http;
  private final HttpServer https;
  private final PrometheusMeterRegistry metrics;
  private final List<Listener> listeners;
  private final NodeTls.Current tlsCert;
  private final NodeTls.Key tlsKey;
  private final Leadership leadership;
  /** Other nodes' committed changes (PostgreSQL LISTEN/NOTIFY), taken up at once; none on the embedded store. */
  private org.keyarc.ca.store.ChangeFeed changes = org.keyarc.ca.store.ChangeFeed.NONE;
  private Thread changeListener;
  private final java.util.concurrent.ScheduledExecutorService readinessTimer =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "keyarc-readiness");
        t.setDaemon(true);
        return t;
      });

  /**
   * One listener as a person dials it: {@code url} (tls://, tcp://, https://, http://), whether it is TLS, and
   * what it serves.
   */
  public record Listener(String name, String url, boolean tls, String serves) {}

  private CaNode(HsmModule module, HsmToken token, Store store, CaServices services, ExecutorService workers,
      ScheduledExecutorService timers, EventLoopGroup boss, EventLoopGroup io, BinaryServer binary, HttpServer http,
      HttpServer https, PrometheusMeterRegistry metrics, List<Listener> listeners, NodeTls.Current tlsCert,
      NodeTls.Key tlsKey, Leadership leadership) {
    this.module = module;
    this.token = token;
    this.store = store;
    this.services = services;
    this.workers = workers;
    this.timers = timers;
    this.boss = boss;
    this.io = io;
    this.binary = binary;
    this.http = http;
    this.https = https;
    this.metrics = metrics;
    this.listeners = List.copyOf(listeners);
    this.tlsCert = tlsCert;
    this.tlsKey = tlsKey;
    this.leadership = leadership;
  }

  /** The CA token and the store, opened from the configuration (for local commands and the node). */
  public record Resources(HsmModule module, HsmToken token, HsmToken archival, Store store) implements AutoCloseable {
    /** The CA token serves archival too. */
    public Resources(HsmModule module, HsmToken token, Store store) {
      this(module, token, token, store);
    }

    /** The CA keys from {@link #token}, the exchange keys from {@link #archival}. */
    public CaKeyring keyring() throws CaException {
      return CaKeyring.load(store, token, archival);
    }

    @Override
    public void close() {
      store.close();
      if (archival != token) {
        archival.close();
      }
      token.close();
      module.close();
    }
  }

  /** Opens the PKCS#11 module, logs in to the CA token and opens (and migrates) the store. */
  public static Resources open(NodeConfig cfg) throws CaException {
    return open(cfg.settings(), Environment.system());
  }

  /** {@link #open(NodeConfig)} with settings already made; the PIN comes from {@code hsm.pinFile} or {@code env}. */
  public static Resources open(NodeSettings cfg, Environment env) throws CaException {
    // A SoftHSM2 token folder that several processes open at the same moment can look empty to one of them for an
    // instant (its token files are being rewritten); a network HSM's slot can be briefly absent too. Load the
    // module again a few times before calling the token absent.
    for (int attempt = 1; ; attempt++) {
      try {
        return openOnce(cfg, env);
      } catch (CaException e) {
        if (e.code() != ErrorCode.TOKEN_NOT_PRESENT || attempt == 5) {
          throw e;
        }
        LOG.warn("{}; loading the PKCS#11 module again ({} of 4)", e.getMessage(), attempt);
        try {
          Thread.sleep(250L * attempt);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  /**
   * The archives' RFC 5649 wraps come out of the CA token: its mechanism is checked against Bouncy Castle's RFC 5649
   * before anything is served or made (a wrong vendor code would only show when agents cannot open archives).
   */
  private static void checkRfc5649(HsmToken token) throws CaException {
    try {
      String notChecked = token.call(org.keyarc.hsm.HsmSession::checkRfc5649);
      if (notChecked != null) {
        LOG.warn("the CA token's RFC 5649 key wrap was not checked: {}", notChecked);
      }
    } catch (HsmException e) {
      throw new CaException(ErrorCode.of(e.reason()), e.getMessage(), e);
    }
  }

  private static Resources openOnce(NodeSettings cfg, Environment env) throws CaException {
    HsmModule module;
    try {
      module = HsmModule.load(cfg.hsm().module(), cfg.hsm().initArgs());
    } catch (HsmException e) {
      throw new CaException(ErrorCode.of(e.reason()), e.getMessage(), e);
    }
    char[] pin = null;
    try {
      pin = readPin(cfg.hsm(), env);
      HsmToken token = module.openToken(TokenSelector.parse(cfg.hsm().token()), pin, cfg.hsm().sessions());
      token.kwpMechanism(cfg.hsm().kwpMechanism());
      HsmToken archival = token;
      try {
        if (cfg.hsm().archivalToken() != null) {
          archival = openArchival(module, cfg.hsm(), env);
          if (archival.description().slotId() == token.description().slotId()) {
            // named differently (label vs serial or slot) but the same token: the separation would be a name only
            throw new CaException(ErrorCode.BAD_INPUT, "hsm.archivalToken '" + cfg.hsm().archivalToken() + "' is the "
                + "CA token '" + token.label() + "' (slot " + token.description().slotId() + "): name another token "
                + "or partition, or leave hsm.archivalToken out");
          }
        }
        checkRfc5649(archival); // the archives' wraps come out of the archival token
        return new Resources(module, token, archival, openStore(cfg));
      } catch (CaException | HsmException | RuntimeException e) {
        if (archival != token) {
          archival.close();
        }
        token.close();
        throw e;
      }
    } catch (HsmException e) {
      module.close();
      throw new CaException(ErrorCode.of(e.reason()), e.getMessage(), e);
    } catch (CaException | RuntimeException e) {
      module.close();
      throw e;
    } finally {
      HsmToken.wipe(pin);
    }
  }

  /** The separate archival token (hsm.archivalToken) of the same module, logged in with its own PIN. */
  private static HsmToken openArchival(HsmModule module, NodeSettings.Hsm cfg, Environment env) throws CaException,
      HsmException {
    char[] pin = null;
    try {
      if (cfg.archivalPinFile() != null) {
        pin = PinSource.fromFile(cfg.archivalPinFile());
      } else {
        pin = env.archivalPin();
      }
      if (pin == null) {
        throw new CaException(ErrorCode.PIN_REQUIRED, "the archival token '" + cfg.archivalToken() + "' needs its "
            + "PIN: set hsm.archivalPinFile in the configuration or the KEYARC_ARCHIVAL_PIN environment variable");
      }
      HsmToken t = module.openToken(TokenSelector.parse(cfg.archivalToken()), pin, cfg.sessions());
      t.kwpMechanism(cfg.kwpMechanism());
      return t;
    } catch (IOException e) {
      throw new CaException(ErrorCode.PIN_REQUIRED, "cannot read hsm.archivalPinFile " + cfg.archivalPinFile() + ": "
          + e.getMessage());
    } finally {
      HsmToken.wipe(pin);
    }
  }

  private static char[] readPin(NodeSettings.Hsm cfg, Environment environment) throws CaException {
    try {
      if (cfg.pinFile() != null) {
        return PinSource.fromFile(cfg.pinFile());
      }
    } catch (IOException e) {
      throw new CaException(ErrorCode.PIN_REQUIRED, "cannot read hsm.pinFile " + cfg.pinFile() + ": "
          + e.getMessage());
    }
    char[] env = environment.pin();
    if (env == null) {
      throw new CaException(ErrorCode.PIN_REQUIRED, "the CA token needs its PIN: set hsm.pinFile in the "
          + "configuration or the KEYARC_PIN environment variable");
    }
    return env;
  }

  /** Opens the configured store: PostgreSQL (store.url) or the embedded database under dataDir. */
  public static Store openStore(NodeConfig cfg) throws CaException {
    return openStore(cfg.settings());
  }

  /** {@link #openStore(NodeConfig)} with settings already made. */
  public static Store openStore(NodeSettings cfg) throws CaException {
    return openStore(cfg, Environment.system());
  }

  /**
   * {@link #openStore(NodeConfig)}: the embedded database locked down (folder 0700, generated password 0600, no
   * TCP server unless {@code store.localServer}), or PostgreSQL with its password from {@code store.passwordFile}
   * or {@code KEYARC_STORE_PASSWORD}.
   */
  public static Store openStore(NodeSettings cfg, Environment env) throws CaException {
    Store store = openStoreOf(cfg, env);
    try {
      store.useAuditChain(cfg.audit().chain()); // this node's audit chain (audit.chain)
      return store;
    } catch (CaException | RuntimeException e) {
      store.close();
      throw e;
    }
  }

  private static Store openStoreOf(NodeSettings cfg, Environment env) throws CaException {
    String url = cfg.store().url();
    if (url == null) {
      if (cfg.store().localServer()) {
        System.setProperty("h2.bindAddress", "127.0.0.1"); // H2's automatic server: loopback only
      }
      return JdbcStore.openEmbedded(cfg.dataDir(), cfg.store().user(), cfg.store().localServer(),
          cfg.store().poolSize());
    }
    char[] password = env.storePassword();
    if (cfg.store().passwordFile() != null) {
      try {
        HsmToken.wipe(password);
        password = PinSource.fromFile(cfg.store().passwordFile());
      } catch (IOException e) {
        throw new CaException(ErrorCode.STORE_ERROR, "cannot read store.passwordFile: " + e.getMessage());
      }
    }
    try {
      return JdbcStore.open(url, cfg.store().user(), password, cfg.store().poolSize());
    } catch (RuntimeException e) {
      throw new CaException(ErrorCode.STORE_ERROR, e.getMessage(), e);
    } finally {
      HsmToken.wipe(password);
    }
  }

  /**
   * Refuses to start on secrets others can read: the embedded database's folder and password, the PIN and
   * password files, PEM TLS keys, the exported audit checkpoints (each named in the error, with the chmod).
   */
  static void requirePrivateFiles(NodeSettings cfg) throws CaException {
    if (cfg.store().url() == null) {
      PrivateFiles.requirePrivate(cfg.dataDir(), "the data folder (dataDir)");
      PrivateFiles.requirePrivate(cfg.dataDir().resolve(JdbcStore.PASSWORD_FILE), "the database password file");
      PrivateFiles.requirePrivate(cfg.dataDir().resolve("keyarc.mv.db"), "the database file");
    }
    PrivateFiles.requirePrivate(cfg.hsm().pinFile(), "hsm.pinFile");
    PrivateFiles.requirePrivate(cfg.store().passwordFile(), "store.passwordFile");
    if (cfg.binary().tls() != null) {
      PrivateFiles.requirePrivate(cfg.binary().tls().keyFile(), "binary.tls.keyFile");
    }
    if (cfg.http().tls() != null) {
      PrivateFiles.requirePrivate(cfg.http().tls().keyFile(), "http.tls.keyFile");
    }
    PrivateFiles.requirePrivate(cfg.audit().file(), "audit.exportFile");
  }

  /** Starts a node: opens everything, binds both listeners, starts the timers. */
  public static CaNode start(NodeConfig config) throws CaException {
    NodeSettings cfg = config.settings();
    requirePrivateFiles(cfg);
    Resources r = open(cfg, Environment.system());
    try {
      return start(cfg, r, Environment.system());
    } catch (CaException | RuntimeException e) {
      r.close();
      throw e;
    }
  }

  private static CaNode start(NodeSettings cfg, Resources r, Environment env) throws CaException {
    CaKeyring keys = r.keyring();
    CaServices service = CaServices.wire(cfg, r.store(), keys, Templates.of(cfg.templates()),
        Clock.systemUTC());
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(metrics);
    Metrics.addRegistry(metrics); // the store's meters (keyarc_audit_head_wait)
    Gauge.builder("keyarc.hsm.sessions.in.use", r.token(), HsmToken::sessionsInUse).register(metrics);
    service.audit().checkAnchor();
    service.catalog().seed(); // the templates live in the store from now on
    service.audit().recordConfiguration(cfg.effectiveJson());
    warnAboutAgents(service.agents());
    String nodeId = nodeId();
    Leadership leadership = new Leadership(r.store().leaderLock(), nodeId);
    if (leadership.poll()) { // the others take the leader's keys from the store
      service.exchange().renewIfDue(Audit.NODE);
      service.exchange().retireExpired(Audit.NODE);
      service.responder().renewIfDue(Audit.NODE);
    }
    Gauge.builder("keyarc.node.leader", leadership, l -> l.leader() ? 1 : 0).tag("node", nodeId)
        .description("1 on the node that runs the cluster's scheduled work").register(metrics);
    Gauge.builder("keyarc.kra.agents.expiring", service.agents(), agents -> {
      try {
        return agents.expiryWarnings().size();
      } catch (CaException | RuntimeException e) {
        return Double.NaN; // the store does not answer: /health says so
      }
    }).description("valid recovery agents whose certificates end within 30 days").register(metrics);
    Readiness readiness = new Readiness(r.store(), r.token(), keys, service.audit());
    readiness.check();
    CmpResponder responder = responder(service, metrics);
    NodeSettings.Tls binaryTls = cfg.binary().tls();
    NodeSettings.Tls httpsTls = cfg.http().enabled() ? cfg.http().tls() : null;
    NodeTls.Current own = ensureTlsCertificate(cfg, r, keys, Audit.NODE).orElse(null);
    NodeTls.Key ownKey = null;
    if (own != null) {
      char[] pin = readPin(cfg.hsm(), env);
      try {
        ownKey = NodeTls.open(r.token(), pin, own, keys.certsAbove(keys.current()));
      } finally {
        HsmToken.wipe(pin);
      }
    }
    SslContext binaryContext = binaryTls == null ? null : tlsContext("binary.tls", binaryTls, keys, ownKey);
    SslContext httpsContext = httpsTls == null ? null : tlsContext("http.tls", httpsTls, keys, ownKey);
    AtomicInteger n = new AtomicInteger();
    ExecutorService workers = Executors.newFixedThreadPool(cfg.workers(), runnable -> {
      Thread t = new Thread(runnable, "keyarc-worker-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread t = new Thread(runnable, "keyarc-timers");
      t.setDaemon(true);
      return t;
    });
    EventLoopGroup boss = new NioEventLoopGroup(1);
    EventLoopGroup io = new NioEventLoopGroup();
    BinaryServer binary = null;
    HttpServer http = null;
    HttpServer https = null;
    List<Listener> listeners = new ArrayList<>();
    try {
      binary = BinaryServer.start(cfg.binary(), cfg.connections(), responder, workers, boss, io, binaryContext);
      listeners.add(new Listener("binary CMP", (binaryContext == null ? "tcp://" : "tls://") + cfg.binary().host()
          + ":" + binary.port(), binaryContext != null, binaryContext != null ? "TLS 1.3/1.2, frames up to "
          + cfg.binary().maxFrameBytes() + " bytes" : "PLAIN TCP, " + (cfg.binary().allowSecretsInClear()
          ? "secrets and admin answers in clear (binary.allowSecretsInClear)" : "no secrets, admin answers or "
          + "archival")));
      if (httpsContext != null) {
        https = HttpServer.start(cfg.http(), httpsContext, cfg.connections(), responder, service.crls(), service.ocsp(), caChain(keys),
            metrics::scrape, readiness::notReady, workers, boss, io);
        listeners.add(new Listener("HTTPS CMP", "https://" + cfg.http().host() + ":" + https.port() + "/", true,
            "TLS 1.3/1.2; GET /crl, /ca.crt, /metrics; OCSP at /ocsp"));
      }
      if (cfg.http().enabled()) {
        http = HttpServer.start(cfg.http(), null, cfg.connections(), responder, service.crls(), service.ocsp(), caChain(keys),
            metrics::scrape, readiness::notReady, workers, boss, io);
        listeners.add(new Listener("HTTP CMP", "http://" + cfg.http().host() + ":" + http.port() + "/", false,
            "PLAIN; GET /crl, /ca.crt, /metrics; OCSP at /ocsp; " + (cfg.http().allowSecretsInClear()
            ? "secrets and admin answers in clear (http.allowSecretsInClear)"
            : "openssl cmp with a MAC, no secrets, admin answers or archival")));
      }
      for (Listener l : listeners) {
        LOG.info("keyarc CA node '{}': {} on {} ({})", keys.caName(), l.name(), l.url(), l.serves());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CaException(ErrorCode.NODE_UNAVAILABLE, "interrupted while binding the listeners");
    } catch (RuntimeException e) {
      if (binary != null) {
        binary.close();
      }
      if (https != null) {
        https.close();
      }
      if (ownKey != null) {
        ownKey.close();
      }
      boss.shutdownGracefully();
      io.shutdownGracefully();
      workers.shutdownNow();
      timers.shutdownNow();
      leadership.close();
      throw new CaException(ErrorCode.CONFIG_INVALID, "cannot listen: " + e.getMessage(), e);
    }
    CaNode node = new CaNode(r.module(), r.token(), r.store(), service, workers, timers, boss, io, binary, http, https,
        metrics, listeners, own, ownKey, leadership);
    node.schedule(cfg, readiness);
    return node;
  }

  /**
   * When a listener uses the node's own TLS certificate: the current one, or a new one if it is missing, ends
   * soon or does not name every configured host ({@link NodeTls#ensure}); empty when no listener uses it.
   */
  public static java.util.Optional<NodeTls.Current> ensureTlsCertificate(NodeSettings cfg, Resources r, CaKeyring keys,
      String actor) throws CaException {
    return tlsCertificate(cfg, r, keys, actor, false);
  }

  /** A new node TLS key and certificate now, for the configured names (keyarc ca renew-tls). */
  public static NodeTls.Current renewTlsCertificate(NodeSettings cfg, Resources r, CaKeyring keys, String actor)
      throws CaException {
    return tlsCertificate(cfg, r, keys, actor, true).orElseThrow(() -> new CaException(ErrorCode.BAD_REQUEST,
        "no listener uses the node's own TLS certificate (binary.tls and http.tls name PEM files or are off)"));
  }

  private static java.util.Optional<NodeTls.Current> tlsCertificate(NodeSettings cfg, Resources r, CaKeyring keys,
      String actor, boolean renew) throws CaException {
    NodeSettings.Tls binaryTls = cfg.binary().tls();
    NodeSettings.Tls httpsTls = cfg.http().enabled() ? cfg.http().tls() : null;
    if ((binaryTls == null || !binaryTls.own()) && (httpsTls == null || !httpsTls.own())) {
      return java.util.Optional.empty();
    }
    List<String> hosts = new ArrayList<>();
    List<String> names = new ArrayList<>();
    if (binaryTls != null && binaryTls.own()) {
      hosts.add(cfg.binary().host());
      names.addAll(binaryTls.names());
    }
    if (httpsTls != null && httpsTls.own()) {
      hosts.add(cfg.http().host());
      names.addAll(httpsTls.names());
    }
    Set<String> all = NodeTls.names(hosts, names);
    return java.util.Optional.of(renew ? NodeTls.issue(r.store(), r.token(), keys, all, actor, Instant.now())
        : NodeTls.ensure(r.store(), r.token(), keys, all, actor, Instant.now()));
  }

  /** Says at start-up when archival would be refused: fewer valid recovery agents than the policy needs. */
  /** The administrative API over the node's services. */
  public static AdminApi adminApi(CaServices s) {
    return new AdminApi(s.approvals(), s.certificates(), s.revocation(), s.crls(), s.secrets(), s.roles(),
        s.audit(), s.agents(), s.archives(), s.recoveries(), s.catalog(), s.ceremonies());
  }

  /** The CMP responder over the node's services (what CMP needs of them, and the admin API). */
  public static CmpResponder responder(CaServices s, io.micrometer.core.instrument.MeterRegistry metrics) {
    AdminApi admin = adminApi(s);
    return new CmpResponder(s.identities(), s.secrets(), s.enrollment(), s.requestPolicy(), s.revocation(), s.crls(),
        s.keys(), admin, s.clock(), s.settings().timers().messageTimeSkew().toSeconds(), metrics, s.authFailures(),
        s.replays(), (s.settings().ca().oaepHash() == null ? org.keyarc.hsm.OaepHash.SHA1
        : s.settings().ca().oaepHash()).algorithmIdentifier());
  }

  private static void warnAboutAgents(AgentService service) throws CaException {
    var policy = service.policy();
    StringBuilder invalid = new StringBuilder();
    long valid = 0;
    for (AgentService.AgentStatus a : service.status()) {
      if (a.problem() == null) {
        valid++;
      } else {
        invalid.append("; ").append(a.agent().subject()).append(": ").append(a.problem());
      }
    }
    if (valid < policy.agents()) {
      LOG.warn("archival is refused until {} valid recovery agents are configured ({} valid{})", policy.agents(), valid,
          invalid);
    }
    for (String w : service.expiryWarnings()) {
      LOG.warn("{}", w);
    }
  }

  private static SslContext tlsContext(String field, NodeSettings.Tls cfg, CaKeyring keys, NodeTls.Key own)
      throws CaException {
    try {
      return org.keyarc.ca.net.TlsSupport.serverContext(cfg,
          keys.answering(java.time.Instant.now()).stream().map(CaKeyring.Generation::cert).toList(),
          own); // client certificates of any CA key still answering for what it signed
    } catch (javax.net.ssl.SSLException e) {
      throw new CaException(ErrorCode.CONFIG_INVALID, field + ": " + e.getMessage(), e);
    }
  }

  private void schedule(NodeSettings cfg, Readiness readiness) {
    // every node
    // the leader lock, given up while this node's store or token fails so that a working node leads
    every(Leadership.POLL_SECONDS, TimeUnit.SECONDS, "leader lock", () -> leadership.poll(readiness.partsWork()));
    readinessTimer.scheduleWithFixedDelay(() -> {
      try {
        readiness.check();
      } catch (Throwable e) {
        LOG.error("readiness check failed with {}", e.toString());
      }
    }, Readiness.CHECK_SECONDS, Readiness.CHECK_SECONDS, TimeUnit.SECONDS);
    // refusals' audit records that waited for the store, on every node (a node that does not lead checkpoints
    // nothing, but its records must not wait for traffic that a load balancer no longer sends it)
    every(5, TimeUnit.SECONDS, "audit backlog", services.audit()::drainBacklog);
    // another node's changes: at once through the store's change feed (PostgreSQL), and every few seconds anyway
    every(10, TimeUnit.SECONDS, "key refresh", () -> services.keys().refresh(services.store()));
    every(5, TimeUnit.SECONDS, "template refresh", services.catalog()::refresh);
    listenForChanges();
    // once across the cluster, by the leader
    leading(10, "certConf timeout", services.enrollment()::reapUnconfirmed);
    leading(cfg.timers().crlInterval().toSeconds(), "CRL", () -> services.crls().publish(Audit.NODE));
    if (services.crls().deltas()) {
      leading(cfg.timers().deltaCrlInterval().toSeconds(), "delta CRL", () -> services.crls().publishDelta(Audit.NODE));
    }
    leading(cfg.timers().auditCheckpoint().toSeconds(), "audit checkpoint", services.audit()::checkpoint);
    leading(3600, "exchange renewal", () -> services.exchange().renewIfDue(Audit.NODE));
    leading(3600, "exchange retirement", () -> services.exchange().retireExpired(Audit.NODE));
    leading(3600, "CMP responder renewal", () -> services.responder().renewIfDue(Audit.NODE));
    leading(60, "replay cache purge", services.replays()::purge);
    leading(24 * 3600, "agent expiry", () -> {
      warnAboutAgents(services.agents());
      return null;
    });
  }

  /**
   * A thread that waits on the store's change feed and refreshes what another node changed: the templates, the CA
   * keys. On the embedded store there is no feed (one node), and nothing is started.
   */
  private void listenForChanges() {
    changes = store.changeFeed();
    if (!changes.live()) {
      return;
    }
    changeListener = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        try {
          java.util.Set<String> topics = changes.await(java.time.Duration.ofSeconds(5));
          if (topics.contains(org.keyarc.ca.store.ChangeFeed.TEMPLATES)) {
            services.catalog().refresh();
          }
          if (topics.contains(org.keyarc.ca.store.ChangeFeed.KEYS)) {
            services.keys().refresh(services.store());
          }
        } catch (InterruptedException e) {
          return;
        } catch (Exception | Error e) {
          LOG.warn("taking up another node's change failed: {}; the periodic refresh goes on", e.toString());
        }
      }
    }, "keyarc-changes");
    changeListener.setDaemon(true);
    changeListener.start();
  }

  /** {@code task} every {@code seconds} on the node that leads (the only node, on the embedded store). */
  private void leading(long seconds, String what, Task task) {
    every(seconds, TimeUnit.SECONDS, what, () -> leadership.leader() ? task.run() : null);
  }

  /**
   * What the HTTP listener serves of the CA's certificates: the current one and the parents' above it (an external
   * parent's chain) at /ca-chain.pem, each CA key's by its number, and the rollovers' cross-certificates.
   */
  private static org.keyarc.ca.net.HttpServer.CaCertificates caChain(CaKeyring keys) {
    List<org.bouncycastle.cert.X509CertificateHolder> all = new java.util.ArrayList<>();
    all.add(keys.caCert());
    all.addAll(keys.chain());
    java.util.SortedMap<Integer, org.bouncycastle.cert.X509CertificateHolder> byNumber = new java.util.TreeMap<>();
    for (CaKeyring.Generation g : keys.generations()) {
      byNumber.put(g.number(), g.cert());
    }
    return new org.keyarc.ca.net.HttpServer.CaCertificates(all, byNumber, keys.crossCerts());
  }

  /** This node's name in logs and metrics: host name and process id. */
  private static String nodeId() {
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      host = "localhost";
    }
    return host + "/" + ProcessHandle.current().pid();
  }

  private interface Task {
    Object run() throws Exception;
  }

  private void every(long period, TimeUnit unit, String what, Task task) {
    timers.scheduleWithFixedDelay(() -> {
      try {
        task.run();
      } catch (Exception e) {
        LOG.warn("{} failed: {}", what, e.getMessage());
      } catch (Throwable e) {
        // anything escaping here would cancel the timer for good, silently: log it, and run again next period
        LOG.error("{} failed with {}; it runs again in {} {}", what, e, period, unit.toString().toLowerCase(), e);
      }
    }, period, period, unit);
  }

  /** The node's services (for the CLI's local commands and tests). */
  public CaServices services() {
    return services;
  }

  public int binaryPort() {
    return binary.port();
  }

  public int httpPort() {
    return http == null ? -1 : http.port();
  }

  /** The HTTPS listener's port, or -1 when it does not run. */
  public int httpsPort() {
    return https == null ? -1 : https.port();
  }

  /** Every listener, in the order they started. */
  public List<Listener> listeners() {
    return listeners;
  }

  /** The node's own TLS certificate, when a listener uses it. */
  public java.util.Optional<NodeTls.Current> tlsCertificate() {
    return java.util.Optional.ofNullable(tlsCert);
  }

  public String scrape() {
    return metrics.scrape();
  }

  /**
   * Waits (up to 10 s) until the requests already read are answered: no worker busy and no group commit queued or
   * running. An answer waiting for its commit is then built on a worker, not refused on the commit thread because
   * the workers had stopped.
   */
  private void drainInFlight() {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    java.util.concurrent.ThreadPoolExecutor pool = workers instanceof java.util.concurrent.ThreadPoolExecutor t ? t
        : null;
    while (System.nanoTime() < end) {
      boolean idle = store.awaitIdle(java.time.Duration.ofSeconds(1));
      if (idle && (pool == null || (pool.getActiveCount() == 0 && pool.getQueue().isEmpty()))
          && store.awaitIdle(java.time.Duration.ZERO)) {
        return;
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    LOG.warn("requests still in flight after 10 s at shutdown; their answers are lost with the connections");
  }

  @Override
  public void close() {
    binary.close();
    if (http != null) {
      http.close();
    }
    if (https != null) {
      https.close();
    }
    drainInFlight(); // the listeners are closed; the connections stay open until what they sent is answered
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    io.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    timers.shutdownNow();
    readinessTimer.shutdownNow();
    if (changeListener != null) {
      changeListener.interrupt();
    }
    changes.close();
    Metrics.removeRegistry(metrics);
    workers.shutdown();
    try {
      workers.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    services.audit().drainBacklog(); // every node: its waiting refusal records go to the store before it closes
    if (leadership.leader()) { // a node that does not lead leaves its last records to the leader's checkpoint
      try {
        services.audit().checkpoint();
      } catch (CaException e) {
        LOG.warn("last audit checkpoint failed: {}", e.getMessage());
      }
    }
    leadership.close();
    if (tlsKey != null) {
      tlsKey.close();
    }
    store.close();
    HsmToken archival = services.keys().exchangeToken();
    if (archival != token) {
      archival.close();
    }
    token.close();
    module.close();
  }
}
