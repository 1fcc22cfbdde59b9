package org.keyarc.hsm.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/**
 * A second CA token from a module keyarc did not write: NSS softoken (libsoftokn3.so, Debian's libnss3) with a
 * database of the test's own under {@code target/}, made by NSS's certutil. Its token is "NSS Certificate DB"; the
 * module reads its folder from the C_Initialize arguments, {@link #initArgs()}.
 */
public final class NssDb {
  public static final Path LIBRARY = Path.of("/usr/lib/x86_64-linux-gnu/libsoftokn3.so");
  public static final String TOKEN = "NSS Certificate DB";

  private final Path dir;

  private NssDb(Path dir) {
    this.dir = dir;
  }

  /** A new, empty NSS database with a random password (the token's user PIN, 0600). */
  public static NssDb create() throws IOException {
    if (!Files.isReadable(LIBRARY)) {
      throw new IOException(LIBRARY + " not found; install the Debian package 'libnss3'");
    }
    Files.createDirectories(Path.of("target"));
    Path dir = Files.createTempDirectory(Path.of("target"), "nss-").toAbsolutePath();
    byte[] pin = new byte[12];
    new SecureRandom().nextBytes(pin);
    Path pinFile = dir.resolve("pin");
    Files.createFile(pinFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(pinFile, HexFormat.of().formatHex(pin) + "\n");
    Files.createDirectories(dir.resolve("db"));
    Process p;
    try {
      p = new ProcessBuilder(List.of("certutil", "-N", "-d", "sql:" + dir.resolve("db"), "-f", pinFile.toString()))
          .redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IOException("certutil not found; install the Debian package 'libnss3-tools'", e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (p.waitFor() != 0) {
        throw new IOException("certutil -N failed: " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    return new NssDb(dir);
  }

  /** The C_Initialize arguments that point NSS softoken at this database. */
  public String initArgs() {
    return "configdir='sql:" + dir.resolve("db") + "' certPrefix='' keyPrefix='' secmod='secmod.db' flags=";
  }

  /** The folder of NSS's database files (cert9.db, key4.db). */
  public Path databaseFolder() {
    return dir.resolve("db");
  }

  /** The token's user PIN file (0600). */
  public Path pinFile() {
    return dir.resolve("pin");
  }
}
