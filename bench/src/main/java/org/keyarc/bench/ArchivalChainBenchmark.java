package org.keyarc.bench;

import java.util.concurrent.TimeUnit;
import org.keyarc.ca.kra.KeyArchiver;
import org.keyarc.hsm.KeySpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The whole in-process archival chain as the node runs it ({@link KeyArchiver#seal}): unwrap the
 * transport key and the private key into the token, pair check, fresh K, wrap, and the M-of-N agent
 * envelopes. The exchange key is a session key; the agents are software RSA keys (only their public
 * keys are used at archival).
 *
 * <p>{@code java -jar bench/target/benchmarks.jar ArchivalChainBenchmark -t 2 -p pinFile=...}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ArchivalChainBenchmark extends TokenBenchmark {
  /** The archived key: RSA_2048 or EC_P256. */
  @Param({"RSA_2048", "EC_P256"})
  public String key;

  /** N-M: 1-1, 3-2 or 5-3. */
  @Param({"1-1", "3-2", "5-3"})
  public String policy;

  HsmWorkload workload;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    openToken();
    workload = new HsmWorkload(tok, KeySpec.EC_P256, KeySpec.valueOf(key), Integer.parseInt(policy.split("-")[0]),
        Integer.parseInt(policy.split("-")[1]));
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    workload.close();
    hsm.close();
  }

  @Benchmark
  public KeyArchiver.Sealed seal() throws Exception {
    return workload.seal();
  }
}
