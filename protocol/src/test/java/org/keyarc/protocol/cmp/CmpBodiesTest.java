package org.keyarc.protocol.cmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.junit.jupiter.api.Test;

class CmpBodiesTest {
  private static final Map<String, Integer> NAMES = new LinkedHashMap<>();

  static {
    NAMES.put("ir", PKIBody.TYPE_INIT_REQ);
    NAMES.put("cr", PKIBody.TYPE_CERT_REQ);
    NAMES.put("kur", PKIBody.TYPE_KEY_UPDATE_REQ);
    NAMES.put("p10cr", PKIBody.TYPE_P10_CERT_REQ);
    NAMES.put("certConf", PKIBody.TYPE_CERT_CONFIRM);
    NAMES.put("pollReq", PKIBody.TYPE_POLL_REQ);
    NAMES.put("rr", PKIBody.TYPE_REVOCATION_REQ);
    NAMES.put("genm", PKIBody.TYPE_GEN_MSG);
    NAMES.put("ip", PKIBody.TYPE_INIT_REP);
    NAMES.put("cp", PKIBody.TYPE_CERT_REP);
    NAMES.put("kup", PKIBody.TYPE_KEY_UPDATE_REP);
    NAMES.put("pollRep", PKIBody.TYPE_POLL_REP);
    NAMES.put("rp", PKIBody.TYPE_REVOCATION_REP);
    NAMES.put("genp", PKIBody.TYPE_GEN_REP);
    NAMES.put("error", PKIBody.TYPE_ERROR);
    NAMES.put("pkiconf", PKIBody.TYPE_CONFIRM);
  }

  @Test
  void namesRoundTrip() {
    NAMES.forEach((name, type) -> {
      assertEquals(name, CmpBodies.name(type));
      assertEquals(type, CmpBodies.type(name));
    });
  }

  @Test
  void otherTypesAreNamedByNumberAndHaveNoType() {
    assertEquals("type5", CmpBodies.name(PKIBody.TYPE_POPO_CHALL));
    assertEquals("type20", CmpBodies.name(PKIBody.TYPE_NESTED));
    assertThrows(IllegalArgumentException.class, () -> CmpBodies.type("type5"));
    assertThrows(IllegalArgumentException.class, () -> CmpBodies.type("IR"));
  }

  @Test
  void everyRequestHasItsAnswer() {
    assertEquals(PKIBody.TYPE_INIT_REP, CmpBodies.responseType(PKIBody.TYPE_INIT_REQ));
    assertEquals(PKIBody.TYPE_CERT_REP, CmpBodies.responseType(PKIBody.TYPE_CERT_REQ));
    assertEquals(PKIBody.TYPE_CERT_REP, CmpBodies.responseType(PKIBody.TYPE_P10_CERT_REQ));
    assertEquals(PKIBody.TYPE_KEY_UPDATE_REP, CmpBodies.responseType(PKIBody.TYPE_KEY_UPDATE_REQ));
    assertEquals(PKIBody.TYPE_REVOCATION_REP, CmpBodies.responseType(PKIBody.TYPE_REVOCATION_REQ));
    assertEquals(PKIBody.TYPE_GEN_REP, CmpBodies.responseType(PKIBody.TYPE_GEN_MSG));
    assertEquals(PKIBody.TYPE_CONFIRM, CmpBodies.responseType(PKIBody.TYPE_CERT_CONFIRM));
    assertEquals(PKIBody.TYPE_POLL_REP, CmpBodies.responseType(PKIBody.TYPE_POLL_REQ));
    // the stored request names map back to the answer a decided poll gets
    assertEquals(PKIBody.TYPE_CERT_REP, CmpBodies.responseType(CmpBodies.type("p10cr")));
    assertEquals(PKIBody.TYPE_KEY_UPDATE_REP, CmpBodies.responseType(CmpBodies.type("kur")));
  }

  @Test
  void answersHaveNoAnswer() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CmpBodies.responseType(PKIBody.TYPE_CERT_REP));
    assertEquals("CMP body type cp is not a request", e.getMessage());
  }
}
