package org.keyarc.ca.auth;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.keyarc.ca.CaException;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.store.StoreException;
import org.keyarc.protocol.ErrorCode;

/**
 * Replay protection for protected CMP requests: their messageTime must be within the skew of the node's clock
 * (checked by the CMP layer), and their (transactionID, senderNonce) is remembered in the store for as long as
 * that messageTime is acceptable. A pair seen before is a replay, refused before the request does anything; it
 * holds across restarts and across nodes sharing the store. Continuing messages of a transaction (certConf,
 * pollReq) reuse the transactionID with a fresh senderNonce, so the pair, not the transactionID, is the key.
 */
public final class ReplayGuard {
  private final Store store;
  private final Clock clock;
  private final Duration skew;
  /**
   * The pairs of one-certificate requests checked ({@link #check}) and still being worked on by this node: a second
   * copy arriving before the first's unit of work committed is refused here at once, without its own proof-of-
   * possession check, HSM signature and commit. Copies sent to two nodes at once are told apart by the store.
   */
  private final java.util.Set<String> inFlight = java.util.concurrent.ConcurrentHashMap.newKeySet();

  public ReplayGuard(Store store, Clock clock, Duration skew) {
    this.store = store;
    this.clock = clock;
    this.skew = skew;
  }

  /**
   * Remembers a protected request's transactionID and senderNonce (hex) with its messageTime, in a group
   * commit shared with other requests.
   *
   * @throws CaException {@link ErrorCode#REPLAYED} when the pair was seen before
   */
  public void remember(String transactionId, String senderNonce, Instant messageTime) throws CaException {
    Pending p = new Pending(transactionId, senderNonce, messageTime, clock.instant());
    store.inGroupTransaction(tx -> {
      p.insert(tx, "store"); // before the request does anything
      return null;
    });
  }

  /**
   * Replays refused, by where they were caught (keyarc_cmp_replays_total{caught}): "in-flight" (a copy of a request
   * this node is still working on), "store" (the pair was stored before) and "commit" (two copies passed the checks at
   * once, on two nodes: the second's unit of work is rolled back when it meets the first's record).
   */
  private static void count(String caught) {
    io.micrometer.core.instrument.Counter.builder("keyarc.cmp.replays").tag("caught", caught)
        .description("replayed CMP requests refused, by where they were caught")
        .register(io.micrometer.core.instrument.Metrics.globalRegistry).increment();
  }

  /**
   * A protected request's pair, checked not seen yet and still to be remembered: in the unit of work of what the
   * request stores ({@link #record}), so that it costs no commit of its own, or on its own ({@link #remember(Pending)})
   * when the request stores nothing. Either way it is in the store before the request is answered.
   */
  public record Pending(String transactionId, String senderNonce, Instant messageTime, Instant seenAt) {
    /**
     * Remembers the pair in {@code tx}.
     *
     * @throws CaException {@link ErrorCode#REPLAYED} when another copy of the message was remembered meanwhile
     *     (its unit of work is then rolled back: nothing of this copy is stored)
     */
    public void record(org.keyarc.ca.store.StoreTx tx) throws CaException {
      insert(tx, "commit");
    }

    private void insert(org.keyarc.ca.store.StoreTx tx, String caught) throws CaException {
      try {
        tx.nonces().remember(transactionId, senderNonce, messageTime, seenAt);
      } catch (StoreException e) {
        if (e.isConstraintViolation()) {
          count(caught);
          throw replayed(transactionId);
        }
        throw e;
      }
    }
  }

  /**
   * Refuses ({@link ErrorCode#REPLAYED}) a pair the store already holds, before the request does anything; a read,
   * no commit. The pair is remembered later, with what the request stores ({@link Pending#record}): two copies that
   * pass this check at once are told apart there, and the second is rolled back whole.
   */
  public Pending check(String transactionId, String senderNonce, Instant messageTime) throws CaException {
    Instant now = clock.instant();
    String key = inFlightKey(transactionId, senderNonce);
    if (!inFlight.add(key)) {
      count("in-flight");
      throw replayed(transactionId); // a copy is being worked on here right now
    }
    try {
      if (store.inTransaction(tx -> tx.nonces().seen(transactionId, senderNonce))) {
        count("store");
        throw replayed(transactionId);
      }
    } catch (Throwable e) {
      inFlight.remove(key);
      throw e;
    }
    return new Pending(transactionId, senderNonce, messageTime, now);
  }

  /**
   * Ends the in-flight claim {@link #check} took for {@code p}: called once its request is answered, when the pair is
   * in the store (or the request failed before it could be), so that later copies are refused by the store.
   */
  public void release(Pending p) {
    if (p != null) {
      inFlight.remove(inFlightKey(p.transactionId(), p.senderNonce()));
    }
  }

  /** {@link #remember(String, String, Instant)} for a pair {@link #check} let through whose request stored nothing. */
  public void remember(Pending p) throws CaException {
    store.inGroupTransaction(tx -> {
      p.record(tx);
      return null;
    });
  }

  private static String inFlightKey(String transactionId, String senderNonce) {
    return transactionId + "/" + senderNonce; // both hex: the separator cannot occur in either
  }

  private static CaException replayed(String transactionId) {
    return new CaException(ErrorCode.REPLAYED, "message replayed: transaction " + transactionId
        + " with this senderNonce was already received; send a fresh senderNonce");
  }

  /**
   * Forgets the pairs whose messageTime is outside the skew window (their messages would be refused as too
   * old anyway); the node's timer calls it. Returns how many.
   */
  public int purge() throws CaException {
    Instant before = clock.instant().minus(skew);
    return store.inTransaction(tx -> tx.nonces().forgetBefore(before));
  }
}
