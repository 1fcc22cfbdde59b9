package org.keyarc.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.junit.jupiter.api.Test;
import org.keyarc.hsm.testing.PackageGraph;
import org.keyarc.protocol.cmp.MacKind;

/** protocol sits on hsm-core only, and its packages form no cycle. */
class ArchitectureTest {
  private final PackageGraph graph = PackageGraph.ofThisModule();

  @Test
  void noPackageCycle() {
    graph.assertNoCycles();
  }

  @Test
  void dependsOnlyOnHsmCore() {
    graph.assertOnlyImports("org.keyarc.protocol..", "org.keyarc..", "org.keyarc.hsm..");
  }

  /** KeyarcCmp names the MACs by OID (no import of cmp); it must still agree with MacKind. */
  @Test
  void passwordBasedMacsAreTheMacKinds() {
    for (MacKind k : MacKind.values()) {
      assertEquals(true, KeyarcCmp.isPasswordBasedMac(k.algorithm()), k.name());
    }
    for (ASN1ObjectIdentifier other : new ASN1ObjectIdentifier[] {PKCSObjectIdentifiers.sha256WithRSAEncryption,
        PKCSObjectIdentifiers.id_hmacWithSHA256, new ASN1ObjectIdentifier("1.2.3.4")}) {
      assertEquals(MacKind.of(other).isPresent(), KeyarcCmp.isPasswordBasedMac(other), other.getId());
    }
    assertEquals(false, KeyarcCmp.isPasswordBasedMac(null));
  }
}
