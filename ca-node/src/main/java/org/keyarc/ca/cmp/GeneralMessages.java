package org.keyarc.ca.cmp;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.cmp.CMPCertificate;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.GenMsgContent;
import org.bouncycastle.asn1.cmp.GenRepContent;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.admin.AdminApi;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.revoke.CrlService;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcCmp;

/**
 * genm: the public information (caCerts, the exchange certificate, the current CRL) anyone may ask for, and
 * keyarc's administrative requests (infoType {@link KeyarcCmp#ADMIN}), which must be signed.
 */
final class GeneralMessages {
  private final CaKeyring keys;
  private final CrlService crls;
  private final AdminApi admin;
  private final Clock clock;

  GeneralMessages(CaKeyring keys, CrlService crls, AdminApi admin, Clock clock) {
    this.keys = keys;
    this.crls = crls;
    this.admin = admin;
    this.clock = clock;
  }

  /** True when the genm asks for nothing but public information (no administrative request). */
  static boolean onlyPublicInfo(PKIMessage msg) {
    for (InfoTypeAndValue i : GenMsgContent.getInstance(msg.getBody().getContent()).toInfoTypeAndValueArray()) {
      if (i.getInfoType().equals(KeyarcCmp.ADMIN)) {
        return false;
      }
    }
    return true;
  }

  /** At most this many ITAVs in one genm (keyarc offers five infoTypes; one admin request a message). */
  static final int MAX_ITEMS = 8;

  PKIBody genm(PKIMessage msg, CmpContext ctx) throws CaException {
    InfoTypeAndValue[] asks = GenMsgContent.getInstance(msg.getBody().getContent()).toInfoTypeAndValueArray();
    if (asks.length > MAX_ITEMS) {
      throw new CaException(ErrorCode.BAD_REQUEST, "a genm may ask for at most " + MAX_ITEMS + " items, not "
          + asks.length);
    }
    List<InfoTypeAndValue> out = new ArrayList<>();
    if (asks.length == 0) {
      out.add(caCerts());
    }
    java.util.Set<ASN1ObjectIdentifier> answered = new java.util.HashSet<>();
    for (InfoTypeAndValue a : asks) {
      ASN1ObjectIdentifier t = a.getInfoType();
      if (!answered.add(t)) {
        // each infoType is answered once: asking 83,333 times for caCerts must not buy a 38 MB answer
        if (t.equals(KeyarcCmp.ADMIN)) {
          throw new CaException(ErrorCode.BAD_REQUEST, "one administrative request per genm");
        }
        continue;
      }
      if (t.equals(CMPObjectIdentifiers.id_it_caCerts)) {
        out.add(caCerts());
      } else if (t.equals(CMPObjectIdentifiers.it_caProtEncCert)) {
        X509CertificateHolder x = keys.currentExchange(clock.instant()).orElseThrow(() -> new CaException(
            ErrorCode.CA_NOT_INITIALISED, "the CA has no valid exchange certificate")).cert();
        out.add(new InfoTypeAndValue(t, new CMPCertificate(x.toASN1Structure())));
      } else if (t.equals(CMPObjectIdentifiers.id_it_rootCaCert)) {
        out.add(rootCaKeyUpdate(a));
      } else if (t.equals(CMPObjectIdentifiers.it_currentCRL)) {
        out.add(new InfoTypeAndValue(t, crls.current().toASN1Structure()));
      } else if (t.equals(KeyarcCmp.ADMIN)) {
        ctx.operation = "admin " + AdminApi.operationName(a.getInfoValue() instanceof ASN1String u
            ? u.getString() : "");
        if (ctx.identity == null || ctx.identity.kind() != Identity.Kind.CERTIFICATE) {
          throw new CaException(ErrorCode.NOT_AUTHORIZED, "administrative requests must be signed with a "
              + "certificate of this CA");
        }
        requireTls(ctx, "administrative requests (their answers may hold one-time secrets or recovery material)");
        String json = DERUTF8String.getInstance(a.getInfoValue()).getString();
        out.add(new InfoTypeAndValue(t, new DERUTF8String(admin.handle(ctx.identity, json))));
      }
      // other infoTypes are not offered: RFC 9810 lets the answer leave them out
    }
    return new PKIBody(PKIBody.TYPE_GEN_REP, new GenRepContent(out.toArray(new InfoTypeAndValue[0])));
  }

  /** Refuses {@code what} on a connection without TLS (unless the listener allows secrets in clear). */
  static void requireTls(CmpContext ctx, String what) throws CaException {
    if (!ctx.confidential) {
      throw new CaException(ErrorCode.TLS_REQUIRED, what + " need a TLS connection: use the node's tls:// or "
          + "https:// listener");
    }
  }

  /** caCerts: the certificate of every CA key whose certificate has not ended, the current one first. */
  private InfoTypeAndValue caCerts() {
    List<CaKeyring.Generation> live = new ArrayList<>(keys.answering(clock.instant()));
    java.util.Collections.reverse(live); // the current one first
    return new InfoTypeAndValue(CMPObjectIdentifiers.id_it_caCerts, new DERSequence(live.stream()
        .map(g -> new CMPCertificate(g.cert().toASN1Structure())).toArray(CMPCertificate[]::new)));
  }

  /**
   * The root CA key update (RFC 9810 5.3.19.16, RFC 9483 4.3.2): asked with the root certificate the client trusts
   * (oldWithOld, optional: the CA key before the current one when left out), the current root certificate
   * (newWithNew) and the rollover's cross-certificates NewWithOld and OldWithNew. No value when there is no update
   * for that certificate: it is the current one, not one of this CA's, this CA is not a self-signed root, or no
   * cross-certificate joins the two keys (one rollover at a time is bridged).
   */
  private InfoTypeAndValue rootCaKeyUpdate(InfoTypeAndValue ask) throws CaException {
    InfoTypeAndValue none = new InfoTypeAndValue(CMPObjectIdentifiers.id_it_rootCaKeyUpdate);
    CaKeyring.Generation now = keys.current();
    if (!now.cert().getIssuer().equals(now.cert().getSubject())) {
      return none;
    }
    CaKeyring.Generation old;
    if (ask.getInfoValue() == null) {
      old = keys.generations().stream().filter(g -> g.number() < now.number())
          .max(java.util.Comparator.comparingInt(CaKeyring.Generation::number)).orElse(null);
    } else {
      X509CertificateHolder given;
      try {
        given = new X509CertificateHolder(CMPCertificate.getInstance(ask.getInfoValue()).getX509v3PKCert());
      } catch (RuntimeException e) {
        throw new CaException(ErrorCode.BAD_REQUEST, "the rootCaCert value is not a certificate");
      }
      old = keys.generations().stream().filter(g -> g.cert().equals(given)).findFirst().orElse(null);
    }
    if (old == null || old.equals(now)) {
      return none;
    }
    X509CertificateHolder newWithOld = keys.crossCert(now, old).orElse(null);
    X509CertificateHolder oldWithNew = keys.crossCert(old, now).orElse(null);
    if (newWithOld == null) {
      return none;
    }
    return new InfoTypeAndValue(CMPObjectIdentifiers.id_it_rootCaKeyUpdate, new org.bouncycastle.asn1.cmp
        .RootCaKeyUpdateContent(new CMPCertificate(now.cert().toASN1Structure()),
            new CMPCertificate(newWithOld.toASN1Structure()),
            oldWithNew == null ? null : new CMPCertificate(oldWithNew.toASN1Structure())));
  }
}
