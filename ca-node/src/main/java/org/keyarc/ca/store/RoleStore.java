package org.keyarc.ca.store;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which identity holds which role. A role is held by a key, not by a name: {@code holder} is {@code key:<hex>},
 * the SHA-256 of the SubjectPublicKeyInfo of the certificate it was granted through ({@code certSerial}), or
 * {@code cert:<serial>} for a row migrated from a name-bound role (that one certificate). {@code subject} is a
 * label: the node also checks that the signer's certificate carries it. A role can also wait for the first
 * certificate issued from a one-time secret ({@link Pending}: {@code ca init --admin}). Every method runs on the
 * caller's unit of work ({@link StoreTx}).
 */
public interface RoleStore {
  /** A row: holder, subject label, the certificate it was granted through, role, who granted it and when. */
  record Member(String holder, String subject, String certSerial, Role role, String grantedBy, Instant grantedAt) {}

  /** A role waiting for the first certificate issued from secret {@code secretReference}, for {@code subject}. */
  record Pending(String secretReference, Role role, String subject, String grantedBy, Instant grantedAt) {}

  /** Adds the row; false when the holder holds the role already. */
  boolean grant(Member m) throws StoreException;

  /** Removes every row of {@code role} whose holder is one of {@code holders}; returns how many. */
  int revoke(Collection<String> holders, Role role) throws StoreException;

  /** Removes every row and pending grant of {@code role} labelled {@code subject} (exactly); returns how many. */
  int revokeSubject(String subject, Role role) throws StoreException;

  /** The roles held by any of {@code holders} under the label {@code subject} (exactly). */
  Set<Role> rolesOf(Collection<String> holders, String subject) throws StoreException;

  /** The rows of any of {@code holders}, whatever their label. */
  List<Member> ofHolders(Collection<String> holders) throws StoreException;

  /** Every row, by subject and role. */
  List<Member> list() throws StoreException;

  void addPending(Pending p) throws StoreException;

  /** The roles waiting for the first certificate from secret {@code reference}. */
  List<Pending> pendingFor(String reference) throws StoreException;

  /** Removes the pending grants of secret {@code reference}; returns how many. */
  int removePending(String reference) throws StoreException;

  /** Every pending grant. */
  List<Pending> pending() throws StoreException;

  /** The first pending grant of {@code reference}, if any. */
  default Optional<Pending> firstPendingFor(String reference) throws StoreException {
    List<Pending> p = pendingFor(reference);
    return p.isEmpty() ? Optional.empty() : Optional.of(p.get(0));
  }
}
