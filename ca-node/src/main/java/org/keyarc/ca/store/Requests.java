package org.keyarc.ca.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Data access for the {@code cert_request} table (requests held for approval). */
public final class Requests {
  private static final String COLUMNS = "id, transaction_id, cert_req_id, requester, template, subject, body_type, "
      + "status, public_key, extensions, created_at, decided_by, decided_at, reason, cert_serial";

  private Requests() {}

  /** Inserts a PENDING request and returns its id. */
  public static long insertPending(Connection c, String transactionId, long certReqId, String requester,
      String template, String subject, String bodyType, byte[] publicKey, byte[] extensions, Instant at)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO cert_request (transaction_id, cert_req_id, requester, "
        + "template, subject, body_type, status, public_key, extensions, created_at) VALUES (?,?,?,?,?,?,'PENDING',?,?,?)",
        Statement.RETURN_GENERATED_KEYS)) {
      ps.setString(1, transactionId);
      ps.setLong(2, certReqId);
      ps.setString(3, requester);
      ps.setString(4, template);
      ps.setString(5, subject);
      ps.setString(6, bodyType);
      ps.setBytes(7, publicKey);
      ps.setBytes(8, extensions);
      ps.setLong(9, at.toEpochMilli());
      ps.executeUpdate();
      try (ResultSet keys = ps.getGeneratedKeys()) {
        keys.next();
        return keys.getLong(1);
      }
    }
  }

  public static Optional<RequestRecord> find(Connection c, long id) throws SQLException {
    List<RequestRecord> r = many(c, "SELECT " + COLUMNS + " FROM cert_request WHERE id = ?", id);
    return r.isEmpty() ? Optional.empty() : Optional.of(r.get(0));
  }

  /** The request of a CMP transaction (what a pollReq refers to). */
  public static Optional<RequestRecord> findByTransaction(Connection c, String transactionId, long certReqId)
      throws SQLException {
    List<RequestRecord> r = many(c, "SELECT " + COLUMNS + " FROM cert_request WHERE transaction_id = ? "
        + "AND cert_req_id = ?", transactionId, certReqId);
    return r.isEmpty() ? Optional.empty() : Optional.of(r.get(0));
  }

  /** Oldest first; {@code status} null lists all. */
  public static List<RequestRecord> list(Connection c, RequestRecord.Status status, int limit) throws SQLException {
    if (status == null) {
      return many(c, "SELECT " + COLUMNS + " FROM cert_request ORDER BY id LIMIT " + limit);
    }
    return many(c, "SELECT " + COLUMNS + " FROM cert_request WHERE status = ? ORDER BY id LIMIT " + limit,
        status.name());
  }

  /** PENDING → APPROVED or DENIED; false when the request was not pending (decided meanwhile). */
  public static boolean decide(Connection c, long id, RequestRecord.Status status, String by, String reason,
      String certSerial, Instant at) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE cert_request SET status = ?, decided_by = ?, decided_at = ?, "
        + "reason = ?, cert_serial = ? WHERE id = ? AND status = 'PENDING'")) {
      ps.setString(1, status.name());
      ps.setString(2, by);
      ps.setLong(3, at.toEpochMilli());
      ps.setString(4, reason);
      ps.setString(5, certSerial);
      ps.setLong(6, id);
      return ps.executeUpdate() == 1;
    }
  }

  private static List<RequestRecord> many(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      List<RequestRecord> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new RequestRecord(rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getString(4), rs.getString(5),
              rs.getString(6), rs.getString(7), RequestRecord.Status.valueOf(rs.getString(8)), rs.getBytes(9),
              rs.getBytes(10), Instant.ofEpochMilli(rs.getLong(11)), rs.getString(12),
              Certificates.instant(rs, 13), rs.getString(14), rs.getString(15)));
        }
      }
      return out;
    }
  }
}
