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

  /** A direct store edit: the ca_key rows of labels {@code a} and {@code b} swap their labels. */
  private static void swapLabels(TestCa ca, String a, String b) {
    org.keyarc.ca.store.DirectSql.run(ca.services().store(), c -> {
      for (String[] set : new String[][] {{a, "swap-tmp"}, {b, a}, {"swap-tmp", b}}) {
        try (java.sql.PreparedStatement ps = c.prepareStatement("UPDATE ca_key SET key_label = ? WHERE key_label = ?")) {
          ps.setString(1, set[1]);
          ps.setString(2, set[0]);
          assertEquals(1, ps.executeUpdate());
        }
      }
      return null;
    });
  }

  /**
   * A database writer swaps the labels of the exchange row and the CMP responder row, so that the exchange key's
   * retirement would destroy the responder key and the responder would sign with the exchange key. The node uses
   * neither row for the other's purpose: each row's label must carry its kind's prefix and its certificate must be
   * the CA's for that purpose and for the key the token holds under the label. After the exchange certificate and
   * its grace period end, the retirement destroys nothing under the responder's label.
   */
  @Test
  void swappedKeyLabelsInTheStoreNeitherSignNorDestroyTheOtherKey() throws Exception {
    try (TestCa ca = TestCa.start()) {
      CaKeyring keys = ca.services().keys();
      String exchange = keys.exchanges().get(0).label();
      String responder = keys.currentResponder(Instant.now()).orElseThrow().label();
      swapLabels(ca, exchange, responder);
      ca.node.close();
      ca.node = org.keyarc.ca.node.CaNode.start(ca.cfg);
      CaKeyring now = ca.services().keys();
      assertTrue(now.exchanges().stream().noneMatch(x -> x.label().equals(responder)),
          "the responder key is not taken for an exchange key");
      assertTrue(now.currentResponder(Instant.now()).map(r -> !r.label().equals(exchange)).orElse(true),
          "the exchange key does not sign CMP answers");

      CaServices later = CaServices.wire(ca.cfg.settings(), ca.services().store(), now, ca.services().templates(),
          Clock.offset(Clock.systemUTC(), Duration.ofDays(30)));
      later.exchange().retireExpired("ca-node");
      assertNotNull(now.token().call(s -> s.findKeyOrNull(KeyHandle.KeyClass.PRIVATE, responder)),
          "the responder key is still in the HSM");
      assertNotNull(now.token().call(s -> s.findKeyOrNull(KeyHandle.KeyClass.PRIVATE, exchange)),
          "and so is the exchange key its row no longer names");
    }
  }

  /**
   * Two exchange rows with their labels swapped in the store: each certificate now names the other's key. Neither
   * is used (clients would encrypt to a key the label does not open), and a new exchange key is made at start.
   */
  @Test
  void anExchangeCertificateOverAnotherKeysLabelIsNotUsed() throws Exception {
    try (TestCa ca = TestCa.start()) {
      String a = ca.services().keys().exchanges().get(0).label();
      ca.services().exchange().renewNow("test");
      String b = ca.services().keys().exchanges().stream().map(CaKeyring.Exchange::label).filter(l -> !l.equals(a))
          .findFirst().orElseThrow();
      swapLabels(ca, a, b);
      ca.node.close();
      ca.node = org.keyarc.ca.node.CaNode.start(ca.cfg);
      java.util.List<String> used = ca.services().keys().exchanges().stream().map(CaKeyring.Exchange::label).toList();
      assertTrue(!used.contains(a) && !used.contains(b), "neither swapped row is used: " + used);
      assertEquals(1, used.size(), "the node made a new exchange key at start: " + used);
    }
  }
  /**
   * A database writer moves the current exchange key's not_after column a year into the past, so that the hourly
   * retirement would destroy it (and every archive under it could never be recovered). The retirement goes by the
   * CA-signed certificate's own end date: the key stays in the HSM and in use.
   */
  @Test
  void anEditedNotAfterColumnDoesNotGetTheCurrentExchangeKeyDestroyed() throws Exception {
    try (TestCa ca = TestCa.start()) {
      CaKeyring keys = ca.services().keys();
      String label = keys.currentExchange(Instant.now()).orElseThrow().label();
      org.keyarc.ca.store.DirectSql.run(ca.services().store(), c -> {
        try (java.sql.PreparedStatement ps = c.prepareStatement("UPDATE ca_key SET not_after = ? WHERE key_label = ?")) {
          ps.setLong(1, Instant.now().minus(Duration.ofDays(365)).toEpochMilli());
          ps.setString(2, label);
          assertEquals(1, ps.executeUpdate());
        }
        return null;
      });
      assertEquals(0, ca.services().exchange().retireExpired("ca-node"), "nothing is retired");
      assertNotNull(keys.token().call(s -> s.findKeyOrNull(KeyHandle.KeyClass.PRIVATE, label)),
          "the current exchange key is still in the HSM");
      assertEquals(label, keys.currentExchange(Instant.now()).orElseThrow().label(), "and still in use");
      CaKeyStore.Row row = ca.services().store().inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.EXCHANGE))
          .stream().filter(r -> r.keyLabel().equals(label)).findFirst().orElseThrow();
      assertNull(row.retiredAt());
    }
  }
}
