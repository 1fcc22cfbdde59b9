package org.keyarc.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code keyarc ca serve} in a process of its own, started as the launcher starts it (log level WARN), optionally
 * behind a command prefix (such as {@code unshare}); everything it prints is kept for the test to read.
 */
final class NodeProcess implements AutoCloseable {
  final Process process;
  private final StringBuffer output = new StringBuffer();
  private final String banner;

  private NodeProcess(Process process) throws Exception {
    this.process = process;
    BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    String line;
    while (System.nanoTime() < end && (line = r.readLine()) != null) {
      seen.append(line).append('\n');
      if (line.startsWith("stop with Ctrl-C")) {
        break;
      }
    }
    banner = seen.toString();
    output.append(banner);
    // keep reading, so that the node never blocks on a full pipe
    Thread drain = new Thread(() -> {
      try {
        String l;
        while ((l = r.readLine()) != null) {
          output.append(l).append('\n');
        }
      } catch (java.io.IOException e) {
        // the process ended
      }
    }, "node-output");
    drain.setDaemon(true);
    drain.start();
  }

  /** Starts {@code ca serve --config config} with {@code home} as KEYARC_HOME, after {@code prefix}. */
  static NodeProcess serve(Path home, Path config, String... prefix) throws Exception {
    Path jar = Path.of("target", "keyarc-cli.jar").toAbsolutePath();
    assertTrue(Files.exists(jar), "the CLI jar is built in the package phase: " + jar);
    List<String> cmd = new ArrayList<>(List.of(prefix));
    cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-Dkeyarc.home=" + home,
        "-cp", jar + ":" + jar.getParent().resolve("lib") + "/*", "org.keyarc.cli.Keyarc", "ca", "serve", "--config",
        config.toString()));
    return new NodeProcess(new ProcessBuilder(cmd).redirectErrorStream(true).start());
  }

  /** What {@code ca serve} printed up to "stop with Ctrl-C" (read for at most 90 s). */
  String banner() {
    return banner;
  }

  /** Everything printed so far. */
  String output() {
    return output.toString();
  }

  /** The port of the listener whose banner line starts with {@code name} ("binary CMP", "HTTP CMP"). */
  int port(String name) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^  " + name + " +\\S+://127\\.0\\.0\\.1:(\\d+)")
        .matcher(banner);
    assertTrue(m.find(), name + " in: " + banner);
    return Integer.parseInt(m.group(1));
  }

  /** SIGTERM to the node (the JVM, also when it runs under a prefix's shell), then waits for the process. */
  void stop() throws Exception {
    ProcessHandle jvm = process.descendants().filter(h -> h.info().command().orElse("").endsWith("/java"))
        .findFirst().orElse(process.toHandle());
    jvm.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      // a node that does not stop (a prefix's shell leaves the JVM behind when only the shell is killed)
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }

  @Override
  public void close() throws Exception {
    if (process.isAlive()) {
      stop();
    }
  }
}
