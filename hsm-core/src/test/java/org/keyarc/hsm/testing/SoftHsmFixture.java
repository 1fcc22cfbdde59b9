package org.keyarc.hsm.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmModule;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.PinSource;
import org.keyarc.hsm.TokenSelector;

/**
 * Real SoftHSM2 tokens for one test: creates tokens with labels unique to this fixture through
 * {@code softhsm-config/setup-tokens.sh} (the same script users run) in this module's token folder under
 * {@code target/softhsm}, then loads a private copy of libsofthsm2.so, so that the module sees the new
 * tokens and its C_Finalize touches no other test. Closing it finalises the copy and deletes the tokens.
 *
 * <p>Fails, never skips, when SoftHSM2 is missing: {@code scripts/test.sh} installs it.
 */
public final class SoftHsmFixture implements AutoCloseable {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path dir;
  private final Map<String, String> labels = new LinkedHashMap<>();
  private final List<HsmModule> modules = new ArrayList<>();
  private HsmModule module;

  private SoftHsmFixture(Path dir) {
    this.dir = dir;
  }

  /** Creates one token per name ("ca", "kra-1"...), labelled name-RANDOM, and loads a module that sees them. */
  public static SoftHsmFixture create(String... names) throws IOException, HsmException {
    SoftHsmFixture f = new SoftHsmFixture(tokenDir());
    for (String name : names) {
      f.labels.put(name, name + "-" + HexFormat.of().formatHex(randomBytes(4)));
    }
    f.runSetup(new ArrayList<>(f.labels.values()));
    f.module = f.newModule();
    return f;
  }

  /** The SoftHSM2 library: $KEYARC_SOFTHSM_LIB or Debian's path. */
  public static Path library() {
    String env = System.getenv("KEYARC_SOFTHSM_LIB");
    for (String candidate : new String[] {env, "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so"}) {
      if (candidate != null && Files.isReadable(Path.of(candidate))) {
        return Path.of(candidate);
      }
    }
    throw new IllegalStateException("SoftHSM2 is not installed (no libsofthsm2.so): run ./scripts/test.sh, "
        + "which installs it, or apt-get install softhsm2");
  }

  /** This module's token folder (target/softhsm), which SOFTHSM2_CONF of the test JVM points into. */
  public static Path tokenDir() {
    String d = System.getProperty("keyarc.test.softhsm.dir");
    if (d == null) {
      throw new IllegalStateException("system property keyarc.test.softhsm.dir is not set; run the tests with Maven");
    }
    Path dir = Path.of(d).toAbsolutePath();
    String conf = System.getenv("SOFTHSM2_CONF");
    if (conf == null || !Path.of(conf).toAbsolutePath().equals(dir.resolve("softhsm2.conf"))) {
      throw new IllegalStateException("SOFTHSM2_CONF must be " + dir.resolve("softhsm2.conf") + " (got " + conf
          + "); run the tests with Maven, whose surefire configuration sets it");
    }
    return dir;
  }

  /** The label given to the token called {@code name} in {@link #create}. */
  public String label(String name) {
    String label = labels.get(name);
    if (label == null) {
      throw new IllegalArgumentException("this fixture made no token called " + name);
    }
    return label;
  }

  /** The user PIN the setup script generated for the token (the caller wipes it). */
  public char[] pin(String name) throws IOException {
    return PinSource.fromFile(pinFile(name));
  }

  /** The file holding the token's user PIN (mode 0600). */
  public Path pinFile(String name) {
    return dir.resolve("pins").resolve(label(name) + ".pin");
  }

  public HsmModule module() {
    return module;
  }

  /** Opens and logs in to the token called {@code name}, with a pool of {@code sessions} sessions. */
  public HsmToken open(String name, int sessions) throws IOException, HsmException {
    char[] pin = pin(name);
    try {
      return module.openToken(TokenSelector.byLabel(label(name)), pin, sessions);
    } finally {
      HsmToken.wipe(pin);
    }
  }

  /** Another independent module instance (a new private copy of the library). */
  public HsmModule newModule() throws HsmException {
    HsmModule m = HsmModule.loadPrivateCopy(library(), dir.resolve("lib"));
    modules.add(m);
    return m;
  }

  /** Creates one more token now (after the module started: it sees it only after a rescan). */
  public String addToken(String name) throws IOException {
    String label = name + "-" + HexFormat.of().formatHex(randomBytes(4));
    labels.put(name, label);
    runSetup(List.of(label));
    return label;
  }

  /** The folder SoftHSM2 keeps the token in (moving it away is "pulling the card"). */
  public Path tokenFolder(String name) throws IOException {
    String label = label(name);
    try (var dirs = Files.list(dir.resolve("tokens"))) {
      for (Path p : (Iterable<Path>) dirs::iterator) {
        Path info = p.resolve("token.object");
        if (Files.exists(info) && new String(Files.readAllBytes(info), StandardCharsets.ISO_8859_1).contains(label)) {
          return p;
        }
      }
    }
    throw new IOException("no token folder for " + label);
  }

  /**
   * "Pulls the card": moves the token's folder out of the token directory (SoftHSM2 scans every folder
   * inside it, whatever its name). Returns where it went, for {@link #reinsertCard}.
   */
  public Path pullCard(String name) throws IOException {
    Path folder = tokenFolder(name);
    Path away = folder.getParent().resolveSibling("pulled-" + folder.getFileName());
    Files.move(folder, away);
    return away;
  }

  /** Puts a pulled card's folder back. */
  public void reinsertCard(Path pulled) throws IOException {
    Files.move(pulled, dir.resolve("tokens").resolve(pulled.getFileName().toString().substring("pulled-".length())));
  }

  private void runSetup(List<String> tokenLabels) throws IOException {
    String script = System.getProperty("keyarc.softhsm.setup");
    List<String> cmd = new ArrayList<>(List.of("bash", script, "--dir", dir.toString()));
    for (String l : tokenLabels) {
      cmd.add("--token");
      cmd.add(l);
    }
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (p.waitFor() != 0) {
        throw new IOException("setup-tokens.sh failed: " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  @Override
  public void close() throws IOException {
    for (HsmModule m : modules) {
      m.close();
    }
    for (String label : labels.values()) {
      Process p = new ProcessBuilder("softhsm2-util", "--delete-token", "--token", label)
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      try {
        p.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }
}
