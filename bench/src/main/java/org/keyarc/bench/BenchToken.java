package org.keyarc.bench;

import java.nio.file.Path;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmModule;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.PinSource;
import org.keyarc.hsm.TokenSelector;

/** The token a benchmark runs on: the module loaded, the token opened with a pool of 8 sessions. */
final class BenchToken {
  final HsmModule module;
  final HsmToken token;

  private BenchToken(HsmModule module, HsmToken token) {
    this.module = module;
    this.token = token;
  }

  /** Loads {@code module} and logs in to {@code token} with the PIN in {@code pinFile}. */
  static BenchToken open(String module, String token, String pinFile) throws Exception {
    HsmModule m = HsmModule.load(Path.of(module));
    char[] pin = PinSource.fromFile(Path.of(pinFile));
    try {
      return new BenchToken(m, m.openToken(TokenSelector.parse(token), pin, 8));
    } catch (HsmException | RuntimeException e) {
      m.close();
      throw e;
    } finally {
      HsmToken.wipe(pin);
    }
  }
}
