package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.keyarc.ca.store.RequestRecord;
import org.keyarc.ca.store.RequestStore;
import org.keyarc.ca.store.StoreException;

/** {@link RequestStore} on JDBC (H2 and PostgreSQL, the same SQL), on one transaction's connection. */
final class JdbcRequests implements RequestStore {
  private final Connection c;

  JdbcRequests(Connection c) {
    this.c = c;
  }
  private static final String COLUMNS = "id, transaction_id, cert_req_id, requester, template, subject, body_type, "
      + "status, public_key, extensions, created_at, decided_by, decided_at, reason, cert_serial, requester_id, origin, "
      + "parties, decided_by_id, card_evidence, pop";

  @Override
  public long insertPending(Held h) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO cert_request (transaction_id, cert_req_id, requester, "
          + "template, subject, body_type, status, public_key, extensions, created_at, requester_id, origin, parties, "
          + "card_evidence, pop) VALUES (?,?,?,?,?,?,'PENDING',?,?,?,?,?,?,?,?)", Statement.RETURN_GENERATED_KEYS)) {
        ps.setString(1, h.transactionId());
        ps.setLong(2, h.certReqId());
        ps.setString(3, h.requester());
        ps.setString(4, h.template());
        ps.setString(5, h.subject());
        ps.setString(6, h.bodyType());
        ps.setBytes(7, h.publicKey());
        ps.setBytes(8, h.extensions());
        ps.setLong(9, h.at().toEpochMilli());
        ps.setString(10, h.requesterId());
        ps.setString(11, h.origin());
        ps.setString(12, h.parties());
        ps.setBytes(13, h.cardEvidence());
        ps.setString(14, h.pop());
        ps.executeUpdate();
        try (ResultSet keys = ps.getGeneratedKeys()) {
          keys.next();
          return keys.getLong(1);
        }
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Optional<RequestRecord> find(long id) throws StoreException {
    try {
      List<RequestRecord> r = many("SELECT " + COLUMNS + " FROM cert_request WHERE id = ?", id);
      return r.isEmpty() ? Optional.empty() : Optional.of(r.get(0));
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Optional<RequestRecord> findByTransaction(String transactionId, long certReqId)
      throws StoreException {
    try {
      List<RequestRecord> r = many("SELECT " + COLUMNS + " FROM cert_request WHERE transaction_id = ? "
          + "AND cert_req_id = ?", transactionId, certReqId);
      return r.isEmpty() ? Optional.empty() : Optional.of(r.get(0));
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<RequestRecord> list(RequestRecord.Status status, int limit) throws StoreException {
    try {
      if (status == null) {
        return many("SELECT " + COLUMNS + " FROM cert_request ORDER BY id LIMIT " + limit);
      }
      return many("SELECT " + COLUMNS + " FROM cert_request WHERE status = ? ORDER BY id LIMIT " + limit,
          status.name());
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public void addApproval(long id, Approval a) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO request_approval (request_id, approver, actor, "
        + "approved_at) VALUES (?,?,?,?)")) {
      ps.setLong(1, id);
      ps.setString(2, a.approver());
      ps.setString(3, a.actor());
      ps.setLong(4, a.at().toEpochMilli());
      ps.executeUpdate();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Approval> approvals(long id) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("SELECT approver, actor, approved_at FROM request_approval "
        + "WHERE request_id = ? ORDER BY approved_at, approver")) {
      ps.setLong(1, id);
      List<Approval> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Approval(rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3))));
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public boolean decide(long id, RequestRecord.Status status, String by, String byId, String reason,
      String certSerial, Instant at) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("UPDATE cert_request SET status = ?, decided_by = ?, decided_at = ?, "
          + "reason = ?, cert_serial = ?, decided_by_id = ? WHERE id = ? AND status = 'PENDING'")) {
        ps.setString(1, status.name());
        ps.setString(2, by);
        ps.setLong(3, at.toEpochMilli());
        ps.setString(4, reason);
        ps.setString(5, certSerial);
        ps.setString(6, byId);
        ps.setLong(7, id);
        return ps.executeUpdate() == 1;
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  private List<RequestRecord> many(String sql, Object... args) throws SQLException {
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
              Sql.instant(rs, 13), rs.getString(14), rs.getString(15), rs.getString(16), rs.getString(17),
              rs.getString(18), rs.getString(19), rs.getBytes(20), rs.getString(21)));
        }
      }
      return out;
    }
  }
}
