package org.keyarc.ca.e2e;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.bouncycastle.asn1.crmf.EncryptedValue;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.node.CaServices;
import org.keyarc.ca.store.CaKeyStore;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.hsm.OaepHash;
import org.keyarc.protocol.client.ArchiveEncryption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reviewer's zero-agent recovery: a recorded archival request plus the CA token's PIN gave the user's key,
 * because exchange keys could decrypt and lived forever. Tried again: the node's exchange key refuses C_Decrypt,
 * and after its certificate ends (plus ca.exchangeRetireAfterDays) the node destroys it in the HSM.
 */
class ExchangeKeyE2eTest {

  @Test
  void aRecordedRequestCannotBeDecryptedAndTheKeyRetires() throws Exception {
    try (TestCa ca = TestCa.start()) {
      CaKeyring keys = ca.services().keys();
      CaKeyring.Exchange exchange = keys.currentExchange(Instant.now()).orElseThrow();
      // what a recorder of the wire holds: the request's EncryptedValue (transport key RSA-OAEP to the exchange key)
      EncryptedValue recorded = EncryptedValue.getInstance(ArchiveEncryption.encryptedValue(PrivateKeyInfo
          .getInstance(TestCa.ecKey().getPrivate().getEncoded()), exchange.cert(), "SHA-1").getValue());
      // ... and root on the node, logged in to the CA token: decrypting the transport key is refused by the HSM
      HsmException e = assertThrows(HsmException.class, () -> keys.token().call(s -> s.decryptOaep(exchange.key(),
          OaepHash.SHA1, recorded.getEncSymmKey().getOctets())));
      assertEquals(HsmException.Reason.KEY_POLICY, e.reason(), e.getMessage());

      // a month later the exchange certificate has ended and its grace period too: the node destroys the key
      CaServices later = CaServices.wire(ca.cfg.settings(), ca.services().store(), keys, ca.services().templates(),
          Clock.offset(Clock.systemUTC(), Duration.ofDays(30)));
      assertTrue(later.exchange().retireExpired("ca-node") >= 1);
      assertNull(keys.token().call(s -> s.findKeyOrNull(KeyHandle.KeyClass.PRIVATE, exchange.label())),
          "the private key is gone from the HSM");
      CaKeyStore.Row row = ca.services().store().inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.EXCHANGE))
          .stream().filter(r -> r.keyLabel().equals(exchange.label())).findFirst().orElseThrow();
      assertNotNull(row.retiredAt());
      assertTrue(keys.exchanges().stream().noneMatch(x -> x.label().equals(exchange.label())));
      assertTrue(ca.services().store().inTransaction(tx -> tx.audit().records(0, Long.MAX_VALUE)).stream()
          .anyMatch(r -> r.action().equals("ca.exchange.retire") && r.target().equals(exchange.label())));
      assertEquals(0, later.exchange().retireExpired("ca-node"), "retired once");
    }
  }
}
