package org.keyarc.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.config.ConfigException;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.config.X500Subject;
import org.keyarc.ca.keys.CaInit;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.kra.AgentService;
import org.keyarc.ca.node.CaInfo;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.node.CaServices;
import org.keyarc.ca.store.CaKeyStore;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.RoleStore;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.template.Template;
import org.keyarc.ca.template.Templates;
import org.keyarc.protocol.ErrorCode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code keyarc ca init|import-cert|info|serve}: the CA administrator's commands on the CA host. */
@Command(name = "ca", description = "Initialise, inspect and run the CA node (on the CA host, with the CA token).",
    mixinStandardHelpOptions = true)
final class CaCommand {
  @Spec
  CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE", scope = picocli.CommandLine.ScopeType.INHERIT,
      description = "node configuration (YAML); default $KEYARC_HOME/ca.yaml, else the embedded defaults")
  Path config;

  @Command(name = "init", description = "Create the CA key pair in the CA token, a self-signed root (or a PKCS#10 "
      + "for an external parent), the exchange key and certificate, the audit and secret keys.")
  int init(
      @Option(names = "--subject", paramLabel = "DN", description = "CA subject (default from the configuration)")
          String subject,
      @Option(names = "--key-type", paramLabel = "TYPE", description = "p256 (default), p384, rsa2048, rsa3072, "
          + "rsa4096") String keyType,
      @Option(names = "--external-parent", paramLabel = "CSR-FILE", description = "write a PKCS#10 for a parent CA to "
          + "this file instead of self-signing; then run 'keyarc ca import-cert'") Path csrOut,
      @Option(names = "--admin", paramLabel = "DN", description = "print a one-time secret for the first "
          + "administrator's first certificate (template User); the administrator role is bound to that "
          + "certificate's key when it is issued") String admin,
      @Option(names = "--force", description = "overwrite an existing CSR file or $KEYARC_HOME/ca.crt")
          boolean force) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    NodeConfig cfg = CliFiles.config(config);
    if (subject != null) {
      cfg.ca.subject = subject;
    }
    if (keyType != null) {
      cfg.ca.keyType = keyType;
    }
    validate(cfg);
    if (csrOut != null) {
      CliFiles.checkWritable(csrOut, force);
    }
    try (CaNode.Resources r = CaNode.open(cfg)) {
      CaInit.Result res = CaInit.init(r.store(), r.token(), r.archival(), cfg.settings().ca(), csrOut != null, admin);
      out.println("CA key        " + cfg.ca.keyType + " in token " + r.token().label() + " (label "
          + CaKeyring.CA_KEY_LABEL + ", sensitive, not extractable)");
      out.println("audit key     EC P-256 in token " + r.token().label() + " (label " + CaKeyring.AUDIT_KEY_LABEL + ")");
      out.println("store         " + r.store().product() + (cfg.store.url == null ? " in " + cfg.dataDir : ""));
      if (res.csr() != null) {
        CliFiles.write(csrOut, CliFiles.pem(res.csr()).getBytes(StandardCharsets.US_ASCII), false, force);
        out.println("CSR           " + csrOut + " (have the parent CA sign it, then: keyarc ca import-cert --cert FILE)");
        return 0;
      }
      printCa(out, res.caCert(), res.exchangeCert());
      printTls(out, cfg, r);
      Path caFile = CliFiles.defaultCaCert();
      CliFiles.write(caFile, CliFiles.pem(res.caCert()).getBytes(StandardCharsets.US_ASCII), false, true);
      out.println("wrote         " + caFile + " (clients' trust anchor, also for TLS)");
      if (admin != null) {
        printAdminSecret(out, cfg, r, admin);
      }
    }
    return 0;
  }

  /** Issues the node's own TLS certificate (when a listener uses it) and says so. */
  private static void printTls(PrintWriter out, NodeConfig cfg, CaNode.Resources r) throws CaException,
      ConfigException {
    var tls = CaNode.ensureTlsCertificate(cfg.settings(), r, r.keyring(),
        "local-operator");
    tls.ifPresent(t -> out.println("TLS cert      serial " + Digests.hex(t.cert().getSerialNumber()) + " for "
        + String.join(", ", t.names()) + ", until " + t.cert().getNotAfter().toInstant() + " (key " + t.label()
        + " in token " + r.token().label() + ")"));
  }

  /** SHA-256 of a certificate's DER, as openssl x509 -fingerprint -sha256 prints it (AB:CD:...). */
  static String fingerprint(X509CertificateHolder cert) {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
      return java.util.HexFormat.ofDelimiter(":").withUpperCase().formatHex(d);
    } catch (java.security.NoSuchAlgorithmException | java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void printAdminSecret(PrintWriter out, NodeConfig cfg, CaNode.Resources r, String admin)
      throws CaException {
    CaServices services = CaServices.wire(cfg.settings(), r.store(), r.keyring(),
        Templates.of(cfg.configuredTemplates()), java.time.Clock.systemUTC());
    SecretService.NewSecret s = services.secrets().createGranting(Identity.localOperator(), Templates.USER,
        X500Subject.parse(admin), Role.ADMINISTRATOR);
    out.println();
    out.println("administrator " + s.subject() + " (the role is bound to the key of the first certificate issued "
        + "from this secret)");
    out.println("  one-time secret for the administrator's first certificate (shown once, expires " + s.expires() + "):");
    out.println("  reference   " + s.reference());
    out.println("  secret      " + new String(s.secret()));
    java.util.Arrays.fill(s.secret(), '\0');
  }

  @Command(name = "admin-secret", description = "On the CA host, with the CA token: a new one-time secret whose first "
      + "certificate gets the administrator role (when the secret of 'ca init --admin' expired or was lost). The "
      + "name must not hold a role or a valid certificate yet.")
  int adminSecret(@Option(names = "--admin", required = true, paramLabel = "DN") String admin) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    NodeConfig cfg = CliFiles.config(config);
    try (CaNode.Resources r = CaNode.open(cfg)) {
      printAdminSecret(out, cfg, r, admin);
    }
    return 0;
  }

  @Command(name = "import-cert", description = "Import the CA certificate an external parent issued for the CA key, "
      + "with the parents' certificates above it (--chain): it must be a CA certificate for the CA key, valid now, "
      + "and the chain must lead to a self-signed root.")
  int importCert(@Option(names = "--cert", required = true, paramLabel = "FILE") Path cert,
      @Option(names = "--chain", paramLabel = "FILE", description = "PEM file of the parent CAs' certificates, the "
          + "issuer first and the root last; served at /ca-chain.pem and put into recovered PKCS#12 files") Path chain)
      throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    NodeConfig cfg = CliFiles.config(config);
    X509CertificateHolder holder = CliFiles.readCertificate(cert);
    java.util.List<X509CertificateHolder> parents = chain == null ? java.util.List.of() : CliFiles.readCertificates(chain);
    try (CaNode.Resources r = CaNode.open(cfg)) {
      X509CertificateHolder exchange = CaInit.importCertificate(r.store(), r.token(), r.archival(), cfg.settings().ca(), holder,
          parents);
      if (parents.isEmpty()) {
        out.println("note          no --chain: relying parties need the parent CAs' certificates from elsewhere");
      }
      printCa(out, holder, exchange);
      printTls(out, cfg, r);
      CliFiles.write(CliFiles.defaultCaCert(), CliFiles.pem(holder).getBytes(StandardCharsets.US_ASCII), false, true);
      out.println("wrote         " + CliFiles.defaultCaCert());
    }
    return 0;
  }

  @Command(name = "renew", description = "Renew the CA certificate with the same key: a self-signed root gets a new "
      + "certificate now (ca.validityYears from today); under an external parent, --csr writes the request the parent "
      + "signs, then 'keyarc ca import-cert'. Certificates and CRLs signed before verify under either certificate; "
      + "the nodes use the new one from their next start.")
  int renew(@Option(names = "--csr", paramLabel = "FILE", description = "write a PKCS#10 for the CA key and name "
      + "(under an external parent)") Path csrOut,
      @Option(names = "--force", description = "overwrite the --csr file") boolean force) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    NodeConfig cfg = CliFiles.config(config);
    try (CaNode.Resources r = CaNode.open(cfg)) {
      if (csrOut != null) {
        CliFiles.checkWritable(csrOut, force);
        writeCsr(out, csrOut, force, CaInit.renewalRequest(r.store(), r.token(), r.archival()), "");
        return 0;
      }
      X509CertificateHolder cert = CaInit.renew(r.store(), r.token(), r.archival(), cfg.settings().ca());
      printCa(out, cert, null);
      CliFiles.write(CliFiles.defaultCaCert(), CliFiles.pem(cert).getBytes(StandardCharsets.US_ASCII), false, true);
      out.println("wrote         " + CliFiles.defaultCaCert() + " (restart the nodes to serve it)");
    }
    return 0;
  }

  @Command(name = "rollover", description = "Roll the CA over to a new key under the same name: a self-signed root gets "
      + "a new key, its certificate and the two cross-certificates (NewWithOld, OldWithNew; at /ca-certs.pem); under an "
      + "external parent, --csr writes the new key's request, then 'keyarc ca import-cert'. From the nodes' next start "
      + "the new key signs; the old one keeps publishing its CRL (/crl) and OCSP answers for what it issued until its "
      + "certificate ends. The new key's CRL is at /crl/N, its certificate at /ca.crt/N.")
  int rollover(@Option(names = "--csr", paramLabel = "FILE", description = "write a PKCS#10 for a new CA key "
      + "(under an external parent; asked again before the import, for the same waiting key)") Path csrOut,
      @Option(names = "--force", description = "overwrite the --csr file") boolean force) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    NodeConfig cfg = CliFiles.config(config);
    try (CaNode.Resources r = CaNode.open(cfg)) {
      if (csrOut != null) {
        CliFiles.checkWritable(csrOut, force);
        writeCsr(out, csrOut, force, CaInit.rolloverRequest(r.store(), r.token(), r.archival(), cfg.settings().ca()),
            " for a new CA key");
        return 0;
      }
      CaInit.Rollover done = CaInit.rollover(r.store(), r.token(), r.archival(), cfg.settings().ca());
      printCa(out, done.caCert(), null);
      out.println("CA key        " + done.generation() + " (new), CRL at /crl/" + done.generation() + ", certificate at "
          + "/ca.crt/" + done.generation());
      out.println("cross certs   NewWithOld serial " + Digests.hex(done.newWithOld().getSerialNumber()) + ", OldWithNew "
          + "serial " + Digests.hex(done.oldWithNew().getSerialNumber()) + ", until "
          + done.newWithOld().getNotAfter().toInstant() + " (served at /ca-certs.pem)");
      out.println("CA SHA-256    " + fingerprint(done.caCert()));
      // every CA key's certificate, the new one first: tools that read one take the new, recovery takes all
      java.util.List<CaKeyring.Generation> all = r.keyring().generations();
      StringBuilder bundle = new StringBuilder();
      for (int i = all.size() - 1; i >= 0; i--) {
        bundle.append(CliFiles.pem(all.get(i).cert()));
      }
      CliFiles.write(CliFiles.defaultCaCert(), bundle.toString().getBytes(StandardCharsets.US_ASCII), false, true);
      out.println("wrote         " + CliFiles.defaultCaCert() + " (every CA key's certificate, the new one first; "
          + "restart the nodes to sign with the new key; give relying parties and recovery agents /ca-certs.pem)");
    }
    return 0;
  }

  @Command(name = "renew-tls", description = "Make a new TLS key in the CA token and its certificate for the node's "
      + "listeners now (ca serve also does it when the certificate is missing, ends within 30 days or lacks a "
      + "configured host); a running node uses it from its next start.")
  int renewTls() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    NodeConfig cfg = CliFiles.config(config);
    validate(cfg);
    try (CaNode.Resources r = CaNode.open(cfg)) {
      var t = CaNode.renewTlsCertificate(cfg.settings(), r, r.keyring(), "local-operator");
      out.println("TLS cert      serial " + Digests.hex(t.cert().getSerialNumber()) + " for "
          + String.join(", ", t.names()) + ", until " + t.cert().getNotAfter().toInstant() + " (key " + t.label()
          + " in token " + r.token().label() + ")");
    }
    return 0;
  }

  @Command(name = "info", description = "Show the CA certificate, the exchange certificates, the keys, the "
      + "templates and the store.")
  int info() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    NodeConfig cfg = CliFiles.config(config);
    try (CaNode.Resources r = CaNode.open(cfg)) {
      CaInfo info = CaInfo.read(cfg, r);
      X509CertificateHolder caCert = info.caCert();
      out.println("CA            " + caCert.getSubject());
      out.println("  serial      " + Digests.hex(caCert.getSerialNumber()));
      out.println("  valid       " + caCert.getNotBefore().toInstant() + " .. " + caCert.getNotAfter().toInstant());
      out.println("  issuer      " + caCert.getIssuer()
          + (caCert.getIssuer().equals(caCert.getSubject()) ? " (self-signed root)" : ""));
      out.println("  key         " + info.caKeyLabel() + " in token " + info.tokenLabel() + ", " + info.caAlgorithm());
      if (info.generations().size() > 1) {
        out.println("CA keys       (rollovers: each answers for what it issued until its certificate ends)");
        for (CaKeyring.Generation g : info.generations()) {
          out.printf("  %-3d %-36s serial %s  until %s%s%n", g.number(), g.label(), Digests.hex(g.cert()
              .getSerialNumber()), g.cert().getNotAfter().toInstant(), g.number() == info.generations()
              .get(info.generations().size() - 1).number() ? "  (signs now)" : "");
        }
      }
      out.println("exchange certificates (newest first; old ones kept to decrypt in-flight requests)");
      for (CaKeyring.Exchange e : info.exchanges()) {
        out.printf("  %-24s serial %s  until %s%s%n", e.label(), Digests.hex(e.cert().getSerialNumber()),
            e.cert().getNotAfter().toInstant(),
            info.currentExchange().map(c -> c.equals(e.label())).orElse(false) ? "  (current)" : "");
      }
      out.println("audit key     " + CaKeyring.AUDIT_KEY_LABEL + " (EC P-256), secret key " + CaKeyring.MAC_KEY_LABEL);
      out.println("store         " + info.storeProduct() + ", " + info.certificates() + " certificates");
      out.println("listeners     binary " + (cfg.binary.tls.enabled ? "tls://" : "tcp://") + cfg.binary.host + ":"
          + cfg.binary.port + (cfg.http.enabled && cfg.http.tls.enabled ? ", HTTPS https://" + cfg.http.host + ":"
          + cfg.http.tlsPort() + "/" : "") + (cfg.http.enabled ? ", HTTP http://" + cfg.http.host + ":" + cfg.http.port
          + "/ (plain)" : ""));
      out.println("CA SHA-256    " + fingerprint(caCert));
      out.println("templates");
      for (Template t : info.templates()) {
        out.printf("  %-20s %4d days%s%s%n", t.name(), t.validity().toDays(),
            t.requiresApproval() ? "  requires approval" : "", t.archivePrivateKey() ? "  archives the private key" : "");
        out.println("    enroll with  " + t.enrollers().describe());
        out.println("    names        " + t.subjectAltNames().describe());
      }
      out.println("roles (each bound to the key of one certificate)");
      for (RoleStore.Member m : info.roles()) {
        out.printf("  %-14s %s  (certificate %s)%n", m.role().name().toLowerCase(), m.subject(), m.certSerial());
      }
      for (RoleStore.Pending p : info.pendingRoles()) {
        out.printf("  %-14s %s  (waits for the first certificate from secret %s)%n", p.role().name().toLowerCase(),
            p.subject(), p.secretReference());
      }
      var policy = info.policy();
      var agents = info.agents();
      long valid = agents.stream().filter(a -> a.problem() == null).count();
      out.println("recovery agents (archival policy: " + policy.threshold() + " of " + policy.agents() + ")");
      for (AgentService.AgentStatus a : agents) {
        out.printf("  %-42s %-28s %s%n", Digests.hex(a.agent().serial()), a.agent().subject(),
            a.problem() == null ? "valid" : "INVALID: " + a.problem());
      }
      if (valid < policy.agents()) {
        out.println("  WARNING: " + valid + " valid agents, the policy needs " + policy.agents()
            + ": archival requests are refused");
      }
    }
    return 0;
  }

  @Command(name = "compact", description = "With the node stopped: rewrite the embedded store's file with its live "
      + "data only (the file grows with every certificate while the node runs).")
  int compact() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    var settings = CliFiles.config(config).settings();
    if (settings.store().url() != null) {
      throw new CaException(ErrorCode.BAD_REQUEST, "ca compact is for the embedded store; this node's store is "
          + "store.url (PostgreSQL reclaims space with VACUUM)");
    }
    var done = org.keyarc.ca.store.jdbc.JdbcStore.compactEmbedded(settings.dataDir(), settings.store().user());
    out.printf("compacted %s: %,d KB -> %,d KB%n", done.file(), done.before() / 1024, done.after() / 1024);
    return 0;
  }

  @Command(name = "serve", description = "Run the CA node until interrupted (Ctrl-C or SIGTERM).")
  int serve(
      @Option(names = "--init", description = "first initialise a root CA (as 'ca init') if the store holds none")
          boolean init,
      @Option(names = "--admin", paramLabel = "DN", description = "with --init: the first administrator")
          String admin) throws Exception {
    NodeConfig cfg = CliFiles.config(config);
    validate(cfg);
    if (init) {
      if (!CaInfo.initialised(cfg)) {
        int rc = init(null, null, null, admin, false);
        if (rc != 0) {
          return rc;
        }
      } else {
        spec.commandLine().getOut().println("CA already initialised: " + CliFiles.defaultCaCert());
      }
    } else if (admin != null) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--admin needs --init (or use 'keyarc role grant')");
    }
    spec.commandLine().getOut().flush();
    CaNode node = CaNode.start(cfg);
    printListeners(spec.commandLine().getOut(), node);
    spec.commandLine().getOut().println("stop with Ctrl-C or SIGTERM");
    spec.commandLine().getOut().flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      node.close();
      stopped.countDown();
    }, "keyarc-shutdown"));
    stopped.await();
    return 0;
  }

  /**
   * What a person starting the node must see, on standard output whatever the log level: each listener with
   * whether it is TLS, the CA certificate's SHA-256 fingerprint (to check $KEYARC_HOME/ca.crt against), the node's
   * TLS certificate.
   */
  static void printListeners(PrintWriter out, CaNode node) {
    X509CertificateHolder ca = node.services().keys().caCert();
    out.println("keyarc CA node '" + ca.getSubject() + "' is running");
    for (CaNode.Listener l : node.listeners()) {
      out.printf("  %-12s %-30s %s%n", l.name(), l.url(), l.serves());
    }
    out.println("  CA SHA-256   " + fingerprint(ca));
    node.tlsCertificate().ifPresent(t -> out.println("  TLS cert     serial " + Digests.hex(t.cert().getSerialNumber())
        + " for " + String.join(", ", t.names()) + ", until " + t.cert().getNotAfter().toInstant()
        + " (key in the CA token)"));
    out.flush();
  }

  private static void validate(NodeConfig cfg) throws Keyarc.UserException {
    try {
      cfg.validate();
    } catch (ConfigException e) {
      throw new Keyarc.UserException(ErrorCode.CONFIG_INVALID, e.getMessage());
    }
  }

  /** Writes a CA request for the external parent and says what comes next. */
  private static void writeCsr(PrintWriter out, Path file, boolean force,
      org.bouncycastle.pkcs.PKCS10CertificationRequest csr, String what) throws Exception {
    CliFiles.write(file, CliFiles.pem(csr).getBytes(StandardCharsets.US_ASCII), false, force);
    out.println("CSR           " + file + what + " (have the parent CA sign it, then: keyarc ca import-cert --cert "
        + "FILE --chain FILE)");
  }

  private static void printCa(PrintWriter out, X509CertificateHolder ca, X509CertificateHolder exchange) {
    out.println("CA cert       " + ca.getSubject() + ", serial " + Digests.hex(ca.getSerialNumber()) + ", until "
        + ca.getNotAfter().toInstant());
    if (exchange != null) {
      out.println("exchange cert serial " + Digests.hex(exchange.getSerialNumber()) + ", RSA, unwrap only, until "
          + exchange.getNotAfter().toInstant());
    }
  }
}
