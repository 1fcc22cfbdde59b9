package org.keyarc.ca.node;

import io.micrometer.core.instrument.Gauge;
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
import org.keyarc.ca.kra.AgentService;
import org.keyarc.ca.net.BinaryServer;
import org.keyarc.ca.net.HttpServer;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.store.jdbc.JdbcStore;
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
 * publication, certConf timeout, exchange-key renewal, audit checkpoints). {@link #close()} stops the
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
  private final PrometheusMeterRegistry metrics;

  private CaNode(HsmModule module, HsmToken token, Store store, CaServices services, ExecutorService workers,
      ScheduledExecutorService timers, EventLoopGroup boss, EventLoopGroup io, BinaryServer binary, HttpServer http,
      PrometheusMeterRegistry metrics) {
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
    this.metrics = metrics;
  }

  /** The CA token and the store, opened from the configuration (for local commands and the node). */
  public record Resources(HsmModule module, HsmToken token, Store store) implements AutoCloseable {
    @Override
    public void close() {
      store.close();
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
    HsmModule module;
    try {
      module = HsmModule.load(cfg.hsm().module());
    } catch (HsmException e) {
      throw new CaException(ErrorCode.of(e.reason()), e.getMessage(), e);
    }
    char[] pin = null;
    try {
      pin = readPin(cfg.hsm(), env);
      HsmToken token = module.openToken(TokenSelector.parse(cfg.hsm().token()), pin, cfg.hsm().sessions());
      try {
        return new Resources(module, token, openStore(cfg));
      } catch (CaException | RuntimeException e) {
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
    String url = cfg.store().url();
    if (url == null) {
      try {
        Files.createDirectories(cfg.dataDir());
      } catch (IOException e) {
        throw new CaException(ErrorCode.STORE_ERROR, "cannot create dataDir " + cfg.dataDir() + ": " + e.getMessage());
      }
      url = JdbcStore.embeddedUrl(cfg.dataDir());
    }
    char[] password = null;
    if (cfg.store().passwordFile() != null) {
      try {
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

  /** Starts a node: opens everything, binds both listeners, starts the timers. */
  public static CaNode start(NodeConfig config) throws CaException {
    NodeSettings cfg = config.settings();
    Resources r = open(cfg, Environment.system());
    try {
      return start(cfg, r);
    } catch (CaException | RuntimeException e) {
      r.close();
      throw e;
    }
  }

  private static CaNode start(NodeSettings cfg, Resources r) throws CaException {
    CaKeyring keys = CaKeyring.load(r.store(), r.token());
    CaServices service = CaServices.wire(cfg, r.store(), keys, Templates.of(cfg.templates()),
        Clock.systemUTC());
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(metrics);
    Gauge.builder("keyarc.hsm.sessions.in.use", r.token(), HsmToken::sessionsInUse).register(metrics);
    service.audit().checkAnchor();
    service.audit().recordConfiguration(cfg.effectiveJson());
    warnAboutAgents(service.agents());
    service.exchange().renewIfDue(Audit.NODE);
    CmpResponder responder = responder(service, metrics);
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
    try {
      SslContext tls = cfg.binary().tls() == null ? null : tlsContext(cfg.binary().tls(), keys);
      binary = BinaryServer.start(cfg.binary(), responder, workers, boss, io, tls);
      LOG.info("keyarc CA node '{}': binary CMP on {}://{}:{} (frames up to {} bytes)", keys.caName(),
          tls == null ? "tcp" : "tls", cfg.binary().host(), binary.port(), cfg.binary().maxFrameBytes());
      if (cfg.http().enabled()) {
        http = HttpServer.start(cfg.http(), responder, service.crls(), keys.caCert(), metrics::scrape, workers, boss, io);
        LOG.info("keyarc CA node '{}': HTTP CMP on http://{}:{}/ (GET /crl, /ca.crt, /metrics)", keys.caName(),
            cfg.http().host(), http.port());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CaException(ErrorCode.NODE_UNAVAILABLE, "interrupted while binding the listeners");
    } catch (RuntimeException e) {
      if (binary != null) {
        binary.close();
      }
      boss.shutdownGracefully();
      io.shutdownGracefully();
      workers.shutdownNow();
      timers.shutdownNow();
      throw new CaException(ErrorCode.CONFIG_INVALID, "cannot listen: " + e.getMessage(), e);
    }
    CaNode node = new CaNode(r.module(), r.token(), r.store(), service, workers, timers, boss, io, binary, http,
        metrics);
    node.schedule(cfg);
    return node;
  }

  /** Says at start-up when archival would be refused: fewer valid recovery agents than the policy needs. */
  /** The CMP responder over the node's services (what CMP needs of them, and the admin API). */
  public static CmpResponder responder(CaServices s, io.micrometer.core.instrument.MeterRegistry metrics) {
    AdminApi admin = new AdminApi(s.approvals(), s.certificates(), s.revocation(), s.crls(), s.secrets(), s.roles(),
        s.audit(), s.agents(), s.archives(), s.recoveries());
    return new CmpResponder(s.identities(), s.secrets(), s.enrollment(), s.requestPolicy(), s.revocation(), s.crls(),
        s.keys(), admin, s.clock(), s.settings().timers().messageTimeSkew().toSeconds(), metrics);
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
  }

  private static SslContext tlsContext(NodeSettings.Tls cfg, CaKeyring keys) throws CaException {
    try {
      return org.keyarc.ca.net.TlsSupport.serverContext(cfg, keys.caCert());
    } catch (javax.net.ssl.SSLException e) {
      throw new CaException(ErrorCode.CONFIG_INVALID, "binary.tls: " + e.getMessage(), e);
    }
  }

  private void schedule(NodeSettings cfg) {
    every(10, TimeUnit.SECONDS, "certConf timeout", services.enrollment()::reapUnconfirmed);
    every(cfg.timers().crlInterval().toSeconds(), TimeUnit.SECONDS, "CRL", () -> services.crls().publish(Audit.NODE));
    every(cfg.timers().auditCheckpoint().toSeconds(), TimeUnit.SECONDS, "audit checkpoint", services.audit()::checkpoint);
    every(3600, TimeUnit.SECONDS, "exchange renewal", () -> services.exchange().renewIfDue(Audit.NODE));
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

  public String scrape() {
    return metrics.scrape();
  }

  @Override
  public void close() {
    binary.close();
    if (http != null) {
      http.close();
    }
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    io.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    timers.shutdownNow();
    workers.shutdown();
    try {
      workers.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      services.audit().checkpoint();
    } catch (CaException e) {
      LOG.warn("last audit checkpoint failed: {}", e.getMessage());
    }
    store.close();
    token.close();
    module.close();
  }
}
