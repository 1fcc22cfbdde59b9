package org.keyarc.ca.node;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.config.NodeSettings;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.kra.AgentService;
import org.keyarc.ca.store.AgentStore;
import org.keyarc.ca.store.CaKeyStore;
import org.keyarc.ca.store.RoleStore;
import org.keyarc.ca.template.Template;
import org.keyarc.ca.template.Templates;
import org.keyarc.protocol.ErrorCode;

/**
 * What {@code keyarc ca info} shows, read at the CA host through the node's own services (the CLI does not
 * read the store itself).
 */
public record CaInfo(X509CertificateHolder caCert, String caKeyLabel, String tokenLabel, String caAlgorithm,
    List<CaKeyring.Exchange> exchanges, Optional<String> currentExchange, String storeProduct, long certificates,
    List<Template> templates, List<RoleStore.Member> roles, AgentStore.Policy policy,
    List<AgentService.AgentStatus> agents, List<RoleStore.Pending> pendingRoles, List<CaKeyring.Generation> generations) {

  /** Reads the CA's state from the token and store in {@code r}; CA_NOT_INITIALISED when there is no CA. */
  public static CaInfo read(NodeConfig cfg, CaNode.Resources r) throws CaException {
    List<CaKeyStore.Row> ca = r.store().inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.CA));
    if (ca.isEmpty()) {
      throw new CaException(ErrorCode.CA_NOT_INITIALISED, "no CA in this store yet; run 'keyarc ca init'");
    }
    CaKeyring keys = r.keyring();
    NodeSettings settings = cfg.settings();
    Templates templates = Templates.of(settings.templates());
    CaServices s = CaServices.wire(settings, r.store(), keys, templates, Clock.systemUTC());
    Instant now = Instant.now();
    long count = r.store().inTransaction(tx -> tx.certificates().count());
    List<RoleStore.Member> roles = r.store().inTransaction(tx -> tx.roles().list());
    List<RoleStore.Pending> pending = r.store().inTransaction(tx -> tx.roles().pending());
    return new CaInfo(keys.caCert(), keys.current().label(), r.token().label(),
        CaKeyring.algorithmFor(keys.caPublicKey()).jcaName(), keys.exchanges(),
        keys.currentExchange(now).map(CaKeyring.Exchange::label), r.store().product(), count,
        List.copyOf(templates.all()), roles, s.agents().policy(), s.agents().status(), pending, keys.generations());
  }

  /** True when the store of {@code cfg} holds a CA. */
  public static boolean initialised(NodeConfig cfg) throws CaException {
    try (var store = CaNode.openStore(cfg)) {
      return !store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.CA)).isEmpty();
    }
  }
}
