package org.keyarc.hsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.KeyPairTemplate;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

class RedactionTest {

  @Test
  void secretAttributeValuesNeverReachTheText() {
    AttributeVector t = AttributeVector.newAESSecretKey().label("transport").value(new byte[] {0x5e, 0x5e, 0x5e})
        .attr(PKCS11Constants.CKA_PRIVATE_EXPONENT, new BigInteger("123456789abcdef", 16));
    String text = Redaction.describe(t);
    assertTrue(text.contains("CKA_LABEL=transport"), text);
    assertTrue(text.contains("CKA_VALUE=<redacted>"), text);
    assertTrue(text.contains("CKA_PRIVATE_EXPONENT=<redacted>"), text);
    assertFalse(text.contains("5e5e5e"), text);
    assertFalse(text.toLowerCase().contains("123456789abcdef"), text);
  }

  @Test
  void logArgumentsAreMadeSafe() {
    assertEquals("<redacted>", Redaction.safe("1234".toCharArray()));
    assertEquals("<32 bytes>", Redaction.safe(new byte[32]));
    Object pair = Redaction.safe(new KeyPairTemplate(PKCS11Constants.CKK_RSA).labels("ca"));
    assertTrue(pair.toString().startsWith("{public {"), pair.toString());
    assertEquals("plain", Redaction.safe("plain"));
  }
}
