package org.keyarc.bench;

import java.nio.file.Path;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmModule;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.PinSource;
import org.keyarc.hsm.TokenSelector;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * What the benchmarks on a token share: where the token is (JMH parameters {@code module}, {@code token},
 * {@code pinFile}), and the module loaded with the token opened with a pool of 8 sessions.
 */
@State(Scope.Benchmark)
public abstract class TokenBenchmark {
  @Param("/usr/lib/softhsm/libsofthsm2.so")
  public String module;

  @Param("keyarc-ca")
  public String token;

  @Param("")
  public String pinFile;

  HsmModule hsm;
  HsmToken tok;

  /** Loads {@link #module} and logs in to {@link #token} with the PIN in {@link #pinFile}. */
  void openToken() throws Exception {
    HsmModule m = HsmModule.load(Path.of(module));
    char[] pin = PinSource.fromFile(Path.of(pinFile));
    try {
      tok = m.openToken(TokenSelector.parse(token), pin, 8);
      hsm = m;
    } catch (HsmException | RuntimeException e) {
      m.close();
      throw e;
    } finally {
      HsmToken.wipe(pin);
    }
  }
}
