package org.keyarc.ca.attack;

import java.net.InetSocketAddress;
import java.net.Socket;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.store.Role;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.keyarc.ca.attack.TlsAttacksE2eTest.assertRefused;
import static org.keyarc.ca.attack.TlsAttacksE2eTest.exchangeFrame;
import static org.keyarc.ca.attack.TlsAttacksE2eTest.secretCreate;
import static org.keyarc.ca.attack.TlsAttacksE2eTest.text;
import static org.keyarc.ca.attack.TlsAttacksE2eTest.unprotectedGenm;

/**
 * A node whose administrator turned TLS off on the binary listener ({@code binary.tls: {enabled: false}}): a
 * signed secret.create sent as raw frames over a plain socket is refused with TLS_REQUIRED, audited, and creates
 * nothing;
 * public information is still answered on the same connection.
 */
class TlsPlainBinaryE2eTest {
  @Test
  void secretCreateOverPlainBinaryIsRefusedAndCreatesNoSecret() throws Exception {
    try (TlsNode plain = TlsNode.start(cfg -> cfg.binary.tls.enabled = false)) {
      TlsNode.Holder a = plain.holder("CN=Plain Admin", Role.ADMINISTRATOR);
      long before = plain.audited("secret.create");
      long refusals = plain.audited("authz.refused");
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", plain.node.binaryPort()), 5_000);
        s.setSoTimeout(30_000);
        PKIMessage answer = PKIMessage.getInstance(exchangeFrame(s, 7, secretCreate(plain, a, "CN=Victim Two")));
        assertRefused(answer, 63, "need a TLS connection");
        // on the same plain connection, public information is still answered
        PKIMessage pub = PKIMessage.getInstance(exchangeFrame(s, 8, unprotectedGenm(CMPObjectIdentifiers.id_it_caCerts,
            plain.caCert())));
        assertEquals(PKIBody.TYPE_GEN_REP, pub.getBody().getType(), text(pub));
      }
      assertEquals(before, plain.audited("secret.create"), "no secret was created");
      assertEquals(refusals + 1, plain.audited("authz.refused"), "the administrator's try over plain TCP is audited");
    }
  }

}
