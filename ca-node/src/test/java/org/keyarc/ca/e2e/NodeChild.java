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
}
