package org.keyarc.ca.node;

import java.time.Clock;
import org.keyarc.ca.audit.AuditGuard;
import org.keyarc.ca.audit.AuditService;
import org.keyarc.ca.audit.log.AuditBacklog;
import org.keyarc.ca.audit.CheckpointExport;
import org.keyarc.ca.auth.AuthFailures;
import org.keyarc.ca.auth.IdentityService;
import org.keyarc.ca.auth.RateLimiter;
import org.keyarc.ca.auth.ReplayGuard;
import org.keyarc.ca.auth.RoleService;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.config.NodeSettings;
import org.keyarc.ca.issue.ApprovalService;
import org.keyarc.ca.issue.CertificateQueries;
import org.keyarc.ca.issue.EnrollmentService;
import org.keyarc.ca.issue.Issuer;
import org.keyarc.ca.issue.RequestPolicy;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.keys.ExchangeService;
import org.keyarc.ca.keys.ResponderService;
import org.keyarc.ca.kra.AgentService;
import org.keyarc.ca.kra.ArchiveService;
import org.keyarc.ca.kra.KeyArchiver;
import org.keyarc.ca.kra.RecoveryService;
import org.keyarc.ca.revoke.CrlService;
import org.keyarc.ca.revoke.OcspService;
import org.keyarc.ca.catalog.TemplateCatalog;
import org.keyarc.ca.revoke.RevocationService;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.template.Templates;

/**
 * The CA's services, one per capability, wired here and nowhere else: each gets only what it uses (the
 * store, the keyring, the clock, its part of the configuration). The node, the CLI's local commands and the
 * tests build them through {@link #wire}.
 */
public record CaServices(NodeSettings settings, Store store, CaKeyring keys, Templates templates, Clock clock,
    IdentityService identities, SecretService secrets, RoleService roles, EnrollmentService enrollment,
    RequestPolicy requestPolicy, ApprovalService approvals, CertificateQueries certificates,
    RevocationService revocation, CrlService crls, AgentService agents, ArchiveService archives,
    RecoveryService recoveries, AuditService audit, ExchangeService exchange, ResponderService responder,
    ReplayGuard replays, AuthFailures authFailures, OcspService ocsp, TemplateCatalog catalog,
    org.keyarc.ca.kra.CeremonyService ceremonies) {

  /** Builds every service over {@code store} and the CA keys in {@code keys}. */
  public static CaServices wire(NodeSettings cfg, Store store, CaKeyring keys, Templates templates, Clock clock) {
    String issuer = keys.caName().toString();
    AuditBacklog backlog = new AuditBacklog(store);
    IdentityService identities = new IdentityService(store, clock, keys.caName(),
        keys.publicKeys(clock.instant()), backlog);
    SecretService secrets = new SecretService(store, keys, templates, clock,
        cfg.timers().secretValidity(), cfg.limits().secretMaxFailures());
    RoleService roles = new RoleService(store, clock, cfg.roleSeparation(), issuer);
    CrlService crls = new CrlService(store, keys, clock, cfg.timers().crlValidity(), cfg.timers().deltaCrlInterval(),
        cfg.ca().publicUrl() == null ? null : cfg.ca().publicUrl() + "crl-delta");
    OcspService ocsp = new OcspService(store, keys, clock);
    RevocationService revocation = new RevocationService(store, crls, ocsp, clock, issuer);
    AgentService agents = new AgentService(store, clock, issuer, keys);
    KeyArchiver archiver = new KeyArchiver(keys.exchangeToken(), keys, cfg.ca().oaepHash(),
        cfg.archival().allowSoftwareUnwrap());
    ArchiveService archives = new ArchiveService(store, keys, clock, agents, archiver);
    RecoveryService recoveries = new RecoveryService(store, archives, clock, issuer);
    AuditGuard guard = new AuditGuard();
    Issuer issuerService = new Issuer(store, keys, clock, org.keyarc.ca.keys.CertFactory.Links.of(cfg.ca().crlUrl(),
        cfg.ca().publicUrl()), cfg.timers().certConfTimeout(), cfg.timers().secretValidity(), guard, templates::version);
    EnrollmentService enrollment = new EnrollmentService(store, issuerService, agents, archiver, crls, issuer,
        (int) cfg.timers().pollInterval().toSeconds(), backlog);
    CertificateQueries certificates = new CertificateQueries(store, issuer);
    RequestPolicy policy = new RequestPolicy(templates, certificates, cfg.defaultTemplate(), store, clock);
    ApprovalService approvals = new ApprovalService(store, issuerService, templates);
    AuditService audit = new AuditService(store, keys.token(), keys.auditKey(), clock, guard,
        new CheckpointExport(cfg.audit().file(), cfg.audit().syslog()), backlog);
    ExchangeService exchange = new ExchangeService(store, keys, cfg.ca(), clock, cfg.archival().allowSoftwareUnwrap());
    ResponderService responder = new ResponderService(store, keys, cfg.ca(), clock);
    ReplayGuard replays = new ReplayGuard(store, clock, cfg.timers().messageTimeSkew());
    AuthFailures authFailures = new AuthFailures(backlog, clock,
        new RateLimiter(cfg.limits().failuresPerPeerPerMinute()),
        new RateLimiter(cfg.limits().failuresPerReferencePerMinute()));
    return new CaServices(cfg, store, keys, templates, clock, identities, secrets, roles, enrollment, policy,
        approvals, certificates, revocation, crls, agents, archives, recoveries, audit, exchange, responder, replays,
        authFailures, ocsp, new TemplateCatalog(store, templates, clock, keys),
        new org.keyarc.ca.kra.CeremonyService(store, archives, agents, keys, clock,
            cfg.ca().oaepHash() == null ? null : cfg.ca().oaepHash().algorithmIdentifier()));
  }
}
