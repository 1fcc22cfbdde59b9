package org.keyarc.ca.e2e;

import java.nio.file.Path;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.node.CaNode;

/**
 * A CA node in a JVM of its own, for the tests that kill it: loads the configuration {@code args[0]}, starts the
 * node, prints "ports BINARY HTTP" and runs until its standard input says "stop" (a clean stop, with the last
 * audit checkpoint) or it is killed.
 */
public final class NodeChild {
  private NodeChild() {}

  public static void main(String[] args) throws Exception {
    CaNode node = CaNode.start(NodeConfig.load(Path.of(args[0])));
    System.out.println("ports " + node.binaryPort() + " " + node.httpPort());
    System.out.flush();
    java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
        java.nio.charset.StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null && !line.equals("stop")) {
      // waiting
    }
    node.close();
    System.out.println("stopped");
    System.out.flush();
  }

  /** A node JVM on {@code yaml}, with this JVM's class path and SoftHSM2 configuration. */
  static Process start(Path yaml) throws Exception {
    return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", System.getProperty("java.class.path"),
        NodeChild.class.getName(), yaml.toString()).redirectErrorStream(true).start();
  }

  /** Waits for the child's "ports" line; then drains its output. */
  static int[] ports(Process p) throws Exception {
    java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    String line;
    while ((line = r.readLine()) != null) {
      if (line.startsWith("ports ")) {
        String[] f = line.split(" ");
        Thread drain = new Thread(() -> {
          try {
            r.transferTo(java.io.Writer.nullWriter());
          } catch (java.io.IOException e) {
            // ended
          }
        });
        drain.setDaemon(true);
        drain.start();
        return new int[] {Integer.parseInt(f[1]), Integer.parseInt(f[2])};
      }
      seen.append(line).append('\n');
    }
    throw new AssertionError("the node did not start: " + seen);
  }
}
