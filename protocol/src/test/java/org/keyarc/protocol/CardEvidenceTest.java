package org.keyarc.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.junit.jupiter.api.Test;

class CardEvidenceTest {
  private static final CardEvidence CARD = new CardEvidence("kra-1", "9a3c0d11", "SoftHSM project", "SoftHSM v2",
      "kra-key", true, false, true, true, true);

  @Test
  void theOaepTrialAndTheCrmfRegInfoFormRoundTrip() {
    CardEvidence tried = new CardEvidence("PIV_II", "01", "m", "n", "", true, false, true, true, true, true);
    assertEquals(tried, CardEvidence.of(tried.regInfo()));
    assertEquals(Boolean.TRUE, CardEvidence.parse(tried.encoded()).oaepSha256());
    assertTrue(tried.summary().endsWith("RSA-OAEP SHA-256 decrypts"), tried.summary());
    // an older client's evidence has no trial: nothing is claimed
    assertEquals(null, CardEvidence.parse(CARD.encoded()).oaepSha256());
    assertFalse(CARD.summary().contains("OAEP"), CARD.summary());
  }

  @Test
  void roundTripThroughThePkcs10Attribute() {
    Attribute a = CARD.attribute();
    assertEquals(KeyarcCmp.CARD_EVIDENCE, a.getAttrType());
    assertEquals(CARD, CardEvidence.of(a));
    assertEquals(CARD, CardEvidence.parse(CARD.encoded()));
    assertTrue(CARD.showsCardKey());
    assertTrue(CARD.summary().contains("card 'kra-1' serial 9a3c0d11") && CARD.summary().contains("CKA_LOCAL=true"),
        CARD.summary());
  }

  @Test
  void aSoftwareLookingKeyIsNamed() {
    CardEvidence soft = new CardEvidence("x", "1", "m", "n", "k", true, true, false, false, null);
    assertFalse(soft.showsCardKey());
    assertEquals(List.of("CKA_EXTRACTABLE=true", "CKA_ALWAYS_SENSITIVE=false", "CKA_NEVER_EXTRACTABLE=false",
        "CKA_LOCAL not reported"), soft.problems());
    assertEquals(soft, CardEvidence.parse(soft.encoded()), "an unreported attribute stays unreported");
  }

  @Test
  void malformedEvidenceIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> CardEvidence.parse(new byte[] {0x30, 0x03, 0x02, 0x01}));
    assertThrows(IllegalArgumentException.class, () -> CardEvidence.parse(new byte[2000]));
    assertThrows(IllegalArgumentException.class, () -> CardEvidence.of(new Attribute(KeyarcCmp.CARD_EVIDENCE,
        new DERSet(new DERSequence(new DERUTF8String("not evidence"))))));
    CardEvidence control = new CardEvidence("a\nb", "1", "m", "n", "k", true, false, true, true, true);
    assertThrows(IllegalArgumentException.class, () -> CardEvidence.parse(control.encoded()));
  }
}
