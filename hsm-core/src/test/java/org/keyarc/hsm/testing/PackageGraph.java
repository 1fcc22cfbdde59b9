package org.keyarc.hsm.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The package dependency graph of a module's main sources, read from the {@code .java} files: every
 * {@code import} (plain and static) and every fully-qualified reference in code ({@code org.keyarc.x.Y.call(...)}
 * written inline) is an edge from the file's package to the referenced package. Comments and string literals
 * are ignored, so a {@code {@link org.keyarc...}} in Javadoc is not a dependency. A name's package is its leading
 * lower-case segments ({@code org.keyarc.ca.support.PublicKeys.publicKey} is in {@code org.keyarc.ca.support}).
 *
 * <p>Used by each module's {@code ArchitectureTest}: {@link #assertNoCycles()} (strongly connected components,
 * Tarjan) and {@link #assertNoImport(String, String)}, both failing with the packages, files and lines concerned.
 *
 * <p>Package patterns: {@code org.keyarc.ca.store} is that package only; {@code org.keyarc.ca.store..} is the
 * package and its sub-packages.
 */
public final class PackageGraph {
  /** Only names below this root are dependencies worth recording. */
  private static final String ROOT = "org.keyarc";
  private static final Pattern PACKAGE = Pattern.compile("\\bpackage\\s+([\\w.]+)\\s*;");
  private static final Pattern QUALIFIED = Pattern.compile("(?<![\\w.])org\\s*\\.\\s*keyarc(?:\\s*\\.\\s*[A-Za-z_$][\\w$]*)+");

  /** from package -> to package -> where ("Foo.java:12: import org.keyarc.x.Y"), in file order. */
  private final Map<String, Map<String, List<String>>> edges = new TreeMap<>();
  private final Set<String> packages = new TreeSet<>();
  private final Path root;

  private PackageGraph(Path root) {
    this.root = root;
  }

  /** The graph of this module's {@code src/main/java} (the module being tested by surefire). */
  public static PackageGraph ofThisModule() {
    Path base = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
    return of(base.resolve("src").resolve("main").resolve("java"));
  }

  /** The graph of the {@code .java} files below {@code sourceRoot}; fails if there are none. */
  public static PackageGraph of(Path sourceRoot) {
    PackageGraph g = new PackageGraph(sourceRoot);
    List<Path> files;
    try (Stream<Path> walk = Files.walk(sourceRoot)) {
      files = walk.filter(p -> p.toString().endsWith(".java")).sorted().collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read sources under " + sourceRoot, e);
    }
    if (files.isEmpty()) {
      throw new AssertionError("no .java files under " + sourceRoot.toAbsolutePath());
    }
    for (Path f : files) {
      try {
        g.add(sourceRoot.relativize(f).toString().replace('\\', '/'), Files.readString(f, StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + f, e);
      }
    }
    return g;
  }

  private void add(String file, String source) {
    String code = codeOnly(source);
    Matcher pm = PACKAGE.matcher(code);
    String pkg = "";
    int after = 0;
    if (pm.find()) {
      pkg = pm.group(1);
      after = pm.end();
    }
    packages.add(pkg);
    Matcher m = QUALIFIED.matcher(code);
    m.region(after, code.length());
    while (m.find()) {
      String name = m.group().replaceAll("\\s+", "");
      String to = packageOf(name);
      if (to.isEmpty() || to.equals(pkg)) {
        continue;
      }
      int line = 1;
      for (int i = 0; i < m.start(); i++) {
        if (code.charAt(i) == '\n') {
          line++;
        }
      }
      String[] lines = source.split("\n", -1);
      String text = line <= lines.length ? lines[line - 1].strip() : name;
      edges.computeIfAbsent(pkg, k -> new TreeMap<>()).computeIfAbsent(to, k -> new ArrayList<>())
          .add(file + ":" + line + ": " + text);
    }
  }

  /** The leading segments of a qualified name up to (not including) the first that starts upper-case. */
  static String packageOf(String qualifiedName) {
    String[] parts = qualifiedName.split("\\.");
    List<String> pkg = new ArrayList<>();
    for (String p : parts) {
      if (p.isEmpty() || Character.isUpperCase(p.charAt(0))) {
        break;
      }
      pkg.add(p);
    }
    String name = String.join(".", pkg);
    return name.equals(ROOT) || !name.startsWith(ROOT + ".") ? "" : name;
  }

  /** The source with comments, string, text-block and char literals blanked out; newlines are kept. */
  static String codeOnly(String s) {
    StringBuilder out = new StringBuilder(s.length());
    int i = 0;
    int n = s.length();
    while (i < n) {
      char c = s.charAt(i);
      if (c == '/' && i + 1 < n && s.charAt(i + 1) == '/') {
        while (i < n && s.charAt(i) != '\n') {
          out.append(' ');
          i++;
        }
      } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
        int end = s.indexOf("*/", i + 2);
        end = end < 0 ? n : end + 2;
        blank(s, i, end, out);
        i = end;
      } else if (s.startsWith("\"\"\"", i)) {
        int end = s.indexOf("\"\"\"", i + 3);
        while (end > 0 && s.charAt(end - 1) == '\\') {
          end = s.indexOf("\"\"\"", end + 1);
        }
        end = end < 0 ? n : end + 3;
        blank(s, i, end, out);
        i = end;
      } else if (c == '"' || c == '\'') {
        int j = i + 1;
        while (j < n && s.charAt(j) != c && s.charAt(j) != '\n') {
          j += s.charAt(j) == '\\' ? 2 : 1;
        }
        int end = Math.min(n, j + 1);
        blank(s, i, end, out);
        i = end;
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }

  private static void blank(String s, int from, int to, StringBuilder out) {
    for (int k = from; k < to; k++) {
      out.append(s.charAt(k) == '\n' ? '\n' : ' ');
    }
  }

  /** The packages that have at least one source file. */
  public Set<String> packages() {
    return Set.copyOf(packages);
  }

  /** The packages {@code from} depends on (this module's and others below org.keyarc). */
  public Set<String> dependencies(String from) {
    return Set.copyOf(edges.getOrDefault(from, Map.of()).keySet());
  }

  /** The package cycles: strongly connected components of more than one of this module's packages. */
  public List<Set<String>> cycles() {
    Tarjan t = new Tarjan();
    for (String p : packages) {
      if (!t.index.containsKey(p)) {
        t.connect(p);
      }
    }
    return t.components.stream().filter(c -> c.size() > 1).collect(Collectors.toList());
  }

  /** Fails naming every package cycle, the imports that close it and where they are. */
  public void assertNoCycles() {
    List<Set<String>> cycles = cycles();
    if (cycles.isEmpty()) {
      return;
    }
    StringBuilder msg = new StringBuilder(cycles.size() + " package cycle(s) in " + root + ":");
    for (Set<String> c : cycles) {
      msg.append("\n  cycle ").append(String.join(" -> ", shortestCycle(c))).append("\n    all of ").append(c)
          .append(" depend on each other through:");
      for (String from : c) {
        for (Map.Entry<String, List<String>> e : edges.getOrDefault(from, Map.of()).entrySet()) {
          if (c.contains(e.getKey())) {
            msg.append("\n    ").append(from).append(" -> ").append(e.getKey());
            for (String where : e.getValue()) {
              msg.append("\n        ").append(where);
            }
          }
        }
      }
    }
    throw new AssertionError(msg.toString());
  }

  /** Fails if a package matching {@code fromPattern} refers to one matching {@code toPattern}, naming each place. */
  public void assertNoImport(String fromPattern, String toPattern) {
    List<String> found = new ArrayList<>();
    forEachEdge((from, to, where) -> {
      if (matches(fromPattern, from) && matches(toPattern, to)) {
        found.add(from + " -> " + to + " at " + where);
      }
    });
    if (!found.isEmpty()) {
      throw new AssertionError(fromPattern + " must not depend on " + toPattern + ", but:\n  "
          + String.join("\n  ", found));
    }
  }

  /**
   * Fails if a package matching {@code fromPattern} refers to a package of {@code withinPattern} (for example
   * {@code org.keyarc.ca..}) other than those matching one of {@code allowed} (or its own).
   */
  public void assertOnlyImports(String fromPattern, String withinPattern, String... allowed) {
    List<String> found = new ArrayList<>();
    forEachEdge((from, to, where) -> {
      if (matches(fromPattern, from) && matches(withinPattern, to) && !matches(fromPattern, to)
          && Arrays.stream(allowed).noneMatch(a -> matches(a, to))) {
        found.add(from + " -> " + to + " at " + where);
      }
    });
    if (!found.isEmpty()) {
      throw new AssertionError(fromPattern + " may depend only on " + Arrays.toString(allowed) + " within "
          + withinPattern + ", but:\n  " + String.join("\n  ", found));
    }
  }

  /** {@code a.b} matches the package a.b only; {@code a.b..} matches a.b and its sub-packages. */
  public static boolean matches(String pattern, String pkg) {
    if (pattern.endsWith("..")) {
      String base = pattern.substring(0, pattern.length() - 2);
      return pkg.equals(base) || pkg.startsWith(base + ".");
    }
    return pkg.equals(pattern);
  }

  private interface EdgeVisitor {
    void visit(String from, String to, String where);
  }

  private void forEachEdge(EdgeVisitor v) {
    edges.forEach((from, tos) -> tos.forEach((to, wheres) -> wheres.forEach(w -> v.visit(from, to, w))));
  }

  /** A shortest path from the component's first package back to itself, inside the component. */
  private List<String> shortestCycle(Set<String> component) {
    String start = component.iterator().next();
    Map<String, String> parent = new HashMap<>();
    Deque<String> queue = new ArrayDeque<>();
    queue.add(start);
    while (!queue.isEmpty()) {
      String p = queue.poll();
      for (String q : edges.getOrDefault(p, Map.of()).keySet()) {
        if (!component.contains(q)) {
          continue;
        }
        if (q.equals(start)) {
          List<String> path = new ArrayList<>();
          path.add(start);
          for (String at = p; at != null; at = parent.get(at)) {
            path.add(0, at);
          }
          return path;
        }
        if (!parent.containsKey(q) && !q.equals(start)) {
          parent.put(q, p);
          queue.add(q);
        }
      }
    }
    return List.copyOf(component);
  }

  /** Tarjan's strongly connected components over this module's packages. */
  private final class Tarjan {
    final Map<String, Integer> index = new HashMap<>();
    final Map<String, Integer> low = new HashMap<>();
    final Deque<String> stack = new ArrayDeque<>();
    final Set<String> onStack = new TreeSet<>();
    final List<Set<String>> components = new ArrayList<>();
    int next;

    void connect(String v) {
      index.put(v, next);
      low.put(v, next);
      next++;
      stack.push(v);
      onStack.add(v);
      for (String w : edges.getOrDefault(v, Map.of()).keySet()) {
        if (!packages.contains(w)) {
          continue;
        }
        if (!index.containsKey(w)) {
          connect(w);
          low.put(v, Math.min(low.get(v), low.get(w)));
        } else if (onStack.contains(w)) {
          low.put(v, Math.min(low.get(v), index.get(w)));
        }
      }
      if (low.get(v).equals(index.get(v))) {
        Set<String> c = new TreeSet<>();
        String w;
        do {
          w = stack.pop();
          onStack.remove(w);
          c.add(w);
        } while (!w.equals(v));
        components.add(c);
      }
    }
  }

  @Override
  public String toString() {
    Map<String, Set<String>> view = new LinkedHashMap<>();
    edges.forEach((from, tos) -> view.put(from, tos.keySet()));
    return "PackageGraph" + view;
  }
}
