package org.keyarc.ca.kra;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import org.keyarc.ca.CaException;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.store.AgentStore;
import org.keyarc.ca.support.HsmCalls;

/**
 * The seal over the archival configuration: a CMAC, computed inside the HSM with the CA token's secret-MAC key,
 * over the policy (N, M) and the ordered agent list (issuer, serial and SHA-256 of each certificate). Made in the
 * same transaction as every administrator's change, checked on every archival: a database writer who swaps an
 * agent's certificate, adds an agent or lowers the threshold breaks it, and cannot make a new one without the
 * token.
 */
final class AgentSeal {
  private static final byte[] CONTEXT = "keyarc-archival-config-v1".getBytes(StandardCharsets.US_ASCII);

  private AgentSeal() {}

  static byte[] compute(CaKeyring keys, AgentStore.Policy policy, List<AgentStore.Agent> agents) throws CaException {
    byte[] data = encode(policy, agents);
    return HsmCalls.call(() -> keys.token().call(s -> s.cmac(keys.macKey(), data)));
  }

  static byte[] encode(AgentStore.Policy policy, List<AgentStore.Agent> agents) {
    try {
      ByteArrayOutputStream bout = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bout)) {
        out.write(CONTEXT);
        out.writeInt(policy.agents());
        out.writeInt(policy.threshold());
        out.writeInt(agents.size());
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (AgentStore.Agent a : agents) {
          byte[] issuer = a.issuer().getBytes(StandardCharsets.UTF_8);
          byte[] serial = a.serial().toByteArray();
          out.writeInt(issuer.length);
          out.write(issuer);
          out.writeInt(serial.length);
          out.write(serial);
          out.write(sha.digest(a.cert()));
        }
      }
      return bout.toByteArray();
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
