package org.keyarc.ca.revoke;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.OCSPReq;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.Req;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.UnknownStatus;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.Store;
import org.keyarc.protocol.Bc;
import org.keyarc.protocol.asn1.DerLimits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OCSP responder (RFC 6960) on the HTTP listener: each certificate's status from the store — good (issued
 * and not revoked), revoked (with its time and reason) or unknown (not this CA's, or no such serial) — signed by
 * the delegated OCSP signing key in the CA token ({@link CaKeyring#currentOcspSigner}), never by the CA key; after a
 * rollover, the one certified by the CA key that issued the certificate asked about.
 * A request's nonce (RFC 8954, 1 to 32 bytes) is echoed, and such an answer is signed fresh; an answer without a
 * nonce for a single certificate is pre-produced and kept for {@link #CACHE_FOR} per certificate ID, served only
 * while the store still gives the status it states (each request reads the status: a revocation on any node, by
 * any path, shows at once). Every answer is valid for {@link #VALID_FOR}. CertIDs hashed with SHA-1 or SHA-2 only. Malformed requests get
 * {@code malformedRequest}, a missing signer {@code tryLater}, and nothing throws.
 */
public final class OcspService {
  private static final Logger LOG = LoggerFactory.getLogger(OcspService.class);
  /** How long a pre-produced answer is served from memory (other nodes' revocations show after at most this). */
  static final Duration CACHE_FOR = Duration.ofSeconds(60);
  /** nextUpdate minus thisUpdate of every answer. */
  static final Duration VALID_FOR = Duration.ofMinutes(10);
  /** Certificates one request may ask about. */
  static final int MAX_REQUESTS = 16;
  private static final int MAX_CACHED = 10_000;

  /** A pre-produced answer and the status it gives (re-checked against the store on every use). */
  private record Cached(byte[] der, Instant until, String status) {}

  /** The CertID hash algorithms answered: SHA-1 (what clients send) and SHA-2; MD5 and others are malformed. */
  private static final java.util.Set<org.bouncycastle.asn1.ASN1ObjectIdentifier> HASHES = java.util.Set.of(
      org.bouncycastle.asn1.oiw.OIWObjectIdentifiers.idSHA1, org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha256,
      org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha384,
      org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha512);

  private final Store store;
  private final CaKeyring keys;
  private final Clock clock;
  private final DigestCalculatorProvider digests;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();

  public OcspService(Store store, CaKeyring keys, Clock clock) {
    this.store = store;
    this.keys = keys;
    this.clock = clock;
    try {
      this.digests = new JcaDigestCalculatorProviderBuilder().setProvider(Bc.PROVIDER).build();
    } catch (OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A revocation happened: no pre-produced answer of this node may say otherwise. */
  public void revoked() {
    cache.clear();
  }

  /** The DER OCSPResponse to the DER OCSPRequest {@code der}. */
  public byte[] respond(byte[] der) {
    OCSPReq req;
    try {
      DerLimits.check(der, DerLimits.DEFAULT_MAX_DEPTH);
      req = new OCSPReq(der);
    } catch (org.keyarc.protocol.KeyarcException | java.io.IOException | RuntimeException e) {
      return status(OCSPRespBuilder.MALFORMED_REQUEST, "not a DER OCSPRequest");
    }
    Instant now = clock.instant();
    String key = null;
    try {
      // BC parses the single requests only here: a malformed one throws, answered malformedRequest below
      Req[] list;
      Extension nonce;
      try {
        list = req.getRequestList();
        nonce = req.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce);
        for (Req r : list) {
          if (!HASHES.contains(r.getCertID().getHashAlgOID())) {
            return status(OCSPRespBuilder.MALFORMED_REQUEST, "a CertID hashed with " + r.getCertID().getHashAlgOID()
                + " (SHA-1 or SHA-2 only)");
          }
        }
      } catch (RuntimeException e) {
        return status(OCSPRespBuilder.MALFORMED_REQUEST, "a malformed request list");
      }
      if (list.length == 0 || list.length > MAX_REQUESTS) {
        return status(OCSPRespBuilder.MALFORMED_REQUEST, list.length + " certificates asked about (1 to "
            + MAX_REQUESTS + ")");
      }
      if (nonce != null) {
        int n;
        try {
          n = ASN1OctetString.getInstance(nonce.getParsedValue()).getOctets().length;
        } catch (RuntimeException e) {
          return status(OCSPRespBuilder.MALFORMED_REQUEST, "a nonce that is not an OCTET STRING");
        }
        if (n < 1 || n > 32) {
          return status(OCSPRespBuilder.MALFORMED_REQUEST, "a nonce of " + n + " bytes (1 to 32, RFC 8954)");
        }
      }
      // the CA key that issued each certificate asked about (the CertID's issuer hashes name it); one answer has one
      // signer, certified by one CA key: the first request's. A request about another key's certificate (rare: a
      // client asks per issuer) is answered unknown.
      int signerKey = -1;
      String[] states = new String[list.length];
      CertificateStatus[] statuses = new CertificateStatus[list.length];
      for (int i = 0; i < list.length; i++) {
        int g = issuerKey(list[i].getCertID());
        if (signerKey < 0) {
          signerKey = g;
        }
        statuses[i] = g >= 0 && g == signerKey ? statusOf(list[i].getCertID(), g) : new UnknownStatus();
        states[i] = describe(statuses[i]);
      }
      if (signerKey < 0) {
        signerKey = keys.current().number();
      }
      if (nonce == null && list.length == 1) {
        key = HexFormat.of().formatHex(list[0].getCertID().toASN1Primitive().getEncoded());
        Cached c = cache.get(key);
        // served from memory only while the store still says the same: a revocation on any node shows at once
        if (c != null && now.isBefore(c.until()) && c.status().equals(states[0])) {
          return c.der();
        }
      }
      Optional<CaKeyring.Responder> signer = keys.currentOcspSigner(now, signerKey);
      if (signer.isEmpty()) {
        return status(OCSPRespBuilder.TRY_LATER, "no OCSP signing key yet");
      }
      X509CertificateHolder cert = signer.get().cert();
      BasicOCSPRespBuilder b = new BasicOCSPRespBuilder(new RespID(cert.getSubjectPublicKeyInfo(),
          digests.get(CertificateID.HASH_SHA1)));
      for (int i = 0; i < list.length; i++) {
        b.addResponse(list[i].getCertID(), statuses[i], Date.from(now), Date.from(now.plus(VALID_FOR)), null);
      }
      if (nonce != null) {
        b.setResponseExtensions(new Extensions(nonce));
      }
      BasicOCSPResp basic = b.build(keys.responderSigner(signer.get()), new X509CertificateHolder[] {cert},
          Date.from(now));
      byte[] out = new OCSPRespBuilder().build(OCSPRespBuilder.SUCCESSFUL, basic).getEncoded();
      if (key != null) {
        if (cache.size() >= MAX_CACHED) {
          cache.keySet().removeIf(k -> cache.get(k) == null || !now.isBefore(cache.get(k).until()));
          if (cache.size() >= MAX_CACHED) {
            cache.clear();
          }
        }
        cache.put(key, new Cached(out, now.plus(CACHE_FOR), states[0]));
      }
      return out;
    } catch (CaException e) {
      LOG.warn("OCSP answered tryLater: {}", e.getMessage());
      return status(OCSPRespBuilder.TRY_LATER, e.getMessage());
    } catch (OCSPException | OperatorCreationException | java.io.IOException | org.keyarc.hsm.HsmException
        | RuntimeException | StackOverflowError e) {
      String incident = Long.toHexString(Double.doubleToLongBits(Math.random()));
      LOG.error("OCSP internal error, incident {}", incident, e);
      return status(OCSPRespBuilder.INTERNAL_ERROR, "incident " + incident);
    }
  }

  private static String describe(CertificateStatus s) {
    if (s == CertificateStatus.GOOD) {
      return "good";
    }
    if (s instanceof RevokedStatus r) {
      return "revoked " + r.getRevocationTime().getTime() + " " + (r.hasRevocationReason() ? r.getRevocationReason()
          : -1);
    }
    return "unknown";
  }

  /**
   * The generation of the CA key whose certificate the CertID's issuer hashes name; -1 for another CA's, and for a
   * key whose certificate has ended (it answers for nothing any more).
   */
  private int issuerKey(CertificateID id) throws OCSPException {
    for (CaKeyring.Generation g : keys.live(clock.instant())) {
      if (id.matchesIssuer(g.cert(), digests)) {
        return g.number();
      }
    }
    return -1;
  }

  /** Good, revoked or unknown, from the store, for a certificate the CA key {@code generation} signed. */
  private CertificateStatus statusOf(CertificateID id, int generation) throws CaException {
    BigInteger serial = id.getSerialNumber();
    String issuer = keys.caName().toString();
    Optional<CertRecord> rec = store.inTransaction(tx -> tx.certificates().find(issuer, serial, generation));
    if (rec.isEmpty()) {
      return new UnknownStatus(); // no such serial, or another CA key signed it
    }
    CertRecord r = rec.get();
    if (r.status() == CertRecord.Status.REVOKED) {
      int reason = r.revocationReason() == null ? 0 : r.revocationReason();
      // unspecified (0) is left out, as on the CRL (RFC 5280 5.3.1)
      return reason == 0 ? new RevokedStatus(new org.bouncycastle.asn1.ocsp.RevokedInfo(
          new org.bouncycastle.asn1.ASN1GeneralizedTime(Date.from(r.revokedAt())), null))
          : new RevokedStatus(Date.from(r.revokedAt()), reason);
    }
    if (r.status() == CertRecord.Status.UNCONFIRMED) {
      // not accepted by its requester yet (for an encrCert key: possession not proven): not vouched for as good
      return new UnknownStatus();
    }
    return CertificateStatus.GOOD;
  }

  /** An answer with no response, internalError: what a worker sends when even {@link #respond} failed. */
  public static byte[] internalError() {
    return status(OCSPRespBuilder.INTERNAL_ERROR, "the responder failed");
  }

  private static byte[] status(int status, String why) {
    LOG.info("OCSP request answered with status {}: {}", status, why);
    try {
      return new OCSPRespBuilder().build(status, null).getEncoded();
    } catch (OCSPException | java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
