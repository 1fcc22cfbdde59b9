package org.keyarc.protocol;

import java.security.Provider;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The one Bouncy Castle provider instance keyarc uses for software verification. Building a
 * BouncyCastleProvider takes tens of milliseconds: make it once, never per message.
 */
public final class Bc {
  public static final Provider PROVIDER = new BouncyCastleProvider();

  private Bc() {}
}
