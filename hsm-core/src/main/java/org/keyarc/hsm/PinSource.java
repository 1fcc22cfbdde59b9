package org.keyarc.hsm;

import java.io.Console;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Where PINs come from: a file, an environment variable, or a prompt without echo. Never a
 * command-line value. PINs are {@code char[]}; the caller wipes them with {@link HsmToken#wipe}.
 */
public final class PinSource {
  private PinSource() {
  }

  /** The first line of a PIN file, without its line end. */
  public static char[] fromFile(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    try {
      CharBuffer chars = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(bytes));
      int end = 0;
      while (end < chars.limit() && chars.get(end) != '\n' && chars.get(end) != '\r') {
        end++;
      }
      char[] pin = new char[end];
      chars.get(pin, 0, end);
      Arrays.fill(chars.array(), '\0');
      if (pin.length == 0) {
        throw new IOException("PIN file " + file + " is empty");
      }
      return pin;
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /** The PIN in an environment variable, or null when it is not set. */
  public static char[] fromEnv(String variable) {
    String v = System.getenv(variable);
    return v == null || v.isEmpty() ? null : v.toCharArray();
  }

  /** Asks on the terminal without echo; null when there is no terminal. */
  public static char[] prompt(String question) {
    Console console = System.console();
    return console == null ? null : console.readPassword("%s", question);
  }
}
