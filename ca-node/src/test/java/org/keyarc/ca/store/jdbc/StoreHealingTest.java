package org.keyarc.ca.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Which failures mean the embedded database is broken. H2's MVStore can be left, after a failed write, with a
 * negative version counter; its registerVersionUsage loop then spins for ever unless its assertion is on, which
 * JdbcStore turns on for that class. That assertion, thrown inside H2, counts as a broken database (its connections
 * are retired and it reopens); an AssertionError from anywhere else is not H2's and goes on.
 */
class StoreHealingTest {
  private static AssertionError thrownAt(String className) {
    AssertionError e = new AssertionError("org.h2.mvstore.MVStore$TxCounter@1f version=7 usage=-1");
    e.setStackTrace(new StackTraceElement[] {new StackTraceElement(className, "registerVersionUsage",
        "MVStore.java", 1)});
    return e;
  }

  @Test
  void h2sOwnCheckFailingMeansTheDatabaseIsBroken() {
    AssertionError h2 = thrownAt("org.h2.mvstore.MVStore");
    assertTrue(StoreHealing.fromH2(h2));
    assertTrue(StoreHealing.broken(new RuntimeException("wrapped", h2)));
    AssertionError ours = thrownAt("org.keyarc.ca.store.jdbc.JdbcStore");
    assertFalse(StoreHealing.fromH2(ours));
    assertFalse(StoreHealing.broken(ours));
  }

  /** Prints whether MVStore's assertions are on, in a JVM without -ea; with "store", JdbcStore is loaded first. */
  public static final class Probe {
    public static void main(String[] args) throws Exception {
      if (args.length > 0 && args[0].equals("store")) {
        Class.forName(JdbcStore.class.getName());
      }
      System.out.print(Class.forName("org.h2.mvstore.MVStore", true, Probe.class.getClassLoader())
          .desiredAssertionStatus());
    }
  }

  private static String probe(String... args) throws Exception {
    java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(java.nio.file.Path.of(
        System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
        Probe.class.getName()));
    cmd.addAll(java.util.List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
    return out;
  }

  @Test
  void theNodeTurnsMvStoresAssertionOnWithoutMinusEa() throws Exception {
    assertEquals("false", probe(), "a JVM without -ea, H2 alone");
    assertEquals("true", probe("store"), "once JdbcStore is loaded");
  }

  @Test
  void anotherAssertionErrorIsThrownOn() {
    StoreHealing healing = new StoreHealing(null);
    AssertionError ours = thrownAt("org.keyarc.Somewhere");
    assertSame(ours, assertThrows(AssertionError.class, () -> healing.failedCheck(ours)));
  }
}
