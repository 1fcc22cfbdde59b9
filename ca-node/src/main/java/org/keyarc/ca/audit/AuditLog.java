package org.keyarc.ca.audit;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.Signature;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The tamper-evident audit chain (invariant 6). Each record stores the SHA-256 of its own content
 * and of the previous record's hash; {@link #append} runs inside the caller's transaction, so an
 * operation and its audit record commit together or not at all. At checkpoints the chain head
 * (sequence number and hash) is signed with the HSM audit key; {@link #verify} recomputes the chain
 * and checks every checkpoint, naming the first record that was edited, inserted, deleted or cut off.
 *
 * <p>Appends are serialised by locking the single {@code audit_head} row, which also works across
 * several nodes sharing one PostgreSQL database.
 */
public final class AuditLog {
  /** The hash "before" the first record. */
  public static final String GENESIS = "0".repeat(64);
  private static final byte[] CHECKPOINT_CONTEXT = "keyarc-audit-checkpoint-v1".getBytes(StandardCharsets.US_ASCII);

  private AuditLog() {}

  /** Signs a checkpoint with the HSM audit key. */
  public interface Signer {
    /** The token label of the audit key. */
    String keyLabel();

    /** The signature over {@code data}, made inside the HSM (ECDSA/RSA as the key dictates). */
    byte[] sign(byte[] data) throws Exception;
  }

  /** One record as stored. */
  public record Record(long seq, Instant at, String actor, String action, String target, String detail,
      String prevHash, String hash) {}

  /** Appends a record and returns its sequence number. Must run inside the change's transaction. */
  public static long append(Connection c, String actor, String action, String target, String detail, Instant at)
      throws SQLException {
    // Locks the head row until commit: appends are serialised, the chain stays linear.
    try (PreparedStatement lock = c.prepareStatement("UPDATE audit_head SET seq = seq + 1 WHERE id = 1")) {
      lock.executeUpdate();
    }
    Head head = head(c);
    long seq = head.seq();
    String prev = head.hash();
    String hash = hash(seq, at.toEpochMilli(), actor, action, target, detail, prev);
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_record (seq, at, actor, action, target, detail, "
        + "prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)")) {
      ps.setLong(1, seq);
      ps.setLong(2, at.toEpochMilli());
      ps.setString(3, actor);
      ps.setString(4, action);
      ps.setString(5, target);
      ps.setString(6, detail);
      ps.setString(7, prev);
      ps.setString(8, hash);
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement("UPDATE audit_head SET hash = ? WHERE id = 1")) {
      ps.setString(1, hash);
      ps.executeUpdate();
    }
    return seq;
  }

  /**
   * Signs the current head unless it is already signed. Returns the checkpointed sequence number, or
   * -1 when there was nothing new. Runs in its own transaction on {@code c}.
   */
  public static long checkpoint(Connection c, Signer signer, Instant at) throws Exception {
    Head head = head(c);
    long seq = head.seq();
    String hash = head.hash();
    if (seq == 0) {
      return -1;
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM audit_checkpoint WHERE seq = ?")) {
      ps.setLong(1, seq);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          return -1;
        }
      }
    }
    byte[] sig = signer.sign(checkpointData(seq, hash));
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO audit_checkpoint (seq, hash, at, key_label, signature) VALUES (?,?,?,?,?)")) {
      ps.setLong(1, seq);
      ps.setString(2, hash);
      ps.setLong(3, at.toEpochMilli());
      ps.setString(4, signer.keyLabel());
      ps.setBytes(5, sig);
      ps.executeUpdate();
    }
    return seq;
  }

  /** What {@link #verify} found. {@code problems} is empty when the chain is intact. */
  public record Verification(long records, long checkpoints, long lastCheckpoint, List<String> problems) {
    public boolean ok() {
      return problems.isEmpty();
    }
  }

  /**
   * Recomputes the whole chain and checks every checkpoint signature. {@code auditKeys} maps an audit
   * key label to its public key (from the CA's key table).
   */
  public static Verification verify(Connection c, Map<String, PublicKey> auditKeys) throws SQLException {
    List<String> problems = new ArrayList<>();
    List<Record> records = records(c, 0, Long.MAX_VALUE);
    // the chain itself
    String prevHash = GENESIS;
    long expected = 1;
    java.util.Map<Long, String> hashAt = new java.util.HashMap<>();
    for (Record r : records) {
      if (r.seq() != expected) {
        if (r.seq() > expected) {
          problems.add(range(expected, r.seq() - 1) + " missing: deleted");
        } else {
          problems.add("record " + r.seq() + " appears out of order: inserted");
        }
      } else if (!r.prevHash().equals(prevHash)) {
        problems.add("record " + r.seq() + " does not chain to record " + (r.seq() - 1)
            + ": a record was inserted or deleted before it");
      }
      String recomputed = hash(r.seq(), r.at().toEpochMilli(), r.actor(), r.action(), r.target(), r.detail(),
          r.prevHash());
      if (!recomputed.equals(r.hash())) {
        problems.add("record " + r.seq() + " (" + r.action() + ") does not match its hash: edited");
      }
      hashAt.put(r.seq(), r.hash());
      prevHash = r.hash();
      expected = r.seq() + 1;
    }
    long last = expected - 1;
    Head head = head(c);
    long headSeq = head.seq();
    String headHash = head.hash();
    if (headSeq > last) {
      problems.add(range(last + 1, headSeq) + " missing at the end: truncated (the head says " + headSeq + ")");
    } else if (headSeq == last && last > 0 && !headHash.equals(prevHash)) {
      problems.add("the head hash does not match record " + last + ": the last record was replaced");
    }
    // checkpoints
    long checkpoints = 0;
    long lastCheckpoint = 0;
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT seq, hash, key_label, signature FROM audit_checkpoint ORDER BY seq");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        checkpoints++;
        long seq = rs.getLong(1);
        String hash = rs.getString(2);
        String label = rs.getString(3);
        byte[] sig = rs.getBytes(4);
        lastCheckpoint = Math.max(lastCheckpoint, seq);
        PublicKey key = auditKeys.get(label);
        if (key == null) {
          problems.add("checkpoint at record " + seq + " is signed with unknown key '" + label + "'");
          continue;
        }
        if (!verifySignature(key, checkpointData(seq, hash), sig)) {
          problems.add("checkpoint at record " + seq + " has a bad signature: the checkpoint was forged or edited");
          continue;
        }
        String actual = hashAt.get(seq);
        if (actual == null) {
          problems.add("checkpoint at record " + seq + " signs a record that is gone: truncated or deleted");
        } else if (!actual.equals(hash)) {
          problems.add("the chain up to record " + seq + " differs from what its signed checkpoint says: "
              + "records were rewritten");
        }
      }
    }
    return new Verification(records.size(), checkpoints, lastCheckpoint, problems);
  }

  /** Records with {@code from <= seq <= to}, in order. */
  public static List<Record> records(Connection c, long from, long to) throws SQLException {
    List<Record> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT seq, at, actor, action, target, detail, prev_hash, hash "
        + "FROM audit_record WHERE seq >= ? AND seq <= ? ORDER BY seq")) {
      ps.setLong(1, from);
      ps.setLong(2, to);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Record(rs.getLong(1), Instant.ofEpochMilli(rs.getLong(2)), rs.getString(3), rs.getString(4),
              rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8)));
        }
      }
    }
    return out;
  }

  /** The chain head: the last sequence number handed out and the last record's hash. */
  private record Head(long seq, String hash) {}

  private static Head head(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT seq, hash FROM audit_head WHERE id = 1");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return new Head(rs.getLong(1), rs.getString(2));
    }
  }

  private static String range(long a, long b) {
    return a == b ? "record " + a + " is" : "records " + a + ".." + b + " are";
  }

  /** The bytes a checkpoint signature covers. */
  public static byte[] checkpointData(long seq, String hash) {
    ByteArrayOutputStream bout = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bout)) {
      out.write(CHECKPOINT_CONTEXT);
      out.writeLong(seq);
      out.write(HexFormat.of().parseHex(hash));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bout.toByteArray();
  }

  static boolean verifySignature(PublicKey key, byte[] data, byte[] sig) {
    try {
      Signature s = Signature.getInstance(key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA");
      s.initVerify(key);
      s.update(data);
      return s.verify(sig);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  /** SHA-256 over the record's fields, each length-prefixed, and the previous hash. */
  public static String hash(long seq, long at, String actor, String action, String target, String detail, String prev) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      ByteArrayOutputStream bout = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bout)) {
        out.writeLong(seq);
        out.writeLong(at);
        for (String s : new String[] {actor, action, target, detail, prev}) {
          byte[] b = s.getBytes(StandardCharsets.UTF_8);
          out.writeInt(b.length);
          out.write(b);
        }
      }
      return HexFormat.of().formatHex(md.digest(bout.toByteArray()));
    } catch (NoSuchAlgorithmException | IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
