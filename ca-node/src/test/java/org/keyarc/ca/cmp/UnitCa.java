package org.keyarc.ca.cmp;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.keyarc.ca.admin.AdminApi;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.keys.CaInit;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.node.CaServices;
import org.keyarc.ca.store.jdbc.JdbcStore;
import org.keyarc.ca.template.Templates;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.testing.SoftHsmFixture;

/**
 * A CA without a node for unit tests: a SoftHSM2 token from the fixture, an H2 store under target/, the
 * CA created by {@link CaInit#init} and its services wired by {@link CaServices#wire}. No sockets.
 */
public final class UnitCa implements AutoCloseable {
  public final SoftHsmFixture hsm;
  public final HsmToken token;
  public final JdbcStore store;
  public final CaServices services;

  private UnitCa(SoftHsmFixture hsm, HsmToken token, JdbcStore store, CaServices services) {
    this.hsm = hsm;
    this.token = token;
    this.store = store;
    this.services = services;
  }

  public static UnitCa create() throws Exception {
    SoftHsmFixture hsm = SoftHsmFixture.create("ca");
    try {
      Files.createDirectories(Path.of("target"));
      Path dir = Files.createTempDirectory(Path.of("target"), "unit-ca-");
      NodeConfig cfg = NodeConfig.defaults(dir, SoftHsmFixture.library().toString(), hsm.pinFile("ca").toString());
      cfg.hsm.token = hsm.label("ca");
      cfg.ca.subject = "CN=keyarc Unit CA, O=keyarc";
      cfg.validate();
      HsmToken token = hsm.open("ca", cfg.hsm.sessions);
      JdbcStore store = JdbcStore.open(JdbcStore.embeddedUrl(dir), cfg.store.user, null, 4);
      CaInit.init(store, token, cfg.settings().ca(), false, null);
      CaKeyring keys = CaKeyring.load(store, token);
      CaServices services = CaServices.wire(cfg.settings(), store, keys, Templates.of(cfg.configuredTemplates()),
          Clock.systemUTC());
      services.catalog().seed(); // the templates in the store, as a node keeps them
      return new UnitCa(hsm, token, store, services);
    } catch (Exception | Error e) {
      hsm.close();
      throw e;
    }
  }

  /** The administrative API over these services. */
  public AdminApi admin() {
    return org.keyarc.ca.node.CaNode.adminApi(services);
  }

  /** The CMP responder over these services, as the node builds it (without metrics). */
  public CmpResponder responder() {
    return CaNode.responder(services, null);
  }

  @Override
  public void close() throws Exception {
    store.close();
    token.close();
    hsm.close();
  }
}
