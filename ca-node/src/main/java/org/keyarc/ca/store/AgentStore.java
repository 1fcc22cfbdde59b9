package org.keyarc.ca.store;

import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The recovery agents and the M-of-N archival policy. Every method runs on the caller's unit of work ({@link StoreTx}). */
public interface AgentStore {
  /** A configured agent: its certificate (DER) and who added it. */
  record Agent(String issuer, BigInteger serial, String subject, byte[] cert, String addedBy, Instant addedAt) {}

  /** N agents per archived key, M needed to recover. */
  record Policy(int agents, int threshold) {}

  boolean add(Agent a) throws StoreException;

  boolean remove(String issuer, BigInteger serial) throws StoreException;

  /** All agents in the order they were added. */
  List<Agent> list() throws StoreException;

  Policy policy() throws StoreException;

  void setPolicy(Policy p) throws StoreException;

  /** The seal over the agent list and the policy (a MAC made in the HSM), if one was made. */
  java.util.Optional<byte[]> seal() throws StoreException;

  /** Replaces the seal. */
  void setSeal(byte[] mac, Instant at, String by) throws StoreException;
}
