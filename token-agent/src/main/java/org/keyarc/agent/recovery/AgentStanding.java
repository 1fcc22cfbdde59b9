package org.keyarc.agent.recovery;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.protocol.Bc;
import org.keyarc.protocol.ErrorCode;

/**
 * Whether the agents on a card may still do a recovery step offline, by the rule the node applies online: an agent
 * whose certificate has expired, is not yet valid, or is revoked may not. Expiry is read from the agent's certificate
 * in the blob; revocation from the CA's CRLs the agent brings ({@code --crl}), each checked against the pinned CA
 * certificates and required to be current, at least one of them complete (a delta alone lists only changes). Without
 * a CRL, revocation is not known offline, and {@link #check} says so.
 */
public final class AgentStanding {
  private AgentStanding() {}

  /** What the check found: the problems (each naming the agent), and whether revocation could be checked. */
  public record Report(List<String> problems, boolean revocationChecked) {}

  /**
   * Checks the certificates of the blob's agents {@code agents} (indexes into the record's agent list) at {@code now}
   * against {@code crls} (may be empty), each of which must be signed by one of {@code cas} and current; a CRL that is
   * not is refused (BAD_INPUT), since a stale or forged CRL would hide a revocation.
   */
  public static Report check(RecoveryBlob blob, Collection<Integer> agents, List<X509CertificateHolder> cas,
      List<X509CRLHolder> crls, Instant now) throws RecoveryException {
    boolean complete = checkCrls(crls, cas, now);
    List<String> problems = new ArrayList<>();
    for (int i : agents) {
      X509CertificateHolder cert = blob.certificate(blob.record().agents().get(i));
      if (cert != null) { // RecoveryBlob.verify refuses a blob without its agents' certificates
        problems.addAll(problems(blob.agentName(i), cert, crls, now));
      }
    }
    return new Report(List.copyOf(problems), complete);
  }

  /**
   * The same rule for a certificate outside a blob (a rotation's new agent): expired, not yet valid, or revoked by
   * one of {@code crls} (checked as {@link #check} checks them). Each problem names {@code who}.
   */
  public static List<String> problems(String who, X509CertificateHolder cert, List<X509CertificateHolder> cas,
      List<X509CRLHolder> crls, Instant now) throws RecoveryException {
    checkCrls(crls, cas, now);
    return problems(who, cert, crls, now);
  }

  /** The CRLs are the CA's, current and not from the future, with a complete one among deltas; true if complete. */
  private static boolean checkCrls(List<X509CRLHolder> crls, List<X509CertificateHolder> cas, Instant now)
      throws RecoveryException {
    boolean complete = false;
    for (X509CRLHolder crl : crls) {
      if (cas.stream().noneMatch(ca -> ca.getSubject().equals(crl.getIssuer()) && signedBy(crl, ca))) {
        throw new RecoveryException(ErrorCode.BAD_INPUT, "the CRL from " + crl.getIssuer() + " is not signed by a "
            + "pinned CA certificate: bring the CA's own CRL (GET /crl, or /crl/N after a CA key rollover)");
      }
      if (crl.getNextUpdate() == null || !crl.getNextUpdate().toInstant().isAfter(now)) {
        throw new RecoveryException(ErrorCode.BAD_INPUT, "the CRL " + crlNumber(crl) + " is out of date (next "
            + "update " + (crl.getNextUpdate() == null ? "none" : crl.getNextUpdate().toInstant()) + "): fetch a "
            + "current one");
      }
      if (crl.getThisUpdate().toInstant().isAfter(now.plus(SKEW))) {
        throw new RecoveryException(ErrorCode.BAD_INPUT, "the CRL " + crlNumber(crl) + " is dated in the future ("
            + crl.getThisUpdate().toInstant() + "): check this machine's clock");
      }
      complete |= crl.getExtension(org.bouncycastle.asn1.x509.Extension.deltaCRLIndicator) == null;
    }
    if (!crls.isEmpty() && !complete) {
      throw new RecoveryException(ErrorCode.BAD_INPUT, "only delta CRLs were given: a delta lists what changed "
          + "since its complete CRL, so bring that one too (GET /crl)");
    }
    return complete;
  }

  private static List<String> problems(String who, X509CertificateHolder cert, List<X509CRLHolder> crls,
      Instant now) {
    List<String> problems = new ArrayList<>();
    {
      if (now.isAfter(cert.getNotAfter().toInstant())) {
        problems.add(who + ": its certificate expired on " + cert.getNotAfter().toInstant());
      } else if (now.isBefore(cert.getNotBefore().toInstant())) {
        problems.add(who + ": its certificate is not valid before " + cert.getNotBefore().toInstant());
      }
      // every CRL of the CA's name lists every revocation (each CA key's does, after a rollover too): a revocation
      // in any of them, complete or delta, counts
      for (X509CRLHolder crl : crls) {
        var entry = crl.getIssuer().equals(cert.getIssuer()) ? crl.getRevokedCertificate(cert.getSerialNumber()) : null;
        if (entry != null) {
          problems.add(who + ": its certificate is revoked (" + entry.getRevocationDate().toInstant() + ")");
          break;
        }
      }
    }
    return problems;
  }

  /** How far a CRL's thisUpdate may be ahead of this machine's clock. */
  private static final java.time.Duration SKEW = java.time.Duration.ofMinutes(5);

  private static boolean signedBy(X509CRLHolder crl, X509CertificateHolder ca) {
    try {
      return crl.isSignatureValid(new org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder()
          .setProvider(Bc.PROVIDER).build(ca));
    } catch (org.bouncycastle.cert.CertException | org.bouncycastle.operator.OperatorCreationException
        | java.security.cert.CertificateException | RuntimeException e) {
      return false;
    }
  }

  private static String crlNumber(X509CRLHolder crl) {
    var ext = crl.getExtension(org.bouncycastle.asn1.x509.Extension.cRLNumber);
    return ext == null ? "(no number)" : "number " + org.bouncycastle.asn1.x509.CRLNumber.getInstance(
        ext.getParsedValue()).getCRLNumber();
  }
}
