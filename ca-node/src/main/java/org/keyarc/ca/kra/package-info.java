/**
 * Key archival and recovery: the recovery agents and the M-of-N policy ({@link org.keyarc.ca.kra.AgentService}),
 * sealing a user's key to the agents inside the HSM ({@link org.keyarc.ca.kra.KeyArchiver}), archive lookup for
 * managers ({@link org.keyarc.ca.kra.ArchiveService}) and online recoveries ({@link org.keyarc.ca.kra.RecoveryService}).
 */
package org.keyarc.ca.kra;
