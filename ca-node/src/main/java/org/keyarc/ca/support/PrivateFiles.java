package org.keyarc.ca.support;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.keyarc.ca.CaException;
import org.keyarc.protocol.ErrorCode;

/**
 * Folders and files only their owner may read: the embedded database, its password, PIN and key files. A node
 * refuses to start on one that others can read, naming it (on file systems without POSIX permissions the check
 * is skipped).
 */
public final class PrivateFiles {
  private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

  private PrivateFiles() {}

  /** Creates {@code dir} (and its parents) with mode 0700 if it does not exist. */
  public static void createFolder(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    Files.createDirectories(dir.toAbsolutePath().getParent());
    if (POSIX) {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } else {
      Files.createDirectory(dir);
    }
  }

  /** Writes {@code data} to a new file of mode 0600. */
  public static void writeNew(Path file, byte[] data) throws IOException {
    if (POSIX) {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } else {
      Files.createFile(file);
    }
    Files.write(file, data);
  }

  /** Takes group and other permissions away from {@code file} if it exists (files a library created). */
  public static void restrict(Path file) throws IOException {
    if (POSIX && Files.exists(file)) {
      Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
      p.removeIf(x -> x.name().startsWith("GROUP") || x.name().startsWith("OTHERS"));
      Files.setPosixFilePermissions(file, p);
    }
  }

  /**
   * Refuses with CONFIG_INVALID when {@code path} exists and its group or others may read, write or enter it;
   * {@code what} names it in the message ("the data folder", "hsm.pinFile").
   */
  public static void requirePrivate(Path path, String what) throws CaException {
    if (!POSIX || path == null || !Files.exists(path)) {
      return;
    }
    try {
      Set<PosixFilePermission> p = Files.getPosixFilePermissions(path);
      boolean open = p.stream().anyMatch(x -> x.name().startsWith("GROUP") || x.name().startsWith("OTHERS"));
      if (open) {
        boolean dir = Files.isDirectory(path);
        throw new CaException(ErrorCode.CONFIG_INVALID, what + " " + path + " can be used by other users (mode "
            + PosixFilePermissions.toString(p) + "); run 'chmod " + (dir ? "700" : "600") + " " + path
            + "' and start again");
      }
    } catch (IOException e) {
      throw new CaException(ErrorCode.CONFIG_INVALID, "cannot read the permissions of " + what + " " + path + ": "
          + e.getMessage());
    }
  }
}
