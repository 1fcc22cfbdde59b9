package org.keyarc.ca.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigInteger;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
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
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.RequestRecord;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.RoleStore;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.support.Texts;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcCmp;

/**
 * The administrative operations that travel in signature-protected genm messages (infoType
 * {@code KeyarcCmp.ADMIN}): a JSON object in, a JSON object out. Every role check is in the services;
 * this class only reads arguments and shapes answers.
 */
public final class AdminApi {
  private static final ObjectMapper JSON = new ObjectMapper();
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

  public AdminApi(ApprovalService approvals, CertificateQueries certificates, RevocationService revocation,
      CrlService crls, SecretService secrets, RoleService roles, AuditService audit, AgentService agents,
      ArchiveService archives, RecoveryService recoveries) {
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
    String op = text(req, "op");
    ObjectNode out = JSON.createObjectNode();
    switch (op) {
      case "request.list" -> {
        String status = req.path("status").asText("");
        ArrayNode list = out.putArray("requests");
        for (RequestRecord r : approvals.list(who, status.isEmpty() ? null
            : status(RequestRecord.Status.class, status))) {
          list.add(request(r));
        }
      }
      case "request.show" -> out.set("request", request(approvals.show(who, number(req, "id"))));
      case "request.approve" -> {
        var cert = approvals.approve(who, number(req, "id"));
        out.put("serial", Digests.hex(cert.getSerialNumber()));
        out.put("subject", cert.getSubject().toString());
      }
      case "request.deny" -> {
        approvals.deny(who, number(req, "id"), req.path("reason").asText(""));
        out.put("denied", number(req, "id"));
      }
      case "cert.list" -> {
        String status = req.path("status").asText("");
        String subject = req.path("subject").asText("");
        ArrayNode list = out.putArray("certificates");
        for (CertRecord r : certificates.list(who, status.isEmpty() ? null
            : status(CertRecord.Status.class, status), subject.isEmpty() ? null
            : X500Subject.parse(subject).toString(), req.path("limit").asInt(100))) {
          list.add(cert(r, false));
        }
      }
      case "cert.show" -> out.set("certificate", cert(certificates.show(who, serial(req)), true));
      case "cert.revoke" -> {
        revocation.revoke(who, serial(req), req.path("reason").asInt(0), null);
        out.put("revoked", Digests.hex(serial(req)));
      }
      case "secret.create" -> {
        X500Name subject = subject(req);
        SecretService.NewSecret s = secrets.create(who, text(req, "template"), subject);
        out.put("reference", s.reference());
        out.put("secret", new String(s.secret()));
        java.util.Arrays.fill(s.secret(), '\0');
        out.put("template", s.template());
        out.put("subject", s.subject());
        out.put("expires", s.expires().toString());
      }
      case "role.grant" -> {
        roles.grant(who, subject(req).toString(), role(req));
        out.put("granted", role(req).name());
      }
      case "role.revoke" -> {
        roles.revoke(who, subject(req).toString(), role(req));
        out.put("revoked", role(req).name());
      }
      case "role.list" -> {
        ArrayNode list = out.putArray("members");
        for (RoleStore.Member m : roles.list(who)) {
          list.addObject().put("subject", m.subject()).put("role", m.role().name()).put("grantedBy", m.grantedBy())
              .put("grantedAt", m.grantedAt().toString());
        }
      }
      case "audit.verify" -> {
        AuditChain.Verification v = audit.verify(who);
        out.put("records", v.records());
        out.put("checkpoints", v.checkpoints());
        out.put("lastCheckpoint", v.lastCheckpoint());
        ArrayNode problems = out.putArray("problems");
        v.problems().forEach(problems::add);
      }
      case "crl.publish" -> {
        Authorization.require(who, Role.MANAGER);
        out.put("crlNumber", crls.publish(who.actor()).toASN1Structure().getTBSCertList().getExtensions()
            .getExtensionParsedValue(org.bouncycastle.asn1.x509.Extension.cRLNumber).toString());
      }
      case "kra.add" -> {
        var a = agents.add(who, serial(req));
        out.put("added", Digests.hex(a.serial())).put("subject", a.subject());
      }
      case "kra.remove" -> {
        agents.remove(who, serial(req));
        out.put("removed", Digests.hex(serial(req)));
      }
      case "kra.policy" -> {
        agents.setPolicy(who, (int) number(req, "agents"), (int) number(req, "threshold"));
        out.put("agents", number(req, "agents")).put("threshold", number(req, "threshold"));
      }
      case "kra.list" -> {
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
      }
      case "archive.find" -> {
        String subject = req.path("subject").asText("");
        String hash = req.path("certHash").asText("");
        var rows = archives.find(who, req.has("serial") ? serial(req) : null, subject.isEmpty() ? null : subject,
            hash.isEmpty() ? null : hash);
        ArrayNode list = out.putArray("archives");
        for (var r : rows) {
          list.addObject().put("serial", Digests.hex(r.serial())).put("subject", r.subject())
              .put("certSha256", r.certSha256()).put("threshold", r.threshold()).put("agents", r.agents())
              .put("created", r.createdAt().toString()).put("bytes", r.record().length);
        }
      }
      case "archive.getkey" -> {
        String subject = req.path("subject").asText("");
        String hash = req.path("certHash").asText("");
        ArrayNode list = out.putArray("blobs");
        for (ArchiveService.KeyBlob b : archives.getKey(who, req.has("serial") ? serial(req) : null,
            subject.isEmpty() ? null : subject, hash.isEmpty() ? null : hash)) {
          list.addObject().put("serial", Digests.hex(b.serial())).put("subject", b.subject())
              .put("threshold", b.threshold()).put("agents", b.agents())
              .put("blob", Base64.getEncoder().encodeToString(b.blob()));
        }
      }
      case "recovery.open" -> out.put("id", recoveries.open(who, serial(req)));
      case "recovery.list" -> {
        ArrayNode list = out.putArray("recoveries");
        for (var r : recoveries.list(who, req.path("all").asBoolean(false))) {
          list.add(recovery(r, recoveries.steps(who, r.id()), false));
        }
      }
      case "recovery.show" -> {
        long id = number(req, "id");
        out.set("recovery", recovery(recoveries.show(who, id), recoveries.steps(who, id),
            req.path("material").asBoolean(false)));
      }
      case "recovery.check" -> {
        recoveries.step(who, number(req, "id"), serial(req), text(req, "card"), null, true);
        out.put("allowed", true);
      }
      case "recovery.step" -> {
        String progress = req.path("progress").asText("");
        recoveries.step(who, number(req, "id"), serial(req), text(req, "card"),
            progress.isEmpty() ? null : Base64.getDecoder().decode(progress));
        out.put("recorded", number(req, "id"));
      }
      case "whoami" -> {
        out.put("identity", who.actor());
        ArrayNode roles = out.putArray("roles");
        who.roles().forEach(r -> roles.add(r.name()));
      }
      default -> throw new CaException(ErrorCode.BAD_REQUEST, "unknown administrative operation '"
          + Texts.printable(op) + "'");
    }
    return out.toString();
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
    return n;
  }

  private static ObjectNode cert(CertRecord r, boolean withDer) {
    ObjectNode n = JSON.createObjectNode();
    n.put("serial", Digests.hex(r.serial())).put("subject", r.subject()).put("template", r.template())
        .put("status", r.status().name()).put("notBefore", r.notBefore().toString())
        .put("notAfter", r.notAfter().toString()).put("sha256", r.sha256());
    if (r.revokedAt() != null) {
      n.put("revokedAt", r.revokedAt().toString()).put("reason", r.revocationReason());
    }
    if (withDer) {
      n.put("der", Base64.getEncoder().encodeToString(r.der()));
    }
    return n;
  }

  private static String text(JsonNode req, String field) throws CaException {
    JsonNode n = req.get(field);
    if (n == null || !n.isTextual() || n.asText().isBlank()) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the request needs the text field '" + field + "'");
    }
    return n.asText();
  }

  private static long number(JsonNode req, String field) throws CaException {
    JsonNode n = req.get(field);
    if (n == null || !n.canConvertToLong()) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the request needs the number field '" + field + "'");
    }
    return n.asLong();
  }

  private static BigInteger serial(JsonNode req) throws CaException {
    try {
      return new BigInteger(text(req, "serial"), 16);
    } catch (NumberFormatException e) {
      throw new CaException(ErrorCode.BAD_REQUEST, "serial must be hexadecimal");
    }
  }

  private static X500Name subject(JsonNode req) throws CaException {
    try {
      return X500Subject.parse(text(req, "subject"));
    } catch (IllegalArgumentException e) {
      throw new CaException(ErrorCode.BAD_SUBJECT, "subject " + e.getMessage());
    }
  }

  private static Role role(JsonNode req) throws CaException {
    String r = text(req, "role").toUpperCase().replace('-', '_').replace(' ', '_');
    try {
      return Role.valueOf(r);
    } catch (IllegalArgumentException e) {
      throw new CaException(ErrorCode.BAD_REQUEST, "unknown role '" + Texts.printable(text(req, "role"))
          + "'; use administrator, manager, auditor or recovery_agent");
    }
  }
}
