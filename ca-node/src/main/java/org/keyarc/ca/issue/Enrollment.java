package org.keyarc.ca.issue;

import org.bouncycastle.cert.cmp.CertificateStatus;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;

/**
 * What an enrollment protocol calls: CMP today ({@code cmp/CmpResponder}); EST or SCEP would call the same.
 * The protocol layer authenticates the sender, proves possession and chooses template and subject
 * ({@link RequestPolicy}); the CA checks the request against its template and issues or holds it.
 */
public interface Enrollment {
  /** Checks the request against its template, then issues it or holds it for approval. */
  default Outcome enroll(EnrollRequest request) throws CaException {
    return enroll(request, null);
  }

  /**
   * {@link #enroll(EnrollRequest)}, with {@code alsoStore} (may be null) run first in the unit of work that issues
   * or holds the request, so that it commits with it or not at all: the protocol layer's record of the message (its
   * replay record), which then costs no commit of its own. When {@code enroll} throws, it was not stored.
   */
  Outcome enroll(EnrollRequest request, InSameUnit alsoStore) throws CaException;

  /**
   * {@link #enroll(EnrollRequest, InSameUnit)} without waiting for the disk: the future completes once the request
   * is committed (possibly on the store's commit thread), or fails with its refusal. What cannot be done without
   * waiting is done before it returns.
   */
  default java.util.concurrent.CompletableFuture<Outcome> enrollAsync(EnrollRequest request, InSameUnit alsoStore) {
    return org.keyarc.ca.support.Futures.of(() -> enroll(request, alsoStore));
  }

  /** Store work of the protocol layer that commits in the request's own unit of work. */
  @FunctionalInterface
  interface InSameUnit {
    void run(org.keyarc.ca.store.StoreTx tx) throws CaException;
  }

  /**
   * The client's confirmation of the certificates of {@code transaction}: each status accepts or rejects
   * (the certificate is then revoked). Returns how many were confirmed.
   */
  int confirm(Identity who, String transaction, CertificateStatus[] statuses) throws CaException;

  /** The state of held request {@code item} of {@code transaction}. Only its requester may ask. */
  PollResult poll(Identity who, String transaction, long item) throws CaException;
}
