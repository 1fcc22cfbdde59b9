package org.keyarc.ca.store;

import java.nio.file.Files;
import java.nio.file.Path;
import org.keyarc.ca.store.jdbc.JdbcStore;

/** The store suite on the embedded H2 database (a file under target/). */
class H2StoreTest extends StoreContract {
  private Path dir;

  @Override
  Store openFresh() throws Exception {
    Files.createDirectories(Path.of("target"));
    dir = Files.createTempDirectory(Path.of("target"), "h2-store-");
    return JdbcStore.open(JdbcStore.embeddedUrl(dir), "keyarc", null, 4);
  }

  @Override
  String[] newDatabase() throws Exception {
    Path other = Files.createTempDirectory(Path.of("target"), "h2-store-");
    return new String[] {JdbcStore.embeddedUrl(other), "keyarc"};
  }

  @Override
  Store reopen() throws Exception {
    return JdbcStore.open(JdbcStore.embeddedUrl(dir), "keyarc", null, 4);
  }
}
