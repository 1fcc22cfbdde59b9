package org.keyarc.hsm.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Recovery agents' cards that keyarc did not write: tpm2-pkcs11 tokens on a software TPM, started by
 * {@code softhsm-config/tpm2-cards.sh} (swtpm, a private D-Bus session bus and tpm2-abrmd) in a folder of the
 * test's own under {@code target/}, and stopped on {@link #close()}. The module reads its TPM and key store
 * from the environment, so keyarc runs against these cards in a child process with {@link #environment()}.
 *
 * <p>Where the Debian packages are missing the start fails with the script's message naming them; under CI
 * ({@code CI=true}) that fails the test, elsewhere {@link #startOrSkip} skips it, loudly.
 */
public final class Tpm2Cards implements AutoCloseable {
  private final Path dir;
  private final Path module;
  private final Map<String, String> environment;

  private Tpm2Cards(Path dir, Path module, Map<String, String> environment) {
    this.dir = dir;
    this.module = module;
    this.environment = environment;
  }

  /** Starts a TPM with one token per label. */
  public static Tpm2Cards start(String... labels) throws IOException {
    Files.createDirectories(Path.of("target"));
    Path dir = Files.createTempDirectory(Path.of("target"), "tpm2-").toAbsolutePath();
    List<String> cmd = new ArrayList<>(List.of("bash", script(), "start", "--dir", dir.toString()));
    for (String l : labels) {
      cmd.add("--token");
      cmd.add(l);
    }
    String out = run(cmd);
    Map<String, String> env = new LinkedHashMap<>();
    for (String line : Files.readAllLines(dir.resolve("env"), StandardCharsets.UTF_8)) {
      int eq = line.indexOf('=');
      env.put(line.substring(0, eq), line.substring(eq + 1));
    }
    if (env.size() != 3) {
      throw new IOException("tpm2-cards.sh wrote no environment: " + out);
    }
    Path module = Path.of(Files.readString(dir.resolve("module"), StandardCharsets.UTF_8).trim());
    return new Tpm2Cards(dir, module, env);
  }

  /**
   * {@link #start}, or — outside CI, where the packages may be missing — a skipped test whose reason names them.
   * Under CI a missing package fails the test.
   */
  public static Tpm2Cards startOrSkip(String... labels) throws IOException {
    try {
      return start(labels);
    } catch (IOException e) {
      if ("true".equals(System.getenv("CI"))) {
        throw e;
      }
      System.err.println("SKIPPED: tpm2-pkcs11 cards could not be started here: " + e.getMessage());
      org.junit.jupiter.api.Assumptions.abort("tpm2-pkcs11 cards could not be started: " + e.getMessage());
      throw e;
    }
  }

  /** The PKCS#11 module file (tpm2-pkcs11). */
  public Path module() {
    return module;
  }

  /** The environment variables the module needs, for a child process. */
  public Map<String, String> environment() {
    return environment;
  }

  /** The user PIN file of a token (0600). */
  public Path pinFile(String label) {
    return dir.resolve("pins").resolve(label + ".pin");
  }

  /** The security officer's PIN file of a token (0600). */
  public Path soPinFile(String label) {
    return dir.resolve("pins").resolve(label + ".so-pin");
  }

  @Override
  public void close() throws IOException {
    run(List.of("bash", script(), "stop", "--dir", dir.toString()));
  }

  private static String script() {
    String script = System.getProperty("keyarc.tpm2.cards");
    if (script == null) {
      throw new IllegalStateException("system property keyarc.tpm2.cards (the path of tpm2-cards.sh) is not set");
    }
    return script;
  }

  private static String run(List<String> cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (p.waitFor() != 0) {
        throw new IOException("tpm2-cards.sh " + cmd.get(2) + " failed: " + out.trim());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    return out;
  }
}
