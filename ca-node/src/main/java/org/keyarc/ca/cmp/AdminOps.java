package org.keyarc.ca.cmp;

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
import org.keyarc.ca.CaService;
import org.keyarc.ca.Identity;
import org.keyarc.ca.audit.AuditLog;
import org.keyarc.ca.config.X500Subject;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.RequestRecord;
import org.keyarc.ca.store.Roles;
import org.keyarc.protocol.ErrorCode;

/**
 * The administrative operations that travel in signature-protected genm messages (infoType
 * {@code KeyarcCmp.ADMIN}): a JSON object in, a JSON object out. Every role check is in
 * {@link CaService}; this class only reads arguments and shapes answers.
 */
final class AdminOps {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final CaService ca;

  AdminOps(CaService ca) {
    this.ca = ca;
  }

  String handle(Identity who, String json) throws CaException {
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
        for (RequestRecord r : ca.requests(who, status.isEmpty() ? null
            : status(RequestRecord.Status.class, status))) {
          list.add(request(r));
        }
      }
      case "request.show" -> out.set("request", request(ca.request(who, number(req, "id"))));
      case "request.approve" -> {
        var cert = ca.approve(who, number(req, "id"));
        out.put("serial", CaService.hex(cert.getSerialNumber()));
        out.put("subject", cert.getSubject().toString());
      }
      case "request.deny" -> {
        ca.deny(who, number(req, "id"), req.path("reason").asText(""));
        out.put("denied", number(req, "id"));
      }
      case "cert.list" -> {
        String status = req.path("status").asText("");
        String subject = req.path("subject").asText("");
        ArrayNode list = out.putArray("certificates");
        for (CertRecord r : ca.certificates(who, status.isEmpty() ? null
            : status(CertRecord.Status.class, status), subject.isEmpty() ? null
            : X500Subject.parse(subject).toString(), req.path("limit").asInt(100))) {
          list.add(cert(r, false));
        }
      }
      case "cert.show" -> out.set("certificate", cert(ca.certificate(who, serial(req)), true));
      case "cert.revoke" -> {
        ca.revoke(who, serial(req), req.path("reason").asInt(0), null);
        out.put("revoked", CaService.hex(serial(req)));
      }
      case "secret.create" -> {
        X500Name subject = subject(req);
        CaService.NewSecret s = ca.createSecret(who, text(req, "template"), subject);
        out.put("reference", s.reference());
        out.put("secret", new String(s.secret()));
        java.util.Arrays.fill(s.secret(), '\0');
        out.put("template", s.template());
        out.put("subject", s.subject());
        out.put("expires", s.expires().toString());
      }
      case "role.grant" -> {
        ca.grant(who, subject(req).toString(), role(req));
        out.put("granted", role(req).name());
      }
      case "role.revoke" -> {
        ca.revokeRole(who, subject(req).toString(), role(req));
        out.put("revoked", role(req).name());
      }
      case "role.list" -> {
        ArrayNode list = out.putArray("members");
        for (Roles.Member m : ca.roles(who)) {
          list.addObject().put("subject", m.subject()).put("role", m.role().name()).put("grantedBy", m.grantedBy())
              .put("grantedAt", m.grantedAt().toString());
        }
      }
      case "audit.verify" -> {
        AuditLog.Verification v = ca.verifyAudit(who);
        out.put("records", v.records());
        out.put("checkpoints", v.checkpoints());
        out.put("lastCheckpoint", v.lastCheckpoint());
        ArrayNode problems = out.putArray("problems");
        v.problems().forEach(problems::add);
      }
      case "crl.publish" -> {
        CaService.require(who, Roles.Role.MANAGER);
        out.put("crlNumber", ca.publishCrl(who.actor()).toASN1Structure().getTBSCertList().getExtensions()
            .getExtensionParsedValue(org.bouncycastle.asn1.x509.Extension.cRLNumber).toString());
      }
      case "kra.add" -> {
        var a = ca.addAgent(who, serial(req));
        out.put("added", CaService.hex(a.serial())).put("subject", a.subject());
      }
      case "kra.remove" -> {
        ca.removeAgent(who, serial(req));
        out.put("removed", CaService.hex(serial(req)));
      }
      case "kra.policy" -> {
        ca.setArchivePolicy(who, (int) number(req, "agents"), (int) number(req, "threshold"));
        out.put("agents", number(req, "agents")).put("threshold", number(req, "threshold"));
      }
      case "kra.list" -> {
        CaService.require(who, Roles.Role.ADMINISTRATOR, Roles.Role.MANAGER, Roles.Role.AUDITOR);
        var policy = ca.archivePolicy();
        out.put("agents", policy.agents()).put("threshold", policy.threshold());
        ArrayNode list = out.putArray("recoveryAgents");
        for (CaService.AgentStatus a : ca.agentStatus()) {
          ObjectNode n = list.addObject().put("serial", CaService.hex(a.agent().serial()))
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
        var rows = ca.findArchives(who, req.has("serial") ? serial(req) : null, subject.isEmpty() ? null : subject,
            hash.isEmpty() ? null : hash);
        ArrayNode list = out.putArray("archives");
        for (var r : rows) {
          list.addObject().put("serial", CaService.hex(r.serial())).put("subject", r.subject())
              .put("certSha256", r.certSha256()).put("threshold", r.threshold()).put("agents", r.agents())
              .put("created", r.createdAt().toString()).put("bytes", r.record().length);
        }
      }
      case "archive.getkey" -> {
        String subject = req.path("subject").asText("");
        String hash = req.path("certHash").asText("");
        ArrayNode list = out.putArray("blobs");
        for (CaService.KeyBlob b : ca.getKey(who, req.has("serial") ? serial(req) : null,
            subject.isEmpty() ? null : subject, hash.isEmpty() ? null : hash)) {
          list.addObject().put("serial", CaService.hex(b.serial())).put("subject", b.subject())
              .put("threshold", b.threshold()).put("agents", b.agents())
              .put("blob", Base64.getEncoder().encodeToString(b.blob()));
        }
      }
      case "recovery.open" -> out.put("id", ca.openRecovery(who, serial(req)));
      case "recovery.list" -> {
        ArrayNode list = out.putArray("recoveries");
        for (var r : ca.recoveries(who, req.path("all").asBoolean(false))) {
          list.add(recovery(r, ca.recoverySteps(who, r.id()), false));
        }
      }
      case "recovery.show" -> {
        long id = number(req, "id");
        out.set("recovery", recovery(ca.recovery(who, id), ca.recoverySteps(who, id),
            req.path("material").asBoolean(false)));
      }
      case "recovery.check" -> {
        ca.recoveryStep(who, number(req, "id"), serial(req), text(req, "card"), null, true);
        out.put("allowed", true);
      }
      case "recovery.step" -> {
        String progress = req.path("progress").asText("");
        ca.recoveryStep(who, number(req, "id"), serial(req), text(req, "card"),
            progress.isEmpty() ? null : Base64.getDecoder().decode(progress));
        out.put("recorded", number(req, "id"));
      }
      case "whoami" -> {
        out.put("identity", who.actor());
        ArrayNode roles = out.putArray("roles");
        who.roles().forEach(r -> roles.add(r.name()));
      }
      default -> throw new CaException(ErrorCode.BAD_REQUEST, "unknown administrative operation '"
          + CaService.printable(op) + "'");
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
      throw new CaException(ErrorCode.BAD_REQUEST, "unknown status '" + CaService.printable(value) + "'; use "
          + names);
    }
  }

  /** A recovery; with {@code material}, the blob and the latest progress for the next agent. */
  private static ObjectNode recovery(org.keyarc.ca.store.RecoveryRequests.Row r,
      List<org.keyarc.ca.store.RecoveryRequests.Step> steps, boolean material) {
    ObjectNode n = JSON.createObjectNode();
    n.put("id", r.id()).put("serial", r.serial()).put("subject", r.subject()).put("threshold", r.threshold())
        .put("status", r.status()).put("openedBy", r.openedBy()).put("openedAt", r.openedAt().toString())
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
    n.put("serial", CaService.hex(r.serial())).put("subject", r.subject()).put("template", r.template())
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

  private static Roles.Role role(JsonNode req) throws CaException {
    String r = text(req, "role").toUpperCase().replace('-', '_').replace(' ', '_');
    try {
      return Roles.Role.valueOf(r);
    } catch (IllegalArgumentException e) {
      throw new CaException(ErrorCode.BAD_REQUEST, "unknown role '" + CaService.printable(text(req, "role"))
          + "'; use administrator, manager, auditor or recovery_agent");
    }
  }
}
