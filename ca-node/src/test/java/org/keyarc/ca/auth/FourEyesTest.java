package org.keyarc.ca.auth;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.store.RequestRecord;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.SecretRecord;
import org.keyarc.protocol.ErrorCode;

/** Four eyes and the principals it compares, on records in memory. */
class FourEyesTest {
  private static final Identity MAX = new Identity(Identity.Kind.CERTIFICATE, "CN=Max Manager", Set.of(Role.MANAGER),
      "aa".repeat(32), BigInteger.TWO, "key:" + "cc".repeat(32));
  private static final Identity MIA = new Identity(Identity.Kind.CERTIFICATE, "CN=Mia Manager", Set.of(Role.MANAGER),
      "bb".repeat(32), BigInteger.TEN, null);

  private static RequestRecord request(String requester, String requesterId, String parties, String subject) {
    return new RequestRecord(7, "tx", 0, requester, "KeyRecoveryAgent", subject, "p10cr",
        RequestRecord.Status.PENDING, new byte[] {1}, null, Instant.EPOCH, null, null, null, null, requesterId, null,
        parties, null, null);
  }

  @Test
  void theMakerOfTheRequestsSecretIsItsRequester() {
    SecretRecord s = new SecretRecord("ref", new byte[16], "h", "KeyRecoveryAgent", "CN=Max Agent", "CN=Max Manager",
        Instant.EPOCH, Instant.EPOCH, null, MAX.aliasesText());
    Identity bySecret = Identity.ofSecret(s);
    RequestRecord r = request("secret:ref", bySecret.principal(), String.join(" ", bySecret.parties()),
        "CN=Max Agent");
    CaException e = assertThrows(CaException.class, () -> FourEyes.check(MAX, r));
    assertEquals(ErrorCode.FOUR_EYES, e.code());
    assertDoesNotThrow(() -> FourEyes.check(MIA, r));
  }

  @Test
  void aRequestForTheApproversOwnNameIsNotHisToApprove() {
    RequestRecord r = request("secret:x", "secret:x", "secret:x local-operator " + Identity.labelOf("cn=MIA  manager"),
        "cn=MIA  manager");
    CaException e = assertThrows(CaException.class, () -> FourEyes.check(MIA, r));
    assertEquals("CN=Mia Manager cannot approve request 7, a request for its own name; another certificate manager "
        + "must approve it (nothing was issued)", e.getMessage());
  }

  @Test
  void aRequestStoredBeforeFourEyesIsComparedByName() {
    RequestRecord legacy = request("CN=Max Manager", null, null, "CN=Kim Agent");
    assertEquals(ErrorCode.FOUR_EYES, assertThrows(CaException.class, () -> FourEyes.check(MAX, legacy)).code());
    assertDoesNotThrow(() -> FourEyes.check(MIA, legacy));
  }

  @Test
  void principalsAreKeysSecretsOrTheOperatorAndLabelsIgnoreCase() {
    assertEquals("key:" + "aa".repeat(32), MAX.principal());
    assertEquals("secret:r", new Identity(Identity.Kind.SECRET, "r", Set.of()).principal());
    assertEquals("local-operator", Identity.localOperator().principal());
    assertEquals(Identity.labelOf("CN=Ada Admin, O=keyarc"), Identity.labelOf("cn=ada   ADMIN,o=KEYARC"));
    assertNotEquals(Identity.labelOf("CN=Ada Admin"), Identity.labelOf("CN=Ada Admin, O=keyarc"));
    assertEquals(Set.of("key:" + "aa".repeat(32), Identity.labelOf("CN=Max Manager"), "key:" + "cc".repeat(32)),
        MAX.parties());
  }
}
