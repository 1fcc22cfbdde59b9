package org.keyarc.hsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.hsm.KeyHandle.KeyClass;
import org.keyarc.hsm.testing.SoftHsmFixture;

/**
 * {@link HsmToken#asSecurityOfficer}: the SO logs in for one piece of work and the user is logged back in after it,
 * whatever the work did; the work's own failure is what the caller sees, and a wrong SO PIN leaves the user's
 * session as it was. Real SoftHSM2 token, real C_Login(CKU_SO).
 */
class SecurityOfficerTest {
  static SoftHsmFixture hsm;
  static String userKey = "user-key";

  @BeforeAll
  static void setUp() throws Exception {
    hsm = SoftHsmFixture.create("card");
    try (HsmToken t = hsm.open("card", 1)) {
      t.call(s -> s.generateKeyPair(KeySpec.parse("p256"), KeyPolicy.CA_SIGNING, userKey));
    }
  }

  @AfterAll
  static void tearDown() throws Exception {
    hsm.close();
  }

  private static char[] soPin() throws Exception {
    Path file = hsm.pinFile("card").resolveSibling(hsm.label("card") + ".so-pin");
    return Files.readString(file).trim().toCharArray();
  }

  private static HsmToken card() throws Exception {
    HsmToken t = hsm.open("card", 1);
    t.allowContextLogin(hsm.pin("card"));
    return t;
  }

  @Test
  void theUserIsBackAfterTheWorkAndTheResultIsReturned() throws Exception {
    try (HsmToken t = card()) {
      assertEquals("done", t.asSecurityOfficer(soPin(), s -> "done"));
      assertNotNull(t.call(s -> s.findKeyOrNull(KeyClass.PRIVATE, userKey)), "the user's private key is reachable");
    }
  }

  @Test
  void theWorksOwnFailureIsWhatTheCallerSeesAndTheUserIsBack() throws Exception {
    try (HsmToken t = card()) {
      HsmException mine = new HsmException(HsmException.Reason.BAD_INPUT, "test", t.label(), "the work failed");
      HsmException seen = assertThrows(HsmException.class, () -> t.asSecurityOfficer(soPin(), s -> {
        throw mine;
      }));
      assertSame(mine, seen);
      assertEquals(0, seen.getSuppressed().length, "the user's login after it succeeded");
      IllegalStateException bug = assertThrows(IllegalStateException.class, () -> t.asSecurityOfficer(soPin(), s -> {
        throw new IllegalStateException("a bug in the work");
      }));
      assertEquals("a bug in the work", bug.getMessage());
      assertNotNull(t.call(s -> s.findKeyOrNull(KeyClass.PRIVATE, userKey)), "the user's private key is reachable");
    }
  }

  @Test
  void aWrongSoPinIsPinIncorrectAndTheUserStaysLoggedIn() throws Exception {
    try (HsmToken t = card()) {
      HsmException e = assertThrows(HsmException.class, () -> t.asSecurityOfficer("00000000".toCharArray(),
          s -> "never"));
      assertEquals(HsmException.Reason.PIN_INCORRECT, e.reason(), e.getMessage());
      assertNotNull(t.call(s -> s.findKeyOrNull(KeyClass.PRIVATE, userKey)), "the user's private key is reachable");
    }
  }

  /** When the user cannot be logged back in, the work's failure still comes first, the login's is suppressed. */
  @Test
  void aFailedReloginNeverHidesTheWorksFailure() throws Exception {
    try (HsmToken t = hsm.open("card", 1)) {
      t.allowContextLogin("not-the-pin".toCharArray());
      HsmException mine = new HsmException(HsmException.Reason.BAD_INPUT, "test", t.label(), "the work failed");
      HsmException seen = assertThrows(HsmException.class, () -> t.asSecurityOfficer(soPin(), s -> {
        throw mine;
      }));
      assertSame(mine, seen);
      assertEquals(HsmException.Reason.PIN_INCORRECT, ((HsmException) seen.getSuppressed()[0]).reason());
      HsmException relogin = assertThrows(HsmException.class, () -> t.asSecurityOfficer(soPin(), s -> "done"));
      assertEquals(HsmException.Reason.PIN_INCORRECT, relogin.reason(), "and alone it is reported");
    }
  }
}
