package org.keyarc.ca.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.kra.CeremonyService;
import org.keyarc.ca.store.CeremonyStore;
import org.keyarc.ca.support.Digests;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.admin.AdminFields;
import org.keyarc.protocol.admin.AdminOp;
import org.keyarc.protocol.archive.ArchiveRecord;

/** The agent-rotation and drill operations of the administrative API: arguments in, answers out. */
final class CeremonyAnswers {
  /** Most answers in one submission (the client sends a large file in several). */
  static final int MAX_ANSWERS = 200;
  /** Most serials in one selection. */
  static final int MAX_SERIALS = 10_000;

  private final CeremonyService ceremonies;

  CeremonyAnswers(CeremonyService ceremonies) {
    this.ceremonies = ceremonies;
  }

  void answer(Identity who, JsonNode req, AdminOp op, ObjectNode out) throws CaException {
    switch (op) {
      case KRA_CEREMONY_PLAN -> {
        ArrayNode list = out.putArray("archives");
        for (CeremonyService.Planned p : ceremonies.plan(who, kind(req), selection(req))) {
          list.addObject().put("serial", Digests.hex(p.serial())).put("subject", p.subject()).put("from", p.from())
              .put("to", p.to());
        }
      }
      case KRA_CEREMONY_START -> {
        CeremonyService.Started s = ceremonies.start(who, kind(req), selection(req));
        out.put("id", s.id()).put("kind", s.kind().name().toLowerCase()).put("archives", s.archives());
      }
      case KRA_CEREMONY_WORK -> {
        CeremonyService.Work w = ceremonies.work(who, AdminApi.number(req, AdminFields.ID),
            (int) req.path(AdminFields.OFFSET).asLong(0), (int) req.path(AdminFields.LIMIT).asLong(100),
            req.path(AdminFields.RESTART).asBoolean(false));
        out.put("order", Base64.getEncoder().encodeToString(w.signedOrder())).put("unfinished", w.unfinished());
        ArrayNode blobs = out.putArray("blobs");
        w.blobs().forEach(b -> blobs.add(Base64.getEncoder().encodeToString(b)));
      }
      case KRA_CEREMONY_SUBMIT -> {
        JsonNode a = req.get(AdminFields.ANSWERS);
        if (a == null || !a.isArray() || a.size() > MAX_ANSWERS) {
          throw new CaException(ErrorCode.BAD_REQUEST, "answers must be an array of at most " + MAX_ANSWERS);
        }
        List<CeremonyService.Answer> answers = new ArrayList<>();
        for (JsonNode n : a) {
          answers.add(answer(n));
        }
        ArrayNode list = out.putArray("outcomes");
        for (CeremonyService.Outcome o : ceremonies.submit(who, AdminApi.number(req, AdminFields.ID), answers)) {
          list.addObject().put("serial", Digests.hex(o.serial())).put("accepted", o.accepted())
              .put("detail", o.detail());
        }
      }
      case KRA_CEREMONY_MATERIAL -> {
        CeremonyService.Material m = ceremonies.material(who, AdminApi.number(req, AdminFields.ID));
        out.put(AdminFields.WORK, Base64.getEncoder().encodeToString(m.work())).put(AdminFields.VERSION, m.version());
      }
      case KRA_CEREMONY_STEP -> {
        ArrayNode list = out.putArray("outcomes");
        for (CeremonyService.Outcome o : ceremonies.onlineStep(who, AdminApi.number(req, AdminFields.ID),
            AdminApi.text(req, AdminFields.CARD), AdminApi.der(req, AdminFields.WORK, 700_000),
            (int) AdminApi.number(req, AdminFields.VERSION))) {
          list.addObject().put("serial", Digests.hex(o.serial())).put("accepted", o.accepted())
              .put("detail", o.detail());
        }
      }
      case KRA_CEREMONY_LIST -> {
        if (req.has(AdminFields.ID)) {
          long id = AdminApi.number(req, AdminFields.ID);
          ArrayNode list = out.put("id", id).putArray("archives");
          for (CeremonyStore.Item i : ceremonies.items(who, id)) {
            ObjectNode n = list.addObject().put("serial", Digests.hex(i.serial())).put("status",
                i.status().name().toLowerCase());
            if (i.doneAt() != null) {
              n.put("at", i.doneAt().toString());
            }
            if (i.detail() != null) {
              n.put("detail", i.detail());
            }
          }
        } else {
          ArrayNode list = out.putArray("ceremonies");
          for (CeremonyStore.Row r : ceremonies.list(who)) {
            int done = 0;
            int all = 0;
            for (CeremonyStore.Item i : ceremonies.items(who, r.id())) {
              all++;
              done += i.status() == CeremonyStore.ItemStatus.DONE ? 1 : 0;
            }
            list.addObject().put("id", r.id()).put("kind", r.kind().name().toLowerCase()).put("startedBy",
                r.startedBy()).put("startedAt", r.startedAt().toString()).put("archives", all).put("done", done);
          }
        }
      }
      default -> throw new IllegalStateException(op.wireName());
    }
  }

  private static CeremonyStore.Kind kind(JsonNode req) throws CaException {
    String k = AdminApi.text(req, AdminFields.KIND);
    return switch (k) {
      case "rotation" -> CeremonyStore.Kind.ROTATION;
      case "drill" -> CeremonyStore.Kind.DRILL;
      default -> throw new CaException(ErrorCode.BAD_REQUEST, "kind is rotation or drill");
    };
  }

  private static CeremonyService.Selection selection(JsonNode req) throws CaException {
    List<BigInteger> serials = new ArrayList<>();
    JsonNode s = req.get(AdminFields.SERIALS);
    if (s != null) {
      if (!s.isArray() || s.size() > MAX_SERIALS) {
        throw new CaException(ErrorCode.BAD_REQUEST, "serials must be an array of at most " + MAX_SERIALS);
      }
      for (JsonNode n : s) {
        try {
          serials.add(new BigInteger(n.asText(), 16));
        } catch (NumberFormatException e) {
          throw new CaException(ErrorCode.BAD_REQUEST, "serials must be hexadecimal");
        }
      }
    }
    return new CeremonyService.Selection(List.copyOf(serials), (int) Math.min(req.path(AdminFields.LIMIT).asLong(0),
        CeremonyService.MAX_ARCHIVES), (int) Math.min(req.path(AdminFields.SAMPLE).asLong(0),
        CeremonyService.MAX_ARCHIVES), req.path(AdminFields.UNVERIFIED).asBoolean(false));
  }

  private static CeremonyService.Answer answer(JsonNode n) throws CaException {
    BigInteger serial = AdminApi.serial(n);
    try {
      AlgorithmIdentifier alg = AlgorithmIdentifier.getInstance(AdminApi.der(n, "proofAlgorithm", 256));
      byte[] proof = AdminApi.der(n, "proof", 1024);
      List<ArchiveRecord.Envelope> envelopes = new ArrayList<>();
      if (n.hasNonNull("envelopes")) {
        for (ASN1Encodable e : ASN1Sequence.getInstance(AdminApi.der(n, "envelopes", 1 << 20))) {
          envelopes.add(ArchiveRecord.Envelope.of(ASN1Sequence.getInstance(e)));
        }
      }
      byte[] verifierProof = n.hasNonNull("verifierProof") ? AdminApi.der(n, "verifierProof", 256) : null;
      ArchiveRecord.Verifier newVerifier = null;
      if (n.hasNonNull("newVerifier")) {
        newVerifier = ArchiveRecord.Verifier.of(AdminApi.der(n, "newVerifier", 1024));
      }
      return new CeremonyService.Answer(serial, alg, proof, List.copyOf(envelopes), verifierProof, newVerifier);
    } catch (RuntimeException e) {
      throw new CaException(ErrorCode.BAD_INPUT, "the answer for " + Digests.hex(serial) + " cannot be read: "
          + e.getMessage());
    }
  }
}
