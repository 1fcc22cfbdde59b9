package org.keyarc.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.node.CaNode;
import org.keyarc.protocol.ErrorCode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code keyarc demo}: the seed's whole story on the embedded defaults, with no input. A CA in the
 * SoftHSM2 "HSM", three recovery agents whose keys are born on their SoftHSM2 "smartcards", 2-of-3
 * archival of a user's key, the key lost, fetched by a certificate manager and recovered with two
 * cards into a PKCS#12 that OpenSSL checks against the certificate. Every step runs the same
 * {@code keyarc} commands a person would type; the node runs in this process on free ports.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Tell the seed's story end to end: CA, "
    + "agent smartcards, 2-of-3 archival, lost key, getkey, recovery with two cards, PKCS#12 checked by OpenSSL. "
    + "./keyarc demo runs it in a fresh $KEYARC_HOME/demo.")
final class DemoCommand implements java.util.concurrent.Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--ca-token", defaultValue = "keyarc-ca", description = "the CA's token label")
  String caToken;

  @Option(names = "--cards", defaultValue = "kra-1,kra-2,kra-3", split = ",", description = "the agents' card labels")
  List<String> cards;

  private PrintWriter out;
  private Path home;
  private final Map<Path, String> written = new LinkedHashMap<>();
  private int step;

  @Override
  public Integer call() throws Exception {
    out = spec.commandLine().getOut();
    home = CliFiles.home();
    Files.createDirectories(home);
    String module = System.getenv().getOrDefault("KEYARC_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so");
    Path pins = Path.of(System.getenv().getOrDefault("KEYARC_PIN_DIR", home.resolve("softhsm/pins").toString()));
    if (Files.exists(home.resolve("ca"))) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, home + " already holds a CA; the demo starts from a clean "
          + "folder (./keyarc demo makes a fresh $KEYARC_HOME/demo each time)");
    }

    heading("The HSM and the agents' smartcards (SoftHSM2 tokens)");
    run("hsm", "info", "--module", module, "--token", caToken, "--pin-file", pins.resolve(caToken + ".pin").toString());

    heading("The CA administrator initialises the CA inside the HSM");
    Path config = home.resolve("ca.yaml");
    Files.writeString(config, String.join("\n", "# written by keyarc demo", "dataDir: " + home.resolve("ca"), "hsm:",
        "  module: " + module, "  token: " + caToken, "  pinFile: " + pins.resolve(caToken + ".pin"), "binary:",
        "  port: 0", "http:", "  port: 0", "ca:", "  subject: CN=KeyArc Demo CA, O=keyarc", "timers:",
        "  pollIntervalSeconds: 1", ""));
    written.put(config, "the node's configuration");
    Run init = run("ca", "init", "--config", config.toString(), "--admin", "CN=Ada Admin");
    written.put(CliFiles.defaultCaCert(), "the CA certificate");

    heading("The CA node starts: binary CMP over TLS, HTTPS, and plain HTTP for CRLs and openssl cmp (free ports)");
    try (CaNode node = CaNode.start(NodeConfig.load(config))) {
      StringWriter listeners = new StringWriter();
      CaCommand.printListeners(new PrintWriter(listeners, true), node);
      listeners.toString().lines().forEach(this::say);
      String url = "tls://127.0.0.1:" + node.binaryPort();
      say("every command below talks TLS to " + url + ", trusting only " + CliFiles.defaultCaCert()
          + ", and checks that the node's certificate names 127.0.0.1");

      heading("Ada (administrator) enrolls with her one-time secret; she names a certificate manager");
      String[] ada = enroll(url, "ada", field(init.out, "reference"), field(init.out, "secret"), null);
      String[] asAda = {"--node", url, "--cert", ada[0], "--key", ada[1]};
      Run ms = run(cat(asAda, "secret", "create", "--template", "User", "--subject", "CN=Max Manager"));
      String[] max = enroll(url, "max", field(ms.out, "reference"), field(ms.out, "secret"), null);
      run(cat(asAda, "role", "grant", "--role", "manager", max[0]));
      String[] asMax = {"--node", url, "--cert", max[0], "--key", max[1]};

      heading("Three recovery agents make their keys ON THEIR CARDS; Ada asks, the manager approves (four eyes)");
      List<String> agentSerials = new ArrayList<>();
      for (int i = 0; i < cards.size(); i++) {
        String card = cards.get(i);
        String agent = "CN=Agent " + (i + 1);
        Run s = run(cat(asAda, "secret", "create", "--template", "KeyRecoveryAgent", "--subject", agent));
        Path secret = secretFile("agent-" + (i + 1), field(s.out, "secret"));
        String[] cardOpts = {"--module", module, "--token", card, "--pin-file", pins.resolve(card + ".pin").toString()};
        run(cat(cat(cardOpts, "--node", url, "--ref", field(s.out, "reference"), "--secret-file", secret.toString(),
            "--subject", agent), "kra", "init-card"));
        Run list = run(cat(asMax, "request", "list"));
        Matcher id = Pattern.compile("(?m)^(\\d+)\\s+pending\\s+KeyRecoveryAgent\\s+" + Pattern.quote(agent))
            .matcher(list.out);
        if (!id.find()) {
          throw new IllegalStateException("the agent request is not pending");
        }
        run(cat(asMax, "request", "approve", id.group(1)));
        Run got = run(cat(cat(cardOpts, "--node", url, "--ref", field(s.out, "reference"), "--secret-file",
            secret.toString(), "--resume"), "kra", "init-card"));
        agentSerials.add(got.out.replaceAll("(?s).*serial ([0-9a-f]+),.*", "$1"));
      }

      heading("Ada lists the agents and sets the policy: each key for 3 agents, any 2 recover it");
      for (String serial : agentSerials) {
        run(cat(asAda, "kra", "add", "--serial", serial));
      }
      run(cat(asAda, "kra", "policy", "--agents", "3", "--threshold", "2"));
      run(cat(asAda, "kra", "list"));

      heading("The user MSEXCHANGEORG enrolls on \"ExchangeUserKeyArc\" (S/MIME, the e-mail address bound to the "
          + "secret): the private key is archived first");
      Run us = run(cat(asMax, "secret", "create", "--template", "ExchangeUserKeyArc", "--subject", "CN=MSEXCHANGEORG",
          "--email", "msexchangeorg@keyarc.example"));
      String[] user = enroll(url, "msexchangeorg", field(us.out, "reference"), field(us.out, "secret"), "rsa2048");
      Path userKey = Path.of(user[1]);
      Path keptCopy = home.resolve("msexchangeorg.key.before-loss");
      Files.copy(userKey, keptCopy);
      Files.setPosixFilePermissions(keptCopy, PosixFilePermissions.fromString("rw-------"));
      written.put(keptCopy, "a copy of the user's key, kept only so the demo can compare at the end");

      heading("The user loses the key");
      Files.delete(userKey);
      written.remove(userKey);
      say("deleted " + userKey);

      heading("The certificate manager fetches the archived key (getkey): ciphertext he cannot open");
      String serial = CliFiles.readCertificate(Path.of(user[0])).getSerialNumber().toString(16);
      Path blob = home.resolve("msexchangeorg.blob");
      run(cat(asMax, "getkey", "--serial", serial, "--out", blob.toString()));
      written.put(blob, "the CA-signed recovery blob (getkey)");

      heading("Agent 1 inserts card " + cards.get(0) + " and does the first step");
      Path step1 = home.resolve("msexchangeorg.step1");
      run("recoverkey", blob.toString(), "--module", module, "--token", cards.get(0), "--pin-file",
          pins.resolve(cards.get(0) + ".pin").toString(), "--next", step1.toString());
      written.put(step1, "agent 1's partial recovery (useless without a second card)");

      heading("Agent 3 inserts card " + cards.get(2) + ": the second card reaches the threshold, the PKCS#12 is written");
      Path p12 = home.resolve("msexchangeorg.p12");
      Path password = secretFile("p12-password", HexFormat.of().formatHex(random(12)));
      run("recoverkey", step1.toString(), "--module", module, "--token", cards.get(2), "--pin-file",
          pins.resolve(cards.get(2) + ".pin").toString(), "--out", p12.toString(), "--password-file",
          password.toString());
      written.put(p12, "the recovered key and certificate (PKCS#12, mode 0600)");
      written.put(password, "its password (mode 0600)");

      heading("OpenSSL checks the PKCS#12 and that the recovered key is the user's");
      String info = openssl("pkcs12", "-in", p12.toString(), "-info", "-noout", "-passin", "file:" + password);
      info.lines().filter(l -> l.contains("PBES2") || l.contains("MAC")).forEach(l -> say("openssl: " + l.trim()));
      Path recovered = home.resolve("msexchangeorg.recovered-key.pem");
      openssl("pkcs12", "-in", p12.toString(), "-nocerts", "-nodes", "-passin", "file:" + password, "-out",
          recovered.toString());
      Files.setPosixFilePermissions(recovered, PosixFilePermissions.fromString("rw-------"));
      written.put(recovered, "the recovered key extracted by openssl (mode 0600)");
      String fromCert = openssl("x509", "-in", user[0], "-noout", "-pubkey").trim();
      String fromRecovered = openssl("pkey", "-in", recovered.toString(), "-pubout").trim();
      String fromOriginal = openssl("pkey", "-in", keptCopy.toString(), "-pubout").trim();
      if (!fromCert.equals(fromRecovered) || !fromOriginal.equals(fromRecovered)) {
        throw new IllegalStateException("the recovered key does not match the certificate");
      }
      say("openssl x509 -pubkey and openssl pkey -pubout agree: the recovered key is the certificate's key");

      heading("The audit log");
      node.services().audit().checkpoint();
    }
    run("audit", "verify", "--config", config.toString());

    heading("Files written (in " + home + ")");
    for (Map.Entry<Path, String> e : written.entrySet()) {
      out.printf("  %-44s %s%n", home.relativize(e.getKey().toAbsolutePath()), e.getValue());
    }
    out.println();
    out.println("demo complete: archived with 2 of 3 agents, recovered with cards " + cards.get(0) + " and "
        + cards.get(2) + ".");
    return 0;
  }

  private record Run(String out, String err) {}

  private Run run(String... args) throws Exception {
    out.println("$ keyarc " + String.join(" ", args)); // no secret is ever an argument: they are files
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    int exit = Keyarc.run(new PrintWriter(o, true), new PrintWriter(e, true), args);
    o.toString().lines().forEach(l -> out.println("  " + l));
    e.toString().lines().forEach(l -> out.println("  " + l));
    if (exit != 0) {
      throw new Keyarc.UserException(ErrorCode.BAD_REQUEST, "the demo stopped: 'keyarc " + args[0] + "' failed with "
          + exit);
    }
    return new Run(o.toString(), e.toString());
  }

  private String[] enroll(String url, String name, String ref, String secret, String keyType) throws Exception {
    Path secretFile = secretFile(name, secret);
    Path cert = home.resolve(name + ".crt");
    Path key = home.resolve(name + ".key");
    List<String> args = new ArrayList<>(List.of("enroll", "--node", url, "--ref", ref, "--secret-file",
        secretFile.toString(), "--out-key", key.toString(), "--out-cert", cert.toString()));
    if (keyType != null) {
      args.addAll(List.of("--archive", "--key-type", keyType));
    }
    run(args.toArray(new String[0]));
    written.put(cert, name + "'s certificate");
    written.put(key, name + "'s private key (mode 0600)");
    return new String[] {cert.toString(), key.toString()};
  }

  private Path secretFile(String name, String secret) throws Exception {
    Path f = home.resolve(name + ".secret");
    Files.deleteIfExists(f);
    Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(f, secret + "\n");
    written.put(f, "a one-time secret or password (mode 0600)");
    return f;
  }

  private String openssl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("openssl " + args[0] + " failed: " + text.lines().findFirst().orElse(""));
    }
    return text;
  }

  private void heading(String title) {
    out.println();
    out.println("== " + (++step) + ". " + title);
  }

  private void say(String line) {
    out.println("  " + line);
  }

  private static String field(String text, String name) {
    Matcher m = Pattern.compile("(?m)^\\s*" + name + "\\s+(\\S+)").matcher(text);
    if (!m.find()) {
      throw new IllegalStateException("no " + name + " in the output");
    }
    return m.group(1);
  }

  private static String[] cat(String[] a, String... b) {
    String[] all = new String[a.length + b.length];
    System.arraycopy(b, 0, all, 0, b.length);
    System.arraycopy(a, 0, all, b.length, a.length);
    return all;
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new SecureRandom().nextBytes(b);
    return b;
  }
}
