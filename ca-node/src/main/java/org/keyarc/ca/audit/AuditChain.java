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
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.keyarc.ca.store.AuditStore;

/**
 * The tamper-evident audit chains (invariant 6). Each node appends to its own chain (its {@code audit.chain}; the
 * {@code main} chain when unset and for every record made before there were several), so nodes never wait on each
 * other. Each record stores the SHA-256 of its own content and of the previous record's hash ({@link #hash}); a
 * chain starts from its own genesis hash ({@link #genesis}), which binds the chain's name into every record of it.
 * Records are appended inside the caller's unit of work ({@code audit.log.Audit#append}), so an operation and its
 * audit record commit together or not at all.
 *
 * <p>At checkpoints every chain's head is signed at once with the HSM audit key, chained to the previous
 * checkpoint ({@link #checkpointData(long, Instant, long, byte[], List)}): that ties the chains together, so a chain
 * cut back, rewritten or dropped contradicts a signed checkpoint. {@link #verify} recomputes every chain and checks
 * every checkpoint, naming the first record that was edited, inserted, deleted or cut off. This class is the
 * chains' rules only: their rows are kept by {@code store.AuditStore}.
 */
public final class AuditChain {
  /** The hash "before" the first record of the {@code main} chain. */
  public static final String GENESIS = "0".repeat(64);
  private static final byte[] CHECKPOINT_CONTEXT = "keyarc-audit-checkpoint-v1".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CHECKPOINT_CONTEXT_V2 = "keyarc-audit-checkpoint-v2".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CHECKPOINT_CONTEXT_V3 = "keyarc-audit-checkpoint-v3".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CHAIN_CONTEXT = "keyarc-audit-chain-v1".getBytes(StandardCharsets.US_ASCII);
  /** The version of the checkpoints this node signs: 3, every chain's head, chained to the previous checkpoint. */
  public static final int CHECKPOINT_VERSION = 3;

  private AuditChain() {}

  /** True when {@code chain} may name an audit chain: 1 to 64 letters, digits, '.', '_' or '-'. */
  public static boolean validName(String chain) {
    return chain != null && chain.matches("[A-Za-z0-9._-]{1,64}");
  }

  /**
   * The hash before the first record of {@code chain}: zeros for {@code main} (as before there were several
   * chains), otherwise SHA-256 of a context and the chain's name, so a chain's records cannot pass for another's.
   */
  public static String genesis(String chain) {
    if (chain.equals(AuditStore.MAIN)) {
      return GENESIS;
    }
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(CHAIN_CONTEXT);
    b.write(0);
    b.writeBytes(chain.getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(sha256(b.toByteArray()));
  }

  /**
   * What {@link #verify} found. {@code problems} is empty when the chains are intact; {@code uncovered} counts the
   * records newer than the last signed checkpoint (protected by their hash chain only, so far).
   */
  public record Verification(long records, int chains, long checkpoints, long uncovered, List<String> problems) {
    public boolean ok() {
      return problems.isEmpty();
    }
  }

  /** {@link #verify(List, List, List, Map)} for one chain, {@code main} (tests, single-chain stores). */
  public static Verification verify(List<AuditStore.Row> records, AuditStore.Head head,
      List<AuditStore.Checkpoint> checkpoints, Map<String, PublicKey> auditKeys) {
    return verify(records, List.of(head), checkpoints, auditKeys);
  }

  /**
   * Recomputes every chain from its rows and checks every checkpoint's signature and chain: any edit, insertion,
   * deletion or truncation shows as a problem. {@code records}: all records, each chain in sequence order;
   * {@code heads}: the store's chain heads; {@code auditKeys} maps an audit key label to its public key.
   */
  public static Verification verify(List<AuditStore.Row> records, List<AuditStore.Head> heads,
      List<AuditStore.Checkpoint> checkpoints, Map<String, PublicKey> auditKeys) {
    List<String> problems = new ArrayList<>();
    Map<String, List<AuditStore.Row>> byChain = new TreeMap<>();
    for (AuditStore.Row r : records) {
      byChain.computeIfAbsent(r.chain(), k -> new ArrayList<>()).add(r);
    }
    Map<String, AuditStore.Head> headOf = new TreeMap<>();
    heads.forEach(h -> headOf.put(h.chain(), h));
    TreeSet<String> chains = new TreeSet<>(byChain.keySet());
    chains.addAll(headOf.keySet());
    Map<String, Map<Long, String>> hashAt = new HashMap<>();
    for (String chain : chains) {
      hashAt.put(chain, verifyChain(chain, byChain.getOrDefault(chain, List.of()), headOf.get(chain), problems));
    }
    Map<String, Long> covered = verifyCheckpoints(checkpoints, hashAt, auditKeys, problems);
    long uncovered = 0;
    for (String chain : chains) {
      AuditStore.Head h = headOf.get(chain);
      long last = h != null ? h.seq() : byChain.get(chain).get(byChain.get(chain).size() - 1).seq();
      uncovered += Math.max(0, last - covered.getOrDefault(chain, 0L));
    }
    return new Verification(records.size(), chains.size(), checkpoints.size(), uncovered, problems);
  }

  /** Checks one chain's links, hashes and head; returns each record's hash by sequence number. */
  private static Map<Long, String> verifyChain(String chain, List<AuditStore.Row> rows, AuditStore.Head head,
      List<String> problems) {
    String in = chain.equals(AuditStore.MAIN) ? "" : "chain '" + chain + "': ";
    Map<Long, String> hashAt = new HashMap<>();
    String prevHash = genesis(chain);
    long expected = 1;
    for (AuditStore.Row r : rows) {
      if (r.seq() != expected) {
        if (r.seq() > expected) {
          problems.add(in + range(expected, r.seq() - 1) + " missing: deleted");
        } else {
          problems.add(in + "record " + r.seq() + " appears out of order: inserted");
        }
      } else if (!r.prevHash().equals(prevHash)) {
        problems.add(in + "record " + r.seq() + " does not chain to " + (r.seq() == 1 ? "the chain's start"
            : "record " + (r.seq() - 1)) + ": a record was inserted or deleted before it"
            + (r.seq() == 1 ? " or it belongs to another chain" : ""));
      }
      String recomputed = hash(r.seq(), r.at().toEpochMilli(), r.actor(), r.action(), r.target(), r.detail(),
          r.prevHash());
      if (!recomputed.equals(r.hash())) {
        problems.add(in + "record " + r.seq() + " (" + r.action() + ") does not match its hash: edited");
      }
      hashAt.put(r.seq(), r.hash());
      prevHash = r.hash();
      expected = r.seq() + 1;
    }
    long last = expected - 1;
    if (head == null) {
      problems.add(in + "the chain has records but no head: its head was removed");
    } else if (head.seq() > last) {
      problems.add(in + range(last + 1, head.seq()) + " missing at the end: truncated (the head says " + head.seq()
          + ")");
    } else if (head.seq() == last && last > 0 && !head.hash().equals(prevHash)) {
      problems.add(in + "the head hash does not match record " + last + ": the last record was replaced");
    } else if (head.seq() < last) {
      problems.add(in + "the head says " + head.seq() + " but records go on to " + last + ": the head was moved back");
    }
    return hashAt;
  }

  /**
   * Checks each checkpoint's signature, its place in the chain of checkpoints and the heads it signs against the
   * records; returns, per chain, the last sequence number a good checkpoint covers.
   */
  private static Map<String, Long> verifyCheckpoints(List<AuditStore.Checkpoint> checkpoints,
      Map<String, Map<Long, String>> hashAt, Map<String, PublicKey> auditKeys, List<String> problems) {
    Map<String, Long> covered = new HashMap<>();
    Map<Long, AuditStore.Checkpoint> byNum = new HashMap<>();
    checkpoints.forEach(cp -> byNum.put(cp.num(), cp));
    AuditStore.Checkpoint before = null;
    int highestVersion = 0;
    for (AuditStore.Checkpoint cp : checkpoints) {
      AuditStore.Checkpoint previous = before;
      before = cp;
      String name = name(cp);
      if (cp.version() < highestVersion && cp.version() < CHECKPOINT_VERSION) {
        problems.add(name + " is of version " + cp.version() + " after checkpoints of version " + highestVersion
            + ": it was forged");
        continue;
      }
      highestVersion = Math.max(highestVersion, cp.version());
      PublicKey key = auditKeys.get(cp.keyLabel());
      if (key == null) {
        problems.add(name + " is signed with unknown key '" + cp.keyLabel() + "'");
        continue;
      }
      AuditStore.Checkpoint named = cp.prevNum() <= 0 ? null : byNum.get(cp.prevNum());
      if (cp.version() >= 2) {
        if (cp.prevNum() != 0 && named == null) {
          problems.add(name + " follows " + (cp.prevNum() < 0 ? "a checkpoint" : "checkpoint " + cp.prevNum())
              + " which is gone: checkpoints were deleted");
          continue;
        }
        long beforeNum = previous == null ? 0 : previous.num();
        if (cp.prevNum() != beforeNum) {
          problems.add(name + " follows " + (named == null ? "no checkpoint" : name(named)) + ", but the store's "
              + "previous one is " + (previous == null ? "none" : name(previous))
              + ": checkpoints were inserted or deleted");
        }
      }
      if (!signedBy(key, cp, named)) {
        problems.add(name + " has a bad signature: the checkpoint was forged or edited");
        continue;
      }
      for (AuditStore.Head h : cp.heads()) {
        String in = h.chain().equals(AuditStore.MAIN) ? "" : " of chain '" + h.chain() + "'";
        Map<Long, String> chain = hashAt.getOrDefault(h.chain(), Map.of());
        String actual = h.seq() == 0 ? genesis(h.chain()) : chain.get(h.seq());
        boolean legacy = cp.version() < 3; // named by its record already
        if (actual == null) {
          problems.add(name + " signs " + (legacy ? "a record that" : "record " + h.seq() + in + ", which")
              + " is gone: truncated or deleted");
        } else if (!actual.equals(h.hash())) {
          problems.add("the chain" + in + " up to record " + h.seq() + " differs from what " + (legacy
              ? "its signed checkpoint" : name) + " says: records were rewritten");
        } else {
          covered.merge(h.chain(), h.seq(), Math::max);
        }
      }
    }
    return covered;
  }

  /**
   * True when {@code key} made {@code cp}'s signature over what its version signs; {@code named} is the checkpoint
   * its {@code prevNum} names (null for none). A malformed stored hash is a bad signature.
   */
  public static boolean signedBy(PublicKey key, AuditStore.Checkpoint cp, AuditStore.Checkpoint named) {
    byte[] data;
    try {
      if (cp.version() == 1) {
        AuditStore.Head h = cp.head(AuditStore.MAIN).orElse(new AuditStore.Head(0, GENESIS));
        data = checkpointData(h.seq(), h.hash());
      } else if (cp.version() == 2) {
        AuditStore.Head h = cp.head(AuditStore.MAIN).orElse(new AuditStore.Head(0, GENESIS));
        long prevSeq = named == null ? 0 : named.head(AuditStore.MAIN).map(AuditStore.Head::seq).orElse(0L);
        data = checkpointData(h.seq(), h.hash(), prevSeq, named == null ? null : named.signature());
      } else {
        // (the first version-3 checkpoint follows the last one signed before there were several chains)
        data = checkpointData(cp.num(), cp.at(), cp.prevNum(), named == null ? null : named.signature(), cp.heads());
      }
    } catch (IllegalArgumentException e) { // a head hash that is not 64 hex digits
      return false;
    }
    return verifySignature(key, data, cp.signature());
  }

  /** How problems name a checkpoint: by the record it signed (versions 1 and 2), or by its number. */
  static String name(AuditStore.Checkpoint cp) {
    return cp.version() < 3
        ? "checkpoint at record " + cp.head(AuditStore.MAIN).map(AuditStore.Head::seq).orElse(0L)
        : "checkpoint " + cp.num();
  }

  private static String range(long a, long b) {
    return a == b ? "record " + a + " is" : "records " + a + ".." + b + " are";
  }

  /**
   * The bytes a version-3 checkpoint's signature covers: its number, time, the previous checkpoint's number and
   * the SHA-256 of its signature (0 and zeros for the very first), and every chain's head (name, sequence number,
   * hash), sorted by chain.
   */
  public static byte[] checkpointData(long num, Instant at, long prevNum, byte[] prevSignature,
      List<AuditStore.Head> heads) {
    ByteArrayOutputStream bout = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bout)) {
      out.write(CHECKPOINT_CONTEXT_V3);
      out.writeLong(num);
      out.writeLong(at.toEpochMilli());
      out.writeLong(prevNum);
      out.write(prevSignature == null ? new byte[32] : sha256(prevSignature));
      List<AuditStore.Head> sorted = new ArrayList<>(heads);
      sorted.sort(java.util.Comparator.comparing(AuditStore.Head::chain));
      out.writeInt(sorted.size());
      for (AuditStore.Head h : sorted) {
        byte[] name = h.chain().getBytes(StandardCharsets.UTF_8);
        out.writeShort(name.length);
        out.write(name);
        out.writeLong(h.seq());
        out.write(HexFormat.of().parseHex(h.hash()));
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bout.toByteArray();
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
