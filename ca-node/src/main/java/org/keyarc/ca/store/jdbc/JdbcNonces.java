package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import org.keyarc.ca.store.NonceStore;
import org.keyarc.ca.store.StoreException;

/** {@link NonceStore} on JDBC (H2 and PostgreSQL, the same SQL), on one transaction's connection. */
final class JdbcNonces implements NonceStore {
  private final Connection c;

  JdbcNonces(Connection c) {
    this.c = c;
  }

  @Override
  public void remember(String transactionId, String senderNonce, Instant messageTime, Instant seenAt)
      throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO cmp_nonce (transaction_id, sender_nonce, "
          + "message_time, seen_at) VALUES (?,?,?,?)")) {
        ps.setString(1, transactionId);
        ps.setString(2, senderNonce);
        ps.setLong(3, messageTime.toEpochMilli());
        ps.setLong(4, seenAt.toEpochMilli());
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public boolean seen(String transactionId, String senderNonce) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM cmp_nonce WHERE transaction_id = ? AND "
        + "sender_nonce = ?")) {
      ps.setString(1, transactionId);
      ps.setString(2, senderNonce);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public int forgetBefore(Instant messageTime) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM cmp_nonce WHERE message_time < ?")) {
        ps.setLong(1, messageTime.toEpochMilli());
        return ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }
}
