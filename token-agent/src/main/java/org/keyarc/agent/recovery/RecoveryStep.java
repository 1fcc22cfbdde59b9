package org.keyarc.agent.recovery;

import java.security.PublicKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.List;
import java.util.Set;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSEnvelopedData;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.RecipientInformation;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmKeyTransRecipient;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.archive.ArchiveRecord;
import org.keyarc.protocol.archive.RecoveryProgress;

/**
 * One recovery agent's step with its card: removes this agent's layer from every envelope whose next
 * layer is theirs. The agent's RSA key never leaves the card: CMS layers are opened by decrypting their
 * content-encryption key on the card; the last layer (RSA-OAEP of K) is decrypted on the card, and K
 * unwraps the archived key in software on this machine — the final step, where the key must become
 * plaintext to be written into the PKCS#12.
 */
public final class RecoveryStep {
  private RecoveryStep() {}

  /** What a step produced: more agents needed, or the key. */
  public sealed interface Result {
    /** More agents must follow; {@code needed} names who can do the next step. */
    record Partial(RecoveryProgress progress, String agent, int agentIndex, List<String> needed) implements Result {}

    /** The last step: the key. */
    record Done(RecoveredKey key, String agent, int agentIndex) implements Result {}

    /** The last step of a drill or an agent rotation: the archive's key K, not the private key. */
    record Opened(ArchiveKey key, String agent, int agentIndex) implements Result {}
  }

  /**
   * Runs this card's step on {@code blob} (first step: {@code progress} null) or on a partial recovery.
   */
  public static Result run(RecoveryBlob blob, RecoveryProgress progress, HsmToken card) throws RecoveryException {
    return run(blob, progress, card, agentsOn(blob, card));
  }

  /** Like {@link #run(RecoveryBlob, RecoveryProgress, HsmToken)} with the card's agents already found. */
  public static Result run(RecoveryBlob blob, RecoveryProgress progress, HsmToken card, Map<Integer, KeyHandle> onCard)
      throws RecoveryException {
    return run(blob, progress, card, onCard, false);
  }

  /**
   * Like {@link #run(RecoveryBlob, RecoveryProgress, HsmToken, Map)}, but the last step yields the archive's key K
   * ({@link Result.Opened}) instead of the private key: for drills and agent rotations.
   */
  public static Result runToArchiveKey(RecoveryBlob blob, RecoveryProgress progress, HsmToken card,
      Map<Integer, KeyHandle> onCard) throws RecoveryException {
    return run(blob, progress, card, onCard, true);
  }

  private static Result run(RecoveryBlob blob, RecoveryProgress progress, HsmToken card,
      Map<Integer, KeyHandle> onCard, boolean toArchiveKey) throws RecoveryException {
    ArchiveRecord rec = blob.record();
    Set<Integer> mine = onCard.keySet();
    if (mine.isEmpty()) {
      throw new RecoveryException(ErrorCode.KEY_NOT_FOUND, "card '" + card.label() + "' holds the key of none of "
          + "this archive's recovery agents; the agents who can serve are: " + allAgents(blob));
    }
    List<RecoveryProgress.Candidate> candidates = new ArrayList<>();
    List<Integer> done = new ArrayList<>();
    if (progress == null) {
      for (int e = 0; e < rec.envelopes().size(); e++) {
        candidates.add(new RecoveryProgress.Candidate(e, 0, rec.envelopes().get(e).layers()));
      }
    } else {
      if (!java.util.Arrays.equals(progress.blob(), blob.encoded())) {
        throw new RecoveryException(ErrorCode.BAD_INPUT, "the partial recovery belongs to another archive than the "
            + "recovery blob given with it; nothing was opened with the card");
      }
      for (RecoveryProgress.Candidate c : progress.candidates()) {
        if (c.envelope() < 0 || c.envelope() >= rec.envelopes().size() || c.peeled() < 0
            || c.peeled() >= rec.envelopes().get(c.envelope()).agentIndexes().size()) {
          throw new RecoveryException(ErrorCode.BAD_INPUT, "the partial recovery names envelope " + c.envelope()
              + " layer " + c.peeled() + ", which this archive does not have; nothing was opened with the card");
        }
        byte[] expected = rec.envelopes().get(c.envelope()).expectedHash(c.peeled());
        if (expected != null && !java.util.Arrays.equals(expected, sha256(c.layers()))) {
          throw new RecoveryException(ErrorCode.BAD_INPUT, "the partial recovery's layers for envelope "
              + c.envelope() + " are not the ones this archive's signed record commits to (they belong to another "
              + "archive or were altered); nothing was opened with the card");
        }
      }
      for (int a : progress.done()) {
        if (a < 0 || a >= rec.agents().size()) {
          throw new RecoveryException(ErrorCode.BAD_INPUT, "the partial recovery names agent " + a + ", which this "
              + "archive does not have; nothing was opened with the card");
        }
      }
      candidates.addAll(progress.candidates());
      done.addAll(progress.done());
    }
    for (int a : mine) {
      if (done.contains(a)) {
        throw new RecoveryException(ErrorCode.BAD_REQUEST, blob.agentName(a) + " already did a step of this "
            + "recovery; the next step needs " + String.join(" or ", nextAgents(blob, candidates)));
      }
    }
    List<RecoveryProgress.Candidate> advanced = new ArrayList<>();
    Integer used = null;
    for (RecoveryProgress.Candidate c : candidates) {
      ArchiveRecord.Envelope env = rec.envelopes().get(c.envelope());
      int next = env.agentIndexes().get(c.peeled());
      if (!mine.contains(next)) {
        continue;
      }
      KeyHandle key = onCard.get(next);
      used = next;
      if (c.peeled() == env.agentIndexes().size() - 1) {
        ArchiveKey k = ArchiveKey.decrypt(card, key, rec.envelopes().get(0).keyWrap(), c.layers());
        if (toArchiveKey) {
          return new Result.Opened(k, blob.agentName(next), next);
        }
        try (k) {
          return new Result.Done(k.open(rec), blob.agentName(next), next);
        }
      }
      advanced.add(new RecoveryProgress.Candidate(c.envelope(), c.peeled() + 1, openLayer(card, key, c.layers())));
    }
    if (used == null) {
      throw new RecoveryException(ErrorCode.NOT_AUTHORIZED, "card '" + card.label() + "' (" + agentsText(blob, mine)
          + ") cannot do the next step of this recovery; it needs " + String.join(" or ",
              nextAgents(blob, candidates)) + (progress == null ? " first (agents go in the order of the archive's "
              + "agent list)" : ""));
    }
    done.add(used);
    RecoveryProgress p = new RecoveryProgress(progress == null ? blob.encoded() : progress.blob(), List.copyOf(done),
        List.copyOf(advanced));
    return new Result.Partial(p, blob.agentName(used), used, nextAgents(blob, advanced));
  }

  private static byte[] sha256(byte[] data) {
    try {
      return java.security.MessageDigest.getInstance("SHA-256").digest(data);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The agents (indexes into the archive's agent list) whose private key is on this card, with that key:
   * each RSA private key of the card is matched once against the agents' certificates.
   */
  public static Map<Integer, KeyHandle> agentsOn(RecoveryBlob blob, HsmToken card) throws RecoveryException {
    Map<Integer, KeyHandle> out = new LinkedHashMap<>();
    ArchiveRecord rec = blob.record();
    try {
      List<KeyHandle> keys = card.call(s -> s.listKeys());
      for (int i = 0; i < rec.agents().size(); i++) {
        X509CertificateHolder cert = blob.certificate(rec.agents().get(i));
        if (cert == null) {
          continue;
        }
        PublicKey pub = new JcaPEMKeyConverter().getPublicKey(cert.getSubjectPublicKeyInfo());
        for (KeyHandle k : keys) {
          if (k.keyClass() == KeyHandle.KeyClass.PRIVATE && k.keyType() == KeyHandle.KeyType.RSA
              && card.call(s -> s.matchesPublicKey(k, pub))) {
            out.put(i, k);
            break;
          }
        }
      }
    } catch (HsmException e) {
      throw new RecoveryException(ErrorCode.of(e.reason()), "card '" + card.label() + "': " + e.getMessage());
    } catch (java.io.IOException e) {
      throw new RecoveryException(ErrorCode.BAD_INPUT, "an agent certificate in the blob cannot be read");
    }
    return out;
  }

  private static byte[] openLayer(HsmToken card, KeyHandle key, byte[] layer) throws RecoveryException {
    try {
      RecipientInformation ri = new CMSEnvelopedData(layer).getRecipientInfos().getRecipients().iterator().next();
      return ri.getContent(new HsmKeyTransRecipient(card, key));
    } catch (CMSException e) {
      if (e.getCause() instanceof HsmException h) {
        throw new RecoveryException(ErrorCode.of(h.reason()), "card '" + card.label() + "': " + h.getMessage());
      }
      throw new RecoveryException(ErrorCode.BAD_INPUT, "a layer of the archive cannot be opened with card '"
          + card.label() + "': " + e.getMessage());
    }
  }

  private static List<String> nextAgents(RecoveryBlob blob, List<RecoveryProgress.Candidate> candidates) {
    Set<String> out = new LinkedHashSet<>();
    for (RecoveryProgress.Candidate c : candidates) {
      out.add(blob.agentName(blob.record().envelopes().get(c.envelope()).agentIndexes().get(c.peeled())));
    }
    return List.copyOf(out);
  }

  private static String allAgents(RecoveryBlob blob) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < blob.record().agents().size(); i++) {
      out.add(blob.agentName(i));
    }
    return String.join(", ", out) + " (" + blob.record().threshold() + " of them needed)";
  }

  private static String agentsText(RecoveryBlob blob, Set<Integer> mine) {
    List<String> out = new ArrayList<>();
    mine.forEach(i -> out.add(blob.agentName(i)));
    return String.join(", ", out);
  }

}
