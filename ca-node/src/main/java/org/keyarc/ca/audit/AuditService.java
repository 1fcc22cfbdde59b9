package org.keyarc.ca.audit;

import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.auth.Authorization;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.CaKeyStore;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.support.HsmCalls;
import org.keyarc.ca.support.PublicKeys;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.hsm.SignatureAlgorithm;
import org.keyarc.protocol.ErrorCode;

/**
 * The audit log's operations: signed checkpoints of the chain head (with the HSM audit key), verification
 * (auditor), and the record of the node's effective configuration when it changes.
 */
public final class AuditService {
  private final Store store;
  private final HsmToken token;
  private final KeyHandle auditKey;
  private final Clock clock;

  /** {@code auditKey}: the private audit key in {@code token}, which signs the checkpoints. */
  public AuditService(Store store, HsmToken token, KeyHandle auditKey, Clock clock) {
    this.store = store;
    this.token = token;
    this.auditKey = auditKey;
    this.clock = clock;
  }

  /** Signs the chain head if it moved. Returns the checkpointed sequence number, or -1 when nothing was new. */
  public long checkpoint() throws CaException {
    return checkpoint(store, signer(token, auditKey), clock.instant());
  }

  /** Signs the head of {@code store}'s chain with {@code signer} unless it is already signed. */
  public static long checkpoint(Store store, CheckpointSigner signer, Instant at) throws CaException {
    return store.inTransaction(tx -> {
      AuditStore.Head head = tx.audit().head();
      if (head.seq() == 0 || tx.audit().checkpointAt(head.seq()).isPresent()) {
        return -1L;
      }
      byte[] sig;
      try {
        sig = signer.sign(AuditChain.checkpointData(head.seq(), head.hash()));
      } catch (Exception e) {
        throw new CaException(ErrorCode.HSM_ERROR, "cannot sign the audit checkpoint: " + e.getMessage(), e);
      }
      tx.audit().insertCheckpoint(new AuditStore.Checkpoint(head.seq(), head.hash(), at, signer.keyLabel(), sig));
      return head.seq();
    });
  }

  /** The audit key {@code auditKey} in {@code token} as a checkpoint signer. */
  public static CheckpointSigner signer(HsmToken token, KeyHandle auditKey) {
    return new CheckpointSigner() {
      @Override
      public String keyLabel() {
        return auditKey.label();
      }

      @Override
      public byte[] sign(byte[] data) throws Exception {
        return token.call(s -> s.sign(auditKey, SignatureAlgorithm.SHA256_WITH_ECDSA, data));
      }
    };
  }

  /** Verifies the chain with the audit public keys read from the CA token. Auditor only. */
  public AuditChain.Verification verify(Identity who) throws CaException {
    Authorization.require(who, Role.AUDITOR);
    return verify(store, token);
  }

  /**
   * Verifies the chain of {@code store} with the audit public keys read from the CA token itself, so
   * that someone who can write the database cannot swap the key and re-sign the checkpoints.
   */
  public static AuditChain.Verification verify(Store store, HsmToken token) throws CaException {
    List<CaKeyStore.Row> rows = store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.AUDIT));
    Map<String, PublicKey> auditKeys = new HashMap<>();
    List<String> mismatch = new ArrayList<>();
    for (CaKeyStore.Row r : rows) {
      PublicKey inToken = HsmCalls.call(() -> token.call(s -> s.publicKey(s.findKey(
          KeyHandle.KeyClass.PRIVATE, r.keyLabel()))));
      auditKeys.put(r.keyLabel(), inToken);
      if (!Arrays.equals(inToken.getEncoded(), r.publicKey())) {
        mismatch.add("the audit key '" + r.keyLabel() + "' in the store is not the one in token " + token.label()
            + ": the store was edited");
      }
    }
    AuditChain.Verification v = verify(store, auditKeys);
    if (mismatch.isEmpty()) {
      return v;
    }
    mismatch.addAll(v.problems());
    return new AuditChain.Verification(v.records(), v.checkpoints(), v.lastCheckpoint(), mismatch);
  }

  /** Verifies the chain of {@code store} with the audit keys recorded at init. */
  public static AuditChain.Verification verify(Store store) throws CaException {
    Map<String, PublicKey> auditKeys = store.inTransaction(tx -> {
      Map<String, PublicKey> m = new HashMap<>();
      for (CaKeyStore.Row r : tx.caKeys().list(CaKeyStore.Kind.AUDIT)) {
        m.put(r.keyLabel(), PublicKeys.publicKey(SubjectPublicKeyInfo.getInstance(r.publicKey())));
      }
      return m;
    });
    return verify(store, auditKeys);
  }

  /** Verifies the chain of {@code store} with the given audit keys (label to public key). */
  public static AuditChain.Verification verify(Store store, Map<String, PublicKey> auditKeys) throws CaException {
    return store.inTransaction(tx -> AuditChain.verify(tx.audit().records(0, Long.MAX_VALUE), tx.audit().head(),
        tx.audit().checkpoints(), auditKeys));
  }

  /**
   * Records the node's effective configuration in the audit log when it differs from the last one
   * recorded (a configuration change is an audited event). Returns true when a record was written.
   */
  public boolean recordConfiguration(String effectiveJson) throws CaException {
    String digest = Digests.sha256Hex(effectiveJson.getBytes(StandardCharsets.UTF_8));
    Instant now = clock.instant();
    return store.inTransaction(tx -> {
      Optional<String> last = tx.audit().lastDetail(AuditAction.CONFIG_CHANGE.id());
      if (last.isPresent() && last.get().startsWith("sha256=" + digest)) {
        return false;
      }
      String detail = "sha256=" + digest + " " + effectiveJson;
      Audit.append(tx, Audit.NODE, AuditAction.CONFIG_CHANGE, "node", detail.length() > 4000
          ? detail.substring(0, 3997) + "..." : detail, now);
      return true;
    });
  }
}
