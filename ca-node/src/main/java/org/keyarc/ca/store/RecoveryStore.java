package org.keyarc.ca.store;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Online recoveries and their steps. Every method runs on the caller's unit of work ({@link StoreTx}). */
public interface RecoveryStore {
  /** An online recovery. */
  record Row(long id, String serial, String subject, int threshold, byte[] blob, byte[] progress, RecoveryStatus status,
      String openedBy, Instant openedAt, Instant closedAt) {
    @Override
    public String toString() {
      return "Recovery[" + id + ", " + subject + ", " + status + "]";
    }
  }

  /** One agent's step. */
  record Step(int step, String agent, String agentCert, String card, Instant at) {}

  long open(String serial, String subject, int threshold, byte[] blob, String by,
      Instant at) throws StoreException;

  Optional<Row> find(long id) throws StoreException;

  List<Row> list(boolean openOnly) throws StoreException;

  /** Records a step; {@code progress} null when the step completed the recovery. */
  void step(long id, Step s, byte[] progress) throws StoreException;

  List<Step> steps(long id) throws StoreException;
}
