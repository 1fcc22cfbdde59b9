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
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.keyarc.ca.store.AuditStore;

/**
 * The tamper-evident audit chain (invariant 6). Each record stores the SHA-256 of its own content
 * and of the previous record's hash ({@link #hash}); records are appended inside the caller's unit of
 * work ({@code audit.log.Audit#append}), so an operation and its audit record commit together or not at all. At
 * checkpoints the chain head (sequence number and hash) is signed with the HSM audit key;
 * {@link #verify} recomputes the chain and checks every checkpoint, naming the first record that was
 * edited, inserted, deleted or cut off. This class is the chain's rules only: its rows are kept by
 * {@code store.AuditStore}, whose JDBC form serialises appends by locking the single {@code audit_head}
 * row (which also works across several nodes sharing one PostgreSQL database).
 */
public final class AuditChain {
  /** The hash "before" the first record. */
  public static final String GENESIS = "0".repeat(64);
  private static final byte[] CHECKPOINT_CONTEXT = "keyarc-audit-checkpoint-v1".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CHECKPOINT_CONTEXT_V2 = "keyarc-audit-checkpoint-v2".getBytes(StandardCharsets.US_ASCII);
  /** The version of the checkpoints this node signs: 2, chained to the previous checkpoint. */
  public static final int CHECKPOINT_VERSION = 2;

  private AuditChain() {}

  /** What {@link #verify} found. {@code problems} is empty when the chain is intact. */
  public record Verification(long records, long checkpoints, long lastCheckpoint, List<String> problems) {
    public boolean ok() {
      return problems.isEmpty();
    }
  }

  /**
   * Recomputes the whole chain from its rows and checks every checkpoint signature: any edit, insertion,
   * deletion or truncation shows as a problem. {@code auditKeys} maps an audit key label to its public key.
   */
  public static Verification verify(List<AuditStore.Row> records, AuditStore.Head head,
      List<AuditStore.Checkpoint> checkpointRows, Map<String, PublicKey> auditKeys) {
    List<String> problems = new ArrayList<>();
    // the chain itself
    String prevHash = GENESIS;
    long expected = 1;
    java.util.Map<Long, String> hashAt = new java.util.HashMap<>();
    for (AuditStore.Row r : records) {
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
    long headSeq = head.seq();
    String headHash = head.hash();
    if (headSeq > last) {
      problems.add(range(last + 1, headSeq) + " missing at the end: truncated (the head says " + headSeq + ")");
    } else if (headSeq == last && last > 0 && !headHash.equals(prevHash)) {
      problems.add("the head hash does not match record " + last + ": the last record was replaced");
    }
    // checkpoints: each signature, and from version 2 on the chain of checkpoints itself
    long checkpoints = 0;
    long lastCheckpoint = 0;
    java.util.Map<Long, AuditStore.Checkpoint> bySeq = new java.util.HashMap<>();
    checkpointRows.forEach(cp -> bySeq.put(cp.seq(), cp));
    AuditStore.Checkpoint previous = null;
    boolean chained = false;
    for (AuditStore.Checkpoint cp : checkpointRows) {
      checkpoints++;
      long seq = cp.seq();
      String hash = cp.hash();
      String label = cp.keyLabel();
      lastCheckpoint = Math.max(lastCheckpoint, seq);
      AuditStore.Checkpoint before = previous;
      previous = cp;
      PublicKey key = auditKeys.get(label);
      if (key == null) {
        problems.add("checkpoint at record " + seq + " is signed with unknown key '" + label + "'");
        continue;
      }
      byte[] data;
      if (cp.version() >= 2) {
        chained = true;
        AuditStore.Checkpoint named = cp.prevSeq() == 0 ? null : bySeq.get(cp.prevSeq());
        if (cp.prevSeq() != 0 && named == null) {
          problems.add("checkpoint at record " + seq + " follows the checkpoint at record " + cp.prevSeq()
              + ", which is gone: checkpoints were deleted");
          continue;
        }
        long beforeSeq = before == null ? 0 : before.seq();
        if (cp.prevSeq() != beforeSeq) {
          problems.add("checkpoint at record " + seq + " follows the checkpoint at record " + cp.prevSeq()
              + ", but the store's previous one is at record " + beforeSeq + ": checkpoints were inserted or deleted");
        }
        data = checkpointData(seq, hash, cp.prevSeq(), named == null ? null : named.signature());
      } else {
        if (chained) {
          problems.add("checkpoint at record " + seq + " is of version 1 after chained checkpoints: it was forged");
          continue;
        }
        data = checkpointData(seq, hash);
      }
      if (!verifySignature(key, data, cp.signature())) {
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
    return new Verification(records.size(), checkpoints, lastCheckpoint, problems);
  }

  private static String range(long a, long b) {
    return a == b ? "record " + a + " is" : "records " + a + ".." + b + " are";
  }

  /**
   * The bytes a version-2 checkpoint's signature covers: the head ({@code seq}, {@code hash}) and the previous
   * checkpoint ({@code prevSeq}, SHA-256 of {@code prevSignature}; 0 and null for the first checkpoint).
   */
  public static byte[] checkpointData(long seq, String hash, long prevSeq, byte[] prevSignature) {
    ByteArrayOutputStream bout = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bout)) {
      out.write(CHECKPOINT_CONTEXT_V2);
      out.writeLong(seq);
      out.write(HexFormat.of().parseHex(hash));
      out.writeLong(prevSeq);
      out.write(prevSignature == null ? new byte[32] : sha256(prevSignature));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bout.toByteArray();
  }

  /** SHA-256 of {@code data}. */
  public static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The bytes a version-1 checkpoint signature covers (checkpoints signed before they chained). */
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
