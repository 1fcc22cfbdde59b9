package org.keyarc.ca.cmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.ErrorMsgContent;
import org.bouncycastle.asn1.cmp.GenMsgContent;
import org.bouncycastle.asn1.cmp.GenRepContent;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.protocol.KeyarcCmp;
import org.keyarc.protocol.cmp.CmpHeaders;

/** The fuzz campaign's amplification: a genm asking for caCerts many times bought a 38.7 MB answer. */
class GenmAmplificationTest {
  private static UnitCa ca;
  private static CmpResponder responder;

  @BeforeAll
  static void start() throws Exception {
    ca = UnitCa.create();
    responder = ca.responder();
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  private static byte[] genm(InfoTypeAndValue... items) throws Exception {
    return new PKIMessage(CmpHeaders.unprotectedRequest(CmpHeaders.noName(),
        new GeneralName(ca.services.keys().caName()), null, null, null).build(),
        new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(items))).getEncoded();
  }

  @Test
  void eachInfoTypeIsAnsweredOnce() throws Exception {
    InfoTypeAndValue caCerts = new InfoTypeAndValue(CMPObjectIdentifiers.id_it_caCerts);
    PKIMessage answer = PKIMessage.getInstance(responder.handle(genm(caCerts, caCerts, caCerts, caCerts), null));
    assertEquals(PKIBody.TYPE_GEN_REP, answer.getBody().getType());
    assertEquals(1, GenRepContent.getInstance(answer.getBody().getContent()).toInfoTypeAndValueArray().length);
  }

  @Test
  void aGenmWithThousandsOfItemsIsRefusedCheaply() throws Exception {
    // 100 items: parsed, and refused by the genm rule; 10,000: refused by the DER pre-scan before any parsing
    for (int n : new int[] {100, 10_000}) {
      InfoTypeAndValue[] many = new InfoTypeAndValue[n];
      java.util.Arrays.fill(many, new InfoTypeAndValue(CMPObjectIdentifiers.id_it_caCerts));
      byte[] answerBytes = responder.handle(genm(many), null);
      assertTrue(answerBytes.length < 4096, "a small error, not an amplified answer: " + answerBytes.length + " bytes");
      PKIMessage answer = PKIMessage.getInstance(answerBytes);
      assertEquals(PKIBody.TYPE_ERROR, answer.getBody().getType());
      String text = KeyarcCmp.text(ErrorMsgContent.getInstance(answer.getBody().getContent()).getPKIStatusInfo());
      assertTrue(text.startsWith(n == 100 ? "[keyarc 30] a genm may ask for at most 8 items"
          : "[keyarc 31] the request is not acceptable DER: more than 1024 elements"), text);
    }
  }
}
