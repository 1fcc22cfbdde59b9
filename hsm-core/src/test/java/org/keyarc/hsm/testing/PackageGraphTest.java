package org.keyarc.hsm.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackageGraphTest {
  @TempDir
  Path src;

  private void write(String pkg, String cls, String body) throws IOException {
    Path dir = src.resolve(pkg.replace('.', '/'));
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(cls + ".java"), "package " + pkg + ";\n\n" + body);
  }

  @Test
  void findsACycleThroughAnInlineQualifiedNameAndNamesTheLine() throws IOException {
    write("org.keyarc.x.a", "A", "import org.keyarc.x.b.B;\nclass A { B b; }\n");
    write("org.keyarc.x.b", "B", "class B {\n  Object c = org.keyarc.x.c.C.make();\n}\n");
    write("org.keyarc.x.c", "C", "import static org.keyarc.x.a.A.helper;\nclass C {}\n");
    write("org.keyarc.x.d", "D", "import org.keyarc.x.a.A;\nclass D {}\n");
    PackageGraph g = PackageGraph.of(src);
    assertEquals(List.of(Set.of("org.keyarc.x.a", "org.keyarc.x.b", "org.keyarc.x.c")), g.cycles());
    AssertionError e = assertThrows(AssertionError.class, g::assertNoCycles);
    assertTrue(e.getMessage().contains("cycle org.keyarc.x.a -> org.keyarc.x.b -> org.keyarc.x.c -> org.keyarc.x.a"),
        e.getMessage());
    assertTrue(e.getMessage().contains("org/keyarc/x/b/B.java:4: Object c = org.keyarc.x.c.C.make();"),
        e.getMessage());
    assertTrue(e.getMessage().contains("org/keyarc/x/c/C.java:3: import static org.keyarc.x.a.A.helper;"),
        e.getMessage());
  }

  @Test
  void commentsAndStringsAreNoDependency() throws IOException {
    write("org.keyarc.x.a", "A", "/** See {@link org.keyarc.x.b.B}. */\nclass A {\n"
        + "  // org.keyarc.x.b.B.call();\n  String s = \"org.keyarc.x.b.B\";\n"
        + "  String t = \"\"\"\n    org.keyarc.x.b.B\n    \"\"\";\n  char q = '\"';\n}\n");
    write("org.keyarc.x.b", "B", "import org.keyarc.x.a.A;\nclass B {}\n");
    PackageGraph g = PackageGraph.of(src);
    assertEquals(Set.of(), g.dependencies("org.keyarc.x.a"));
    assertEquals(Set.of("org.keyarc.x.a"), g.dependencies("org.keyarc.x.b"));
    g.assertNoCycles();
  }

  @Test
  void importRulesNameTheOffendingImport() throws IOException {
    write("org.keyarc.x.low", "L", "import org.keyarc.x.high.sub.H;\nclass L {}\n");
    write("org.keyarc.x.high.sub", "H", "class H {}\n");
    PackageGraph g = PackageGraph.of(src);
    AssertionError e = assertThrows(AssertionError.class,
        () -> g.assertNoImport("org.keyarc.x.low", "org.keyarc.x.high.."));
    assertTrue(e.getMessage().contains(
        "org.keyarc.x.low -> org.keyarc.x.high.sub at org/keyarc/x/low/L.java:3: import org.keyarc.x.high.sub.H;"),
        e.getMessage());
    g.assertNoImport("org.keyarc.x.low", "org.keyarc.x.high");
    assertThrows(AssertionError.class, () -> g.assertOnlyImports("org.keyarc.x.low", "org.keyarc.x.."));
    g.assertOnlyImports("org.keyarc.x.low", "org.keyarc.x..", "org.keyarc.x.high..");
  }

  @Test
  void noSourcesIsAFailureNotAPass() {
    assertThrows(AssertionError.class, () -> PackageGraph.of(src));
  }
}
