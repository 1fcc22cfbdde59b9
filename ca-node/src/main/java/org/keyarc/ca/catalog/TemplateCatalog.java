package org.keyarc.ca.catalog;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.auth.Authorization;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.config.ConfigException;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.config.TemplateDefinitions;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.store.StoreTx;
import org.keyarc.ca.store.TemplateStore;
import org.keyarc.ca.support.Texts;
import org.keyarc.ca.template.Template;
import org.keyarc.ca.template.Templates;
import org.keyarc.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Templates as runtime objects (issue 17): their definitions live in the store ({@code template_def}) with a
 * version bumped on each change; the node's {@link Templates} are rebuilt from the enabled ones on every change
 * here and, on every node, when {@link #refresh} sees the store's templates change. Administrators list, show,
 * duplicate, set, enable and disable them; managers and auditors may read them. Every change is validated as the
 * configuration is (the error names the field), and audited.
 */
public final class TemplateCatalog {
  private static final Logger LOG = LoggerFactory.getLogger(TemplateCatalog.class);

  /** The definition column's size ({@code template_def.definition}). */
  static final int MAX_DEFINITION = 16_000;

  private static final byte[] CONTEXT = "keyarc-templates-v1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private final Store store;
  private final Templates templates;
  private final Clock clock;
  private final org.keyarc.ca.keys.CaKeyring keys;
  private volatile long fingerprint = Long.MIN_VALUE;
  private volatile long reportedTampered = Long.MIN_VALUE;

  public TemplateCatalog(Store store, Templates templates, Clock clock, org.keyarc.ca.keys.CaKeyring keys) {
    this.store = store;
    this.templates = templates;
    this.clock = clock;
    this.keys = keys;
  }

  /** The seal over {@code rows}: a CMAC in the HSM over each template's name, version, state and definition. */
  private String sealOf(List<TemplateStore.Row> rows) throws CaException {
    java.io.ByteArrayOutputStream bout = new java.io.ByteArrayOutputStream();
    try (java.io.DataOutputStream out = new java.io.DataOutputStream(bout)) {
      out.write(CONTEXT);
      out.writeInt(rows.size());
      java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
      for (TemplateStore.Row r : rows.stream().sorted(java.util.Comparator.comparing(TemplateStore.Row::name))
          .toList()) {
        byte[] name = r.name().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeInt(name.length);
        out.write(name);
        out.writeInt(r.version());
        out.writeBoolean(r.enabled());
        out.write(sha.digest(r.definition().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      }
    } catch (java.io.IOException | java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] data = bout.toByteArray();
    byte[] mac = org.keyarc.ca.support.HsmCalls.call(() -> keys.token().call(s -> s.cmac(keys.macKey(), data)));
    return java.util.HexFormat.of().formatHex(mac);
  }

  /** Takes the seal's lock and refuses (67) when the store's templates are not the ones the CA sealed. */
  private void checkSeal(StoreTx tx) throws CaException {
    java.util.Optional<String> seal = tx.templates().lockSeal();
    List<TemplateStore.Row> rows = tx.templates().list();
    if (rows.isEmpty() && seal.isEmpty()) {
      return; // nothing yet
    }
    if (!sealed(rows, seal.orElse(""))) {
      throw new CaException(ErrorCode.TEMPLATES_TAMPERED, "the store's templates do not match their seal: they were "
          + "changed outside the CA; check them (template export) and run 'keyarc template reseal'");
    }
  }

  /** Whether {@code seal} is the seal over {@code rows}. */
  private boolean sealed(List<TemplateStore.Row> rows, String seal) throws CaException {
    return java.security.MessageDigest.isEqual(seal.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
        sealOf(rows).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
  }

  /** The definitions of the offered templates in the store, by name, leaving out {@code except} (or null). */
  private static java.util.Map<String, NodeConfig.TemplateCfg> offered(StoreTx tx, String except) throws CaException {
    java.util.Map<String, NodeConfig.TemplateCfg> all = new java.util.LinkedHashMap<>();
    for (TemplateStore.Row x : tx.templates().list()) {
      if (x.enabled() && !x.name().equals(except)) {
        all.put(x.name(), parse(x));
      }
    }
    return all;
  }

  /** Seals the store's templates as they are now, in {@code tx}. */
  private void reseal(StoreTx tx, String by, Instant now) throws CaException {
    tx.templates().setSeal(sealOf(tx.templates().list()), now, by);
  }

  /**
   * On start: every template the node offers from its built-ins and configuration that the store does not hold yet
   * goes into it (version 1, enabled); then the node's templates are the store's.
   */
  public void seed() throws CaException {
    Instant now = clock.instant();
    try {
      store.inTransaction(tx -> {
      checkSeal(tx);
      for (Template t : templates.all()) {
        if (tx.templates().insert(new TemplateStore.Row(t.name(), 1, true, TemplateDefinitions.json(
            TemplateDefinitions.of(t)), now, Audit.NODE))) {
          Audit.append(tx, Audit.NODE, AuditAction.TEMPLATE_CHANGE, "template:" + t.name(), "version=1 seeded from "
              + "the built-in templates and the configuration", now);
        }
      }
      reseal(tx, Audit.NODE, now);
      return null;
      });
    } catch (CaException e) {
      if (e.code() != ErrorCode.TEMPLATES_TAMPERED) {
        throw e;
      }
      // nothing seeded and nothing blessed: load() keeps the built-in and configured templates and reports it
    }
    load();
  }

  /** Rebuilds the node's templates from the store when any template changed (any node); true when it did. */
  public boolean refresh() throws CaException {
    long now = store.inTransaction(tx -> tx.templates().fingerprint());
    if (now == fingerprint) {
      return false;
    }
    load();
    return true;
  }

  /** The store's templates, their fingerprint and their seal, read together (the seal's lock first, as writers). */
  private record Snapshot(List<TemplateStore.Row> rows, long fingerprint, String seal) {}

  private void load() throws CaException {
    Snapshot snap = store.inTransaction(tx -> {
      String seal = tx.templates().lockSeal().orElse("");
      return new Snapshot(tx.templates().list(), tx.templates().fingerprint(), seal);
    });
    List<TemplateStore.Row> rows = snap.rows();
    long fp = snap.fingerprint();
    if (!sealed(rows, snap.seal())) {
      fingerprint = fp; // checked again when the store's templates change
      if (reportedTampered != fp) {
        reportedTampered = fp;
        LOG.error("the store's templates do not match their seal (changed outside the CA); this node keeps the "
            + "templates it had; an administrator checks them and runs 'keyarc template reseal'");
        Instant now = clock.instant();
        store.inTransaction(tx -> Audit.append(tx, Audit.NODE, AuditAction.TEMPLATE_TAMPERED, "templates",
            "the stored templates do not match their seal; not taken up", now));
      }
      return;
    }
    List<NodeConfig.TemplateCfg> enabled = new ArrayList<>();
    java.util.Map<String, Integer> versions = new java.util.HashMap<>();
    for (TemplateStore.Row r : rows) {
      if (r.enabled()) {
        enabled.add(parse(r));
        versions.put(r.name(), r.version());
      }
    }
    try {
      templates.replace(TemplateDefinitions.validate(enabled), versions);
    } catch (ConfigException e) {
      // refused when written; a store edited around the node is kept out, the templates in use stay
      LOG.error("the store's templates are not valid, the node keeps its current ones: {}", e.getMessage());
      return;
    }
    fingerprint = fp;
  }

  private static NodeConfig.TemplateCfg parse(TemplateStore.Row r) throws CaException {
    try {
      return TemplateDefinitions.parse(r.definition());
    } catch (ConfigException e) {
      throw new CaException(ErrorCode.STORE_ERROR, "the stored template " + r.name() + " does not parse");
    }
  }

  /** Every template with its version and state (administrators, managers, auditors). */
  public List<TemplateStore.Row> list(Identity who) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR, Role.MANAGER, Role.AUDITOR);
    return store.inTransaction(tx -> tx.templates().list());
  }

  /** One template (administrators, managers, auditors); UNKNOWN_TEMPLATE names those there are. */
  public TemplateStore.Row show(Identity who, String name) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR, Role.MANAGER, Role.AUDITOR);
    return store.inTransaction(tx -> row(tx, name));
  }

  /** A copy of {@code source} under {@code name}, version 1, enabled (administrators). */
  public TemplateStore.Row duplicate(Identity who, String source, String name) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR);
    Instant now = clock.instant();
    TemplateStore.Row made = store.inTransaction(tx -> {
      checkSeal(tx);
      TemplateStore.Row src = row(tx, source);
      NodeConfig.TemplateCfg c = parse(src);
      c.name = name;
      if (c.enroll != null && c.enroll.holdersOf.contains(source)) { // renewal on the copy is by its own holders
        List<String> h = new ArrayList<>(c.enroll.holdersOf);
        h.replaceAll(x -> x.equals(source) ? name : x);
        c.enroll.holdersOf = h;
      }
      validateWith(tx, c);
      TemplateStore.Row r = new TemplateStore.Row(name, 1, true, json(c), now, who.actor());
      if (!tx.templates().insert(r)) {
        throw new CaException(ErrorCode.BAD_REQUEST, "a template named " + Texts.printable(name) + " exists");
      }
      Audit.append(tx, who.actor(), AuditAction.TEMPLATE_CHANGE, "template:" + name, "version=1 duplicate of "
          + source + " version " + src.version(), now);
      reseal(tx, who.actor(), now);
      return r;
    });
    load();
    return made;
  }

  /** {@code settings} applied to {@code name}, its version bumped (administrators). */
  public TemplateStore.Row set(Identity who, String name, Map<String, String> settings) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR);
    if (settings.isEmpty()) {
      throw new CaException(ErrorCode.BAD_REQUEST, "nothing to set: give field=value pairs");
    }
    Instant now = clock.instant();
    TemplateStore.Row changed = store.inTransaction(tx -> {
      checkSeal(tx);
      TemplateStore.Row old = row(tx, name);
      NodeConfig.TemplateCfg c;
      try {
        c = TemplateDefinitions.set(parse(old), settings);
      } catch (ConfigException e) {
        throw new CaException(ErrorCode.BAD_REQUEST, "template " + name + ": " + e.getMessage());
      }
      validateWith(tx, c);
      TemplateStore.Row r = new TemplateStore.Row(name, old.version() + 1, old.enabled(), json(c), now, who.actor());
      tx.templates().update(r);
      Audit.append(tx, who.actor(), AuditAction.TEMPLATE_CHANGE, "template:" + name, "version=" + r.version()
          + " set " + Texts.printable(settings.toString()), now);
      reseal(tx, who.actor(), now);
      return r;
    });
    load();
    return changed;
  }

  /**
   * Definitions from a file (administrators): each new name added (version 1, offered), each existing one
   * replaced (version + 1, its state kept); all checked together with the other offered templates first, in one
   * unit of work, so that a bad file changes nothing.
   */
  public List<TemplateStore.Row> importDefinitions(Identity who, List<String> definitions) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR);
    List<NodeConfig.TemplateCfg> incoming = new ArrayList<>();
    for (String d : definitions) {
      try {
        incoming.add(TemplateDefinitions.parse(d));
      } catch (ConfigException e) {
        throw new CaException(ErrorCode.BAD_REQUEST, e.getMessage());
      }
    }
    Instant now = clock.instant();
    List<TemplateStore.Row> done = store.inTransaction(tx -> {
      checkSeal(tx);
      java.util.Map<String, NodeConfig.TemplateCfg> all = offered(tx, null);
      for (NodeConfig.TemplateCfg c : incoming) {
        noAgentCopy(c);
        all.put(c.name, c);
      }
      validate(new ArrayList<>(all.values()));
      List<TemplateStore.Row> out = new ArrayList<>();
      for (NodeConfig.TemplateCfg c : incoming) {
        java.util.Optional<TemplateStore.Row> old = tx.templates().lock(c.name);
        if (old.isPresent() && (parse(old.get()).subordinateCa == null) != (c.subordinateCa == null)) {
          // held requests and holders' renewals under the name would change kind with it
          throw new CaException(ErrorCode.BAD_REQUEST, "template " + c.name + " issues " + (c.subordinateCa == null
              ? "CA" : "end-entity") + " certificates and cannot be changed to issue " + (c.subordinateCa == null
              ? "end-entity" : "CA") + " ones (its held requests and its holders' renewals would change with it): "
              + "import the definition under a new name");
        }
        TemplateStore.Row r = new TemplateStore.Row(c.name, old.map(o -> o.version() + 1).orElse(1),
            old.map(TemplateStore.Row::enabled).orElse(true), json(c), now, who.actor());
        if (old.isPresent()) {
          tx.templates().update(r);
        } else {
          tx.templates().insert(r);
        }
        Audit.append(tx, who.actor(), AuditAction.TEMPLATE_CHANGE, "template:" + c.name, "version=" + r.version()
            + " imported", now);
        out.add(r);
      }
      reseal(tx, who.actor(), now);
      return out;
    });
    load();
    return done;
  }

  /**
   * After the node found the store's templates changed outside the CA and an administrator checked them
   * ({@code template export}): seals them as they are, and the nodes take them up (administrators).
   */
  public int reseal(Identity who, String note) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR);
    Instant now = clock.instant();
    int n = store.inTransaction(tx -> {
      tx.templates().lockSeal();
      List<TemplateStore.Row> rows = tx.templates().list();
      for (TemplateStore.Row r : rows) {
        parse(r); // a definition that does not even parse is not sealed
      }
      reseal(tx, who.actor(), now);
      Audit.append(tx, who.actor(), AuditAction.TEMPLATE_RESEAL, "templates", rows.size() + " templates sealed as "
          + "they are in the store; note: " + Texts.printable(note), now);
      return rows.size();
    });
    fingerprint = Long.MIN_VALUE;
    load();
    return n;
  }

  /** Offers {@code name} again, or no longer (administrators); its version is bumped. */
  public TemplateStore.Row enable(Identity who, String name, boolean enabled) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR);
    Instant now = clock.instant();
    TemplateStore.Row changed = store.inTransaction(tx -> {
      checkSeal(tx);
      TemplateStore.Row old = row(tx, name);
      TemplateStore.Row r = new TemplateStore.Row(name, old.version() + 1, enabled, old.definition(), now, who.actor());
      tx.templates().update(r);
      // the offered templates must still be valid together (another may name this one in enroll.holdersOf)
      validate(new ArrayList<>(offered(tx, null).values()));
      Audit.append(tx, who.actor(), AuditAction.TEMPLATE_CHANGE, "template:" + name, "version=" + r.version()
          + (enabled ? " enabled" : " disabled"), now);
      reseal(tx, who.actor(), now);
      return r;
    });
    load();
    return changed;
  }

  private static TemplateStore.Row row(StoreTx tx, String name) throws CaException {
    return tx.templates().lock(name).orElseThrow(() -> new CaException(ErrorCode.UNKNOWN_TEMPLATE, "unknown template '"
        + Texts.printable(name) + "'"));
  }

  /**
   * A change may not put the Key Recovery Agent EKU on another template: agent certificates are approved by hand,
   * always, and a copy of the agents' template would issue them without (an agent added from such a certificate
   * is refused all the same, {@code kra/AgentService}).
   */
  private static void noAgentCopy(NodeConfig.TemplateCfg c) throws CaException {
    if (Templates.KEY_RECOVERY_AGENT.equals(c.name)) {
      return;
    }
    for (String e : c.extendedKeyUsage) {
      boolean agent;
      try {
        agent = Template.ekuOf(e).equals(Template.EKU_KEY_RECOVERY_AGENT);
      } catch (IllegalArgumentException bad) {
        continue; // refused by the validation, naming the field
      }
      if (agent) {
        throw new CaException(ErrorCode.BAD_REQUEST, "template " + Texts.printable(c.name) + ": field "
            + "'extendedKeyUsage' the Key Recovery Agent EKU is only for the KeyRecoveryAgent template");
      }
    }
  }

  /** {@code c} valid among the other enabled templates (it replaces one of its name). */
  private static void validateWith(StoreTx tx, NodeConfig.TemplateCfg c) throws CaException {
    noAgentCopy(c);
    List<NodeConfig.TemplateCfg> all = new ArrayList<>(offered(tx, c.name).values());
    all.add(c);
    validate(all);
  }

  /** The definition's JSON, refused (not cut) when longer than its column. */
  private static String json(NodeConfig.TemplateCfg c) throws CaException {
    String j = TemplateDefinitions.json(c);
    if (j.length() > MAX_DEFINITION) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the definition of template " + Texts.printable(c.name) + " would be "
          + j.length() + " characters; at most " + MAX_DEFINITION);
    }
    return j;
  }

  private static void validate(List<NodeConfig.TemplateCfg> all) throws CaException {
    try {
      TemplateDefinitions.validate(all);
    } catch (ConfigException e) {
      throw new CaException(ErrorCode.BAD_REQUEST, e.getMessage());
    }
  }
}
