package org.keyarc.ca.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.AuditChain;
import org.keyarc.ca.audit.AuditService;
import org.keyarc.ca.auth.Authorization;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.RoleService;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.config.X500Subject;
import org.keyarc.ca.issue.ApprovalService;
import org.keyarc.ca.issue.CertificateQueries;
import org.keyarc.ca.kra.AgentService;
import org.keyarc.ca.kra.ArchiveService;
import org.keyarc.ca.kra.RecoveryService;
import org.keyarc.ca.revoke.CrlService;
import org.keyarc.ca.revoke.RevocationService;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.RequestRecord;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.RoleStore;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.support.Texts;
import org.keyarc.protocol.CardEvidence;
import org.keyarc.ca.template.NameRules;
import org.keyarc.ca.template.SanType;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcCmp;
import org.keyarc.protocol.admin.AdminFields;
import org.keyarc.protocol.admin.AdminOp;

/**
 * The administrative operations that travel in signature-protected genm messages (infoType
 * {@code KeyarcCmp.ADMIN}): a JSON object in, a JSON object out. Every role check is in the services;
 * this class only reads arguments and shapes answers.
 */
public final class AdminApi {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Longest text field (names, filters, notes, reasons) an operation takes; the recovery progress is not one. */
  static final int MAX_FIELD_CHARS = 1024;
  /** Most subjectAltNames bound to one secret. */
  static final int MAX_NAMES = 16;
  private final ApprovalService approvals;
  private final CertificateQueries certificates;
  private final RevocationService revocation;
  private final CrlService crls;
  private final SecretService secrets;
  private final RoleService roles;
  private final AuditService audit;
  private final AgentService agents;
  private final ArchiveService archives;
  private final RecoveryService recoveries;

  private final org.keyarc.ca.catalog.TemplateCatalog catalog;
  private final CeremonyAnswers ceremonies;

  public AdminApi(ApprovalService approvals, CertificateQueries certificates, RevocationService revocation,
      CrlService crls, SecretService secrets, RoleService roles, AuditService audit, AgentService agents,
      ArchiveService archives, RecoveryService recoveries, org.keyarc.ca.catalog.TemplateCatalog catalog,
      org.keyarc.ca.kra.CeremonyService ceremonies) {
    this.catalog = catalog;
    this.ceremonies = new CeremonyAnswers(ceremonies);
    this.approvals = approvals;
    this.certificates = certificates;
    this.revocation = revocation;
    this.crls = crls;
    this.secrets = secrets;
    this.roles = roles;
    this.audit = audit;
    this.agents = agents;
    this.archives = archives;
    this.recoveries = recoveries;
  }

  /** The operation's wire name in an administrative request, for messages and the audit ("?" when unreadable). */
  public static String operationName(String json) {
    try {
      JsonNode req = JSON.readTree(json);
      JsonNode op = req == null ? null : req.get(AdminFields.OP);
      return op != null && op.isTextual() ? Texts.printable(op.asText()) : "?";
    } catch (IOException e) {
      return "?";
    }
  }

  /** Answers one administrative request (JSON) from {@code who}. */
  public String handle(Identity who, String json) throws CaException {
    JsonNode req;
    try {
      req = JSON.readTree(json);
    } catch (IOException e) {
      throw new CaException(ErrorCode.BAD_MESSAGE, "the administrative request is not JSON");
    }
    if (req == null || !req.isObject()) {
      throw new CaException(ErrorCode.BAD_MESSAGE, "the administrative request must be a JSON object");
    }
    String wire = text(req, AdminFields.OP);
    AdminOp op = AdminOp.ofWire(wire).orElseThrow(() -> new CaException(ErrorCode.BAD_REQUEST,
        "unknown administrative operation '" + Texts.printable(wire) + "'"));
    try {
      return answer(who, req, op).toString();
    } catch (IllegalArgumentException | ArithmeticException | java.time.DateTimeException e) {
      // a field of the wrong form (a name that is no DN, a number out of range): the request's fault
      throw new CaException(ErrorCode.BAD_REQUEST, op.wireName() + ": a field cannot be read: "
          + Texts.printable(e.getMessage()));
    }
  }

  private ObjectNode answer(Identity who, JsonNode req, AdminOp op) throws CaException {
    ObjectNode out = JSON.createObjectNode();
    switch (op) {
      case REQUEST_LIST -> {
        String status = field(req, AdminFields.STATUS);
        ArrayNode list = out.putArray("requests");
        for (RequestRecord r : approvals.list(who, status.isEmpty() ? null
            : status(RequestRecord.Status.class, status))) {
          list.add(request(r));
        }
      }
      case REQUEST_SHOW -> out.set("request", request(approvals.show(who, number(req, AdminFields.ID))));
      case REQUEST_APPROVE -> {
        var cert = approvals.approve(who, number(req, AdminFields.ID));
        if (cert == null) { // the template needs more managers' approvals
          out.put("waiting", true);
        } else {
          out.put("serial", Digests.hex(cert.getSerialNumber()));
          out.put("subject", cert.getSubject().toString());
        }
      }
      case REQUEST_DENY -> {
        approvals.deny(who, number(req, AdminFields.ID), field(req, AdminFields.REASON));
        out.put("denied", number(req, AdminFields.ID));
      }
      case CERT_LIST -> {
        String status = field(req, AdminFields.STATUS);
        String subject = field(req, AdminFields.SUBJECT);
        ArrayNode list = out.putArray("certificates");
        List<CertRecord> found = certificates.list(who, status.isEmpty() ? null
            : status(CertRecord.Status.class, status), subject.isEmpty() ? null
            : X500Subject.parse(subject).toString(), req.path(AdminFields.LIMIT).asInt(100));
        java.util.Set<java.math.BigInteger> archived = certificates.archived(found);
        for (CertRecord r : found) {
          list.add(cert(r, false).put("archived", archived.contains(r.serial())));
        }
      }
      case CERT_SHOW -> {
        CertRecord r = certificates.show(who, serial(req));
        ObjectNode c = cert(r, true).put("archived", !certificates.archived(List.of(r)).isEmpty());
        certificates.templateVersion(r.serial()).ifPresent(v -> c.put("templateVersion", v));
        out.set("certificate", c);
      }
      case CERT_REVOKE -> {
        revocation.revoke(who, serial(req), req.path(AdminFields.REASON).asInt(0), null);
        out.put("revoked", Digests.hex(serial(req)));
      }
      case SECRET_CREATE -> {
        X500Name subject = subject(req);
        SecretService.NewSecret s = secrets.create(who, text(req, AdminFields.TEMPLATE), subject, names(req));
        out.put("reference", s.reference());
        out.put("secret", new String(s.secret()));
        java.util.Arrays.fill(s.secret(), '\0');
        out.put("template", s.template());
        out.put("subject", s.subject());
        if (s.subjectAltNames() != null) {
          ArrayNode names = out.putArray(AdminFields.SUBJECT_ALT_NAMES);
          NameRules.texts(s.subjectAltNames()).forEach(names::add);
        }
        out.put("expires", s.expires().toString());
      }
      case ROLE_GRANT -> {
        RoleService.Granted g = req.has(AdminFields.SERIAL) ? roles.grant(who, serial(req), role(req))
            : roles.grant(who, subject(req).toString(), role(req));
        out.put("granted", role(req).name()).put("subject", g.member().subject())
            .put("serial", g.member().certSerial()).put("holder", g.member().holder()).put("added", g.added());
      }
      case ROLE_REVOKE -> {
        roles.revoke(who, req.has(AdminFields.SERIAL) ? null : subject(req).toString(),
            req.has(AdminFields.SERIAL) ? serial(req) : null, role(req));
        out.put("revoked", role(req).name());
      }
      case ROLE_LIST -> {
        ArrayNode list = out.putArray("members");
        for (RoleStore.Member m : roles.list(who)) {
          list.addObject().put("subject", m.subject()).put("role", m.role().name()).put("serial", m.certSerial())
              .put("holder", m.holder()).put("grantedBy", m.grantedBy()).put("grantedAt", m.grantedAt().toString());
        }
        ArrayNode pending = out.putArray("pending");
        for (RoleStore.Pending p : roles.pending(who)) {
          pending.addObject().put("subject", p.subject()).put("role", p.role().name())
              .put("secret", p.secretReference()).put("grantedBy", p.grantedBy())
              .put("grantedAt", p.grantedAt().toString());
        }
      }
      case TEMPLATE_LIST -> {
        ArrayNode list = out.putArray("templates");
        for (org.keyarc.ca.store.TemplateStore.Row r : catalog.list(who)) {
          list.add(template(r, false));
        }
      }
      case TEMPLATE_SHOW -> out.set("template", template(catalog.show(who, text(req, AdminFields.TEMPLATE)), true));
      case TEMPLATE_DUPLICATE -> out.set("template", template(catalog.duplicate(who, text(req, AdminFields.TEMPLATE),
          text(req, AdminFields.NAME)), true));
      case TEMPLATE_SET -> {
        JsonNode s = req.path(AdminFields.SETTINGS);
        if (!s.isObject() || s.size() > 32) {
          throw new CaException(ErrorCode.BAD_REQUEST, "settings must be an object of at most 32 field=value pairs");
        }
        java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();
        for (var it = s.fields(); it.hasNext();) {
          var e = it.next();
          settings.put(bounded(AdminFields.SETTINGS, e.getKey()), bounded(AdminFields.SETTINGS, e.getValue().asText()));
        }
        out.set("template", template(catalog.set(who, text(req, AdminFields.TEMPLATE), settings), true));
      }
      case TEMPLATE_EXPORT -> {
        ArrayNode list = out.putArray("templates");
        for (org.keyarc.ca.store.TemplateStore.Row r : catalog.list(who)) {
          list.add(template(r, true));
        }
      }
      case TEMPLATE_IMPORT -> {
        JsonNode defs = req.path(AdminFields.TEMPLATES);
        if (!defs.isArray() || defs.isEmpty() || defs.size() > 64) {
          throw new CaException(ErrorCode.BAD_REQUEST, "templates must be an array of 1 to 64 definitions");
        }
        List<String> json = new java.util.ArrayList<>();
        for (JsonNode d : defs) {
          String j = d.toString();
          if (j.length() > 16_000) {
            throw new CaException(ErrorCode.BAD_REQUEST, "a template definition of " + j.length()
                + " characters; at most 16000");
          }
          json.add(j);
        }
        ArrayNode list = out.putArray("templates");
        for (org.keyarc.ca.store.TemplateStore.Row r : catalog.importDefinitions(who, json)) {
          list.add(template(r, false));
        }
      }
      case TEMPLATE_RESEAL -> out.put("sealed", catalog.reseal(who, field(req, AdminFields.NOTE)));
      case TEMPLATE_ENABLE, TEMPLATE_DISABLE -> out.set("template", template(catalog.enable(who, text(req,
          AdminFields.TEMPLATE), op == AdminOp.TEMPLATE_ENABLE), false));
      case AUDIT_VERIFY -> {
        AuditChain.Verification v = req.has(AdminFields.ANCHORS) ? audit.verifyExported(who, anchors(req))
            : audit.verify(who);
        out.put("records", v.records());
        out.put("chains", v.chains());
        out.put("checkpoints", v.checkpoints());
        out.put("uncovered", v.uncovered());
        ArrayNode problems = out.putArray("problems");
        v.problems().forEach(problems::add);
      }
      case AUDIT_LIST -> {
        int limit = req.path(AdminFields.LIMIT).asInt(100);
        ArrayNode list = out.putArray("records");
        for (AuditStore.Row r : audit.list(who, req.path(AdminFields.FROM).asLong(1), instant(req, AdminFields.SINCE),
            instant(req, AdminFields.UNTIL), optional(req, AdminFields.ACTION), optional(req, AdminFields.ACTOR),
            optional(req, AdminFields.TARGET), limit)) {
          list.addObject().put("id", r.id()).put("chain", r.chain()).put("seq", r.seq()).put("at", r.at().toString())
              .put("actor", r.actor())
              .put("action", r.action()).put("target", r.target()).put("detail", r.detail()).put("hash", r.hash());
        }
      }
      case AUDIT_ACKNOWLEDGE -> out.put("checkpoint", audit.acknowledge(who, field(req, AdminFields.NOTE)));
      case CRL_PUBLISH -> {
        Authorization.require(who, Role.MANAGER);
        out.put("crlNumber", crls.publish(who.actor()).toASN1Structure().getTBSCertList().getExtensions()
            .getExtensionParsedValue(org.bouncycastle.asn1.x509.Extension.cRLNumber).toString());
      }
      case KRA_ADD -> {
        AgentService.Added a = agents.add(who, serial(req), req.path(AdminFields.WITHOUT_CARD_EVIDENCE).asBoolean(false));
        RequestRecord r = a.provenance().request();
        out.put("added", Digests.hex(a.agent().serial())).put("subject", a.agent().subject())
            .put("request", r.id()).put("requestedBy", r.requester()).put("requestedAt", r.createdAt().toString())
            .put("approvedBy", r.decidedBy()).put("approvedAt", r.decidedAt().toString())
            .put("proofOfPossession", proofOfPossession(r));
        if (a.provenance().secretMadeBy() != null) {
          out.put("secretMadeBy", a.provenance().secretMadeBy());
        }
        if (a.provenance().evidence() != null) {
          out.set("cardEvidence", evidence(a.provenance().evidence()));
        } else {
          out.putNull("cardEvidence");
        }
      }
      case KRA_REMOVE -> {
        agents.remove(who, serial(req));
        out.put("removed", Digests.hex(serial(req)));
      }
      case KRA_POLICY -> {
        agents.setPolicy(who, (int) number(req, AdminFields.AGENTS), (int) number(req, AdminFields.THRESHOLD));
        out.put("agents", number(req, AdminFields.AGENTS)).put("threshold", number(req, AdminFields.THRESHOLD));
      }
      case KRA_LIST -> {
        Authorization.require(who, Role.ADMINISTRATOR, Role.MANAGER, Role.AUDITOR);
        var policy = agents.policy();
        out.put("agents", policy.agents()).put("threshold", policy.threshold());
        ArrayNode list = out.putArray("recoveryAgents");
        for (AgentService.AgentStatus a : agents.status()) {
          ObjectNode n = list.addObject().put("serial", Digests.hex(a.agent().serial()))
              .put("subject", a.agent().subject()).put("addedBy", a.agent().addedBy())
              .put("valid", a.problem() == null);
          if (a.problem() != null) {
            n.put("problem", a.problem());
          }
          if (a.cert() != null) {
            n.put("notAfter", a.cert().getNotAfter().toInstant().toString());
          }
        }
        ArrayNode warnings = out.putArray("warnings");
        agents.expiryWarnings().forEach(warnings::add);
      }
      case ARCHIVE_IMPORT -> {
        org.bouncycastle.cert.X509CertificateHolder cert;
        org.bouncycastle.asn1.crmf.EncryptedKey key;
        try {
          cert = new org.bouncycastle.cert.X509CertificateHolder(der(req, AdminFields.CERTIFICATE, 16384));
          key = org.bouncycastle.asn1.crmf.EncryptedKey.getInstance(der(req, AdminFields.ENCRYPTED_KEY, 16384));
        } catch (java.io.IOException | IllegalArgumentException e) {
          throw new CaException(ErrorCode.BAD_INPUT, "certificate and encryptedKey must be base64 DER: "
              + e.getMessage());
        }
        org.keyarc.ca.store.ArchiveStore.Row row = archives.importKey(who, cert, key);
        out.put("serial", Digests.hex(row.serial())).put("subject", row.subject()).put("issuer", row.issuer())
            .put("threshold", row.threshold()).put("agents", row.agents());
      }
      case ARCHIVE_FIND -> {
        String subject = field(req, AdminFields.SUBJECT);
        String hash = field(req, AdminFields.CERT_HASH);
        var rows = archives.find(who, req.has(AdminFields.SERIAL) ? serial(req) : null,
            subject.isEmpty() ? null : subject, hash.isEmpty() ? null : hash);
        ArrayNode list = out.putArray("archives");
        for (var r : rows) {
          ObjectNode n = list.addObject().put("serial", Digests.hex(r.serial())).put("subject", r.subject());
          if (archives.waitingForCertConf(r)) {
            n.put("withheld", "the certificate and its hash are shown once the requester confirms it (certConf)");
          } else {
            n.put("certSha256", r.certSha256());
          }
          n.put("threshold", r.threshold()).put("agents", r.agents()).put("created", r.createdAt().toString())
              .put("bytes", r.record().length);
        }
      }
      case ARCHIVE_GETKEY -> {
        String subject = field(req, AdminFields.SUBJECT);
        String hash = field(req, AdminFields.CERT_HASH);
        ArrayNode list = out.putArray("blobs");
        String user = field(req, AdminFields.USER_NAME);
        for (ArchiveService.KeyBlob b : req.path(AdminFields.PREVIOUS).asBoolean(false)
            ? List.of(archives.previousKey(who, serial(req))) : !user.isEmpty() ? archives.getKeyByName(who, user)
            : archives.getKey(who, req.has(AdminFields.SERIAL) ? serial(req) : null,
            subject.isEmpty() ? null : subject, hash.isEmpty() ? null : hash)) {
          list.addObject().put("serial", Digests.hex(b.serial())).put("subject", b.subject())
              .put("threshold", b.threshold()).put("agents", b.agents())
              .put("blob", Base64.getEncoder().encodeToString(b.blob()));
        }
      }
      case KRA_CEREMONY_PLAN, KRA_CEREMONY_START, KRA_CEREMONY_WORK, KRA_CEREMONY_SUBMIT, KRA_CEREMONY_LIST,
          KRA_CEREMONY_MATERIAL, KRA_CEREMONY_STEP ->
          ceremonies.answer(who, req, op, out);
      case RECOVERY_OPEN -> out.put("id", recoveries.open(who, serial(req)));
      case RECOVERY_LIST -> {
        ArrayNode list = out.putArray("recoveries");
        for (var r : recoveries.list(who, req.path(AdminFields.ALL).asBoolean(false))) {
          list.add(recovery(r, recoveries.steps(who, r.id()), false));
        }
      }
      case RECOVERY_SHOW -> {
        long id = number(req, AdminFields.ID);
        boolean material = req.path(AdminFields.MATERIAL).asBoolean(false);
        out.set("recovery", recovery(material ? recoveries.material(who, id) : recoveries.show(who, id),
            recoveries.steps(who, id), material));
      }
      case RECOVERY_CHECK -> {
        recoveries.step(who, number(req, AdminFields.ID), serial(req), text(req, AdminFields.CARD), null, true);
        out.put("allowed", true);
      }
      case RECOVERY_STEP -> {
        String progress = req.path(AdminFields.PROGRESS).asText("");
        recoveries.step(who, number(req, AdminFields.ID), serial(req), text(req, AdminFields.CARD),
            progress.isEmpty() ? null : Base64.getDecoder().decode(progress));
        out.put("recorded", number(req, AdminFields.ID));
      }
      case RECOVERY_RECEIPT -> out.put("receipt", Base64.getEncoder().encodeToString(
          recoveries.receipt(who, number(req, AdminFields.ID))));
      case WHOAMI -> {
        out.put("identity", who.actor());
        ArrayNode roles = out.putArray("roles");
        who.roles().forEach(r -> roles.add(r.name()));
      }
    }
    return out;
  }

  /** The exported checkpoints of an audit.verify request. */
  private static List<AuditStore.Checkpoint> anchors(JsonNode req) throws CaException {
    JsonNode a = req.get(AdminFields.ANCHORS);
    if (!a.isArray() || a.size() > 100_000) {
      throw new CaException(ErrorCode.BAD_REQUEST, "anchors must be an array of at most 100000 exported checkpoints");
    }
    List<String> lines = new java.util.ArrayList<>();
    a.forEach(n -> lines.add(n.toString()));
    try {
      return org.keyarc.ca.audit.CheckpointExport.read(lines);
    } catch (IllegalArgumentException e) {
      throw new CaException(ErrorCode.BAD_INPUT, "anchors: " + e.getMessage());
    }
  }

  private static String optional(JsonNode req, String field) throws CaException {
    String v = field(req, field);
    return v.isEmpty() ? null : v;
  }

  /** A text field, "" when absent, refused when longer than {@link #MAX_FIELD_CHARS}. */
  private static ObjectNode template(org.keyarc.ca.store.TemplateStore.Row r, boolean definition) {
    ObjectNode o = JSON.createObjectNode().put("name", r.name()).put("version", r.version()).put("enabled",
        r.enabled()).put("updatedAt", r.updatedAt().toString()).put("updatedBy", r.updatedBy());
    if (definition) {
      try {
        o.set("definition", JSON.readTree(r.definition()));
      } catch (java.io.IOException e) {
        o.put("definition", r.definition());
      }
    }
    return o;
  }

  static String field(JsonNode req, String field) throws CaException {
    return bounded(field, req.path(field).asText(""));
  }

  private static String bounded(String field, String v) throws CaException {
    if (v.length() > MAX_FIELD_CHARS) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the field '" + field + "' is " + v.length()
          + " characters long; at most " + MAX_FIELD_CHARS + " are accepted");
    }
    return v;
  }

  private static java.time.Instant instant(JsonNode req, String field) throws CaException {
    String v = optional(req, field);
    try {
      return v == null ? null : java.time.Instant.parse(v);
    } catch (java.time.format.DateTimeParseException e) {
      throw new CaException(ErrorCode.BAD_REQUEST, field + " must be an ISO-8601 instant (2026-12-01T10:00:00Z), not '"
          + Texts.printable(v) + "'");
    }
  }

  private static <E extends Enum<E>> E status(Class<E> type, String value) throws CaException {
    try {
      return Enum.valueOf(type, value.toUpperCase());
    } catch (IllegalArgumentException e) {
      StringBuilder names = new StringBuilder();
      for (E c : type.getEnumConstants()) {
        names.append(names.length() == 0 ? "" : ", ").append(c.name().toLowerCase());
      }
      throw new CaException(ErrorCode.BAD_REQUEST, "unknown status '" + Texts.printable(value) + "'; use "
          + names);
    }
  }

  /** A recovery; with {@code material}, the blob and the latest progress for the next agent. */
  private static ObjectNode recovery(org.keyarc.ca.store.RecoveryStore.Row r,
      List<org.keyarc.ca.store.RecoveryStore.Step> steps, boolean material) {
    ObjectNode n = JSON.createObjectNode();
    n.put("id", r.id()).put("serial", r.serial()).put("subject", r.subject()).put("threshold", r.threshold())
        .put("status", r.status().name()).put("openedBy", r.openedBy()).put("openedAt", r.openedAt().toString())
        .put("stepsDone", steps.size());
    ArrayNode s = n.putArray("steps");
    for (var st : steps) {
      s.addObject().put("step", st.step()).put("agent", st.agent()).put("agentCert", st.agentCert())
          .put("card", st.card()).put("at", st.at().toString());
    }
    if (material) {
      n.put("blob", Base64.getEncoder().encodeToString(r.blob()));
      if (r.progress() != null) {
        n.put("progress", Base64.getEncoder().encodeToString(r.progress()));
      }
    }
    return n;
  }

  private static ObjectNode request(RequestRecord r) {
    ObjectNode n = JSON.createObjectNode();
    n.put("id", r.id()).put("status", r.status().name()).put("template", r.template()).put("subject", r.subject())
        .put("requester", r.requester()).put("body", r.bodyType()).put("created", r.createdAt().toString());
    if (r.decidedBy() != null) {
      n.put("decidedBy", r.decidedBy()).put("decidedAt", r.decidedAt().toString());
    }
    if (r.reason() != null) {
      n.put("reason", r.reason());
    }
    if (r.certSerial() != null) {
      n.put("serial", r.certSerial());
    }
    if (r.requesterId() != null) {
      n.put("requesterId", r.requesterId());
    }
    if (r.decidedById() != null) {
      n.put("decidedById", r.decidedById());
    }
    n.put("proofOfPossession", proofOfPossession(r));
    if (r.cardEvidence() != null) {
      try {
        n.set("cardEvidence", evidence(CardEvidence.parse(r.cardEvidence())));
      } catch (IllegalArgumentException e) {
        n.put("cardEvidence", "unreadable: " + Texts.printable(e.getMessage()));
      }
    } else if (r.template().equals(org.keyarc.ca.template.Templates.KEY_RECOVERY_AGENT)) {
      n.putNull("cardEvidence");
    }
    // what approving issues: the names the template's policy granted the request (nothing else of it)
    ArrayNode names = n.putArray(AdminFields.SUBJECT_ALT_NAMES);
    if (r.extensions() != null) {
      try {
        NameRules.texts(NameRules.of(org.bouncycastle.asn1.x509.Extensions.getInstance(r.extensions())))
            .forEach(names::add);
      } catch (IllegalArgumentException e) {
        names.add("(unreadable: " + e.getMessage() + ")");
      }
    }
    return n;
  }

  /** Card evidence as JSON: the card, the key's attributes (null: not reported), and whether it shows a card key. */
  /** How a held request's key proved possession, as request show and kra add say it. */
  private static String proofOfPossession(RequestRecord r) {
    return r.indirectPop() ? "decryption: the certificate went back encrypted to the key (encrCert), and counts once "
        + "the requester's certConf shows it opened it" : "signature by the requested key";
  }

  private static ObjectNode evidence(CardEvidence e) {
    ObjectNode n = JSON.createObjectNode();
    n.put("tokenLabel", e.tokenLabel()).put("tokenSerial", e.tokenSerial()).put("manufacturer", e.manufacturer())
        .put("model", e.model()).put("keyLabel", e.keyLabel());
    ObjectNode a = n.putObject("attributes");
    bool(a, "CKA_SENSITIVE", e.sensitive());
    bool(a, "CKA_EXTRACTABLE", e.extractable());
    bool(a, "CKA_ALWAYS_SENSITIVE", e.alwaysSensitive());
    bool(a, "CKA_NEVER_EXTRACTABLE", e.neverExtractable());
    bool(a, "CKA_LOCAL", e.local());
    if (e.oaepSha256() != null) {
      n.put("oaepSha256", e.oaepSha256().booleanValue()); // a trial decryption on the card
    }
    n.put("showsCardKey", e.showsCardKey());
    if (!e.showsCardKey()) {
      ArrayNode p = n.putArray("problems");
      e.problems().forEach(p::add);
    }
    n.put("note", "evidence reported by the agent's client, not proof: the card does not attest it");
    return n;
  }

  private static void bool(ObjectNode n, String name, Boolean v) {
    if (v == null) {
      n.putNull(name);
    } else {
      n.put(name, v);
    }
  }

  private static ObjectNode cert(CertRecord r, boolean withDer) {
    ObjectNode n = JSON.createObjectNode();
    n.put("serial", Digests.hex(r.serial())).put("subject", r.subject()).put("template", r.template())
        .put("status", r.status().name()).put("notBefore", r.notBefore().toString())
        .put("notAfter", r.notAfter().toString());
    if (r.revokedAt() != null) {
      n.put("revokedAt", r.revokedAt().toString()).put("reason", r.revocationReason());
    }
    if (r.status() == CertRecord.Status.UNCONFIRMED) {
      // certConf names the certificate's hash; for a key that proves possession by decrypting its certificate
      // (encrCert) that hash is the proof, so no read may give it, or the DER it comes from, before certConf
      n.put("withheld", "the certificate and its hash are shown once the requester confirms it (certConf)");
      return n;
    }
    n.put("sha256", r.sha256());
    if (withDer) {
      n.put("der", Base64.getEncoder().encodeToString(r.der()));
    }
    return n;
  }

  static String text(JsonNode req, String field) throws CaException {
    JsonNode n = req.get(field);
    if (n == null || !n.isTextual() || n.asText().isBlank()) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the request needs the text field '" + field + "'");
    }
    return bounded(field, n.asText());
  }

  /** A base64 DER field of at most {@code maxBytes} decoded bytes (a certificate, an encrypted key). */
  static byte[] der(JsonNode req, String field, int maxBytes) throws CaException {
    JsonNode n = req.get(field);
    if (n == null || !n.isTextual() || n.asText().isBlank()) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the request needs the base64 field '" + field + "'");
    }
    if (n.asText().length() > (maxBytes + 2) / 3 * 4) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the field '" + field + "' is over " + maxBytes + " bytes");
    }
    try {
      return Base64.getDecoder().decode(n.asText());
    } catch (IllegalArgumentException e) {
      throw new CaException(ErrorCode.BAD_INPUT, "the field '" + field + "' is not base64");
    }
  }

  static long number(JsonNode req, String field) throws CaException {
    JsonNode n = req.get(field);
    if (n == null || !n.canConvertToLong()) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the request needs the number field '" + field + "'");
    }
    return n.asLong();
  }

  static BigInteger serial(JsonNode req) throws CaException {
    try {
      return new BigInteger(text(req, AdminFields.SERIAL), 16);
    } catch (NumberFormatException e) {
      throw new CaException(ErrorCode.BAD_REQUEST, "serial must be hexadecimal");
    }
  }

  private static X500Name subject(JsonNode req) throws CaException {
    try {
      return X500Subject.parse(text(req, AdminFields.SUBJECT));
    } catch (IllegalArgumentException e) {
      throw new CaException(ErrorCode.BAD_SUBJECT, "subject " + e.getMessage());
    }
  }

  /** The subjectAltNames of a secret.create: {@code email} and the "type:value" strings of {@code subjectAltNames}. */
  private static GeneralNames names(JsonNode req) throws CaException {
    List<GeneralName> out = new ArrayList<>();
    try {
      JsonNode email = req.get(AdminFields.EMAIL);
      if (email != null && !email.isNull()) {
        if (!email.isTextual()) {
          throw new CaException(ErrorCode.BAD_REQUEST, "the field '" + AdminFields.EMAIL + "' must be text");
        }
        out.add(SanType.RFC822_NAME.name(bounded(AdminFields.EMAIL, email.asText()).trim()));
      }
      JsonNode list = req.get(AdminFields.SUBJECT_ALT_NAMES);
      if (list != null && !list.isNull()) {
        if (!list.isArray()) {
          throw new CaException(ErrorCode.BAD_REQUEST, "the field '" + AdminFields.SUBJECT_ALT_NAMES + "' must be an "
              + "array of \"type:value\" texts");
        }
        if (list.size() > MAX_NAMES) {
          throw new CaException(ErrorCode.BAD_REQUEST, "the field '" + AdminFields.SUBJECT_ALT_NAMES + "' has "
              + list.size() + " names; at most " + MAX_NAMES + " are accepted");
        }
        for (JsonNode n : list) {
          out.add(SanType.parse(bounded(AdminFields.SUBJECT_ALT_NAMES, n.asText())));
        }
      }
    } catch (IllegalArgumentException e) {
      String why = e.getMessage().replaceAll("[^\\x20-\\x7e]", "?");
      throw new CaException(ErrorCode.EXTENSION_NOT_ALLOWED, "subjectAltName " + (why.length() > 300
          ? why.substring(0, 300) + "..." : why));
    }
    return out.isEmpty() ? null : new GeneralNames(out.toArray(new GeneralName[0]));
  }

  private static Role role(JsonNode req) throws CaException {
    String r = text(req, AdminFields.ROLE).toUpperCase().replace('-', '_').replace(' ', '_');
    try {
      return Role.valueOf(r);
    } catch (IllegalArgumentException e) {
      throw new CaException(ErrorCode.BAD_REQUEST, "unknown role '" + Texts.printable(text(req, AdminFields.ROLE))
          + "'; use administrator, manager, auditor or recovery_agent");
    }
  }
}
