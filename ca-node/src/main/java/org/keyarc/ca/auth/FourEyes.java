package org.keyarc.ca.auth;

import java.util.LinkedHashSet;
import java.util.Set;
import org.keyarc.ca.CaException;
import org.keyarc.ca.store.RequestRecord;
import org.keyarc.protocol.ErrorCode;

/**
 * Four eyes: the requester of a held request never approves it. Its parties are the requester's principal
 * (its key, or its one-time secret), its name, whoever vouched for it (the maker of the secret it used, or the
 * origin of its certificate: a manager who made the secret a request used is its requester too), and the name
 * the request asks for. An approver none of whose principals is among them may approve.
 */
public final class FourEyes {
  private FourEyes() {}

  /** Refuses (FOUR_EYES) an approver who is one of the request's parties. */
  public static void check(Identity approver, RequestRecord r) throws CaException {
    check(approver.actor(), approver.aliases(), r);
  }

  /**
   * Checks again, when the certificate is used ({@code kra add}), that the recorded approver was not one of the
   * request's parties (the store is not trusted blindly).
   */
  public static void checkDecided(RequestRecord r) throws CaException {
    Set<String> approver = new LinkedHashSet<>();
    if (r.decidedById() != null) {
      approver.add(r.decidedById());
    }
    if (r.decidedBy() != null && !r.decidedBy().startsWith("secret:") && !r.decidedBy().equals(Identity.LOCAL_OPERATOR)) {
      approver.add(Identity.labelOf(r.decidedBy()));
    }
    check(r.decidedBy(), approver, r);
  }

  private static void check(String actor, Set<String> approver, RequestRecord r) throws CaException {
    Set<String> parties = parties(r);
    for (String a : approver) {
      if (parties.contains(a)) {
        throw new CaException(ErrorCode.FOUR_EYES, actor + " cannot approve request " + r.id()
            + (a.equals(Identity.labelOf(r.subject())) ? ", a request for its own name"
            : ": it is its requester, or made the one-time secret the request used")
            + "; another certificate manager must approve it (nothing was issued)");
      }
    }
  }

  /** The request's parties; for a request stored before they were recorded, its requester and its name. */
  static Set<String> parties(RequestRecord r) {
    Set<String> parties = Identity.split(r.parties());
    if (parties.isEmpty()) {
      if (r.requesterId() != null) {
        parties.add(r.requesterId());
      }
      parties.add(r.requester().startsWith("secret:") || r.requester().equals(Identity.LOCAL_OPERATOR)
          ? r.requester() : Identity.labelOf(r.requester()));
      parties.add(Identity.labelOf(r.subject()));
    }
    return parties;
  }
}
