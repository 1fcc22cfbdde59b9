/**
 * JMH benchmarks of the HSM hot paths (CA signing through the IAIK, SunPKCS11 and software paths, wrap/unwrap,
 * the archival chain, CMP and certificates) and {@link org.keyarc.bench.HsmWorkload}, the HSM work of one
 * enrollment that the archival benchmark and the load generator's ceiling ({@code org.keyarc.bench.load}) run.
 */
package org.keyarc.bench;
