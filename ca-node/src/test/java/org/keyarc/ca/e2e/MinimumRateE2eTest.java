package org.keyarc.ca.e2e;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.protocol.ErrorCode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14, finding 7: many slow small messages each used to be held until the message deadline. With a minimum
 * transfer rate ({@code connections.minBytesPerSecond}) a trickling client is closed after the first 5 s window,
 * long before the (here 60 s) deadline, while a client that is slow but above the rate finishes its message and is
 * answered. Plain sockets: the clients know nothing of keyarc.
 */
class MinimumRateE2eTest {
  private static TestCa ca;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> {
      cfg.connections.messageDeadlineSeconds = 60;
      cfg.connections.minBytesPerSecond = 200;
    });
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  @Test
  void aClientBelowTheRateIsClosedAfterOneWindowNotAtTheDeadline() throws Exception {
    try (Socket s = new Socket("127.0.0.1", ca.node.httpPort())) {
      OutputStream out = s.getOutputStream();
      s.setSoTimeout(50);
      long start = System.nanoTime();
      byte[] head = ("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkixcmp\r\nX-Pad: " + "p".repeat(2000))
          .getBytes(StandardCharsets.US_ASCII);
      boolean closed = false;
      for (int i = 0; i < head.length && !closed; i++) {
        try {
          out.write(head[i]); // 20 bytes a second: ten times below the rate, never silent
          out.flush();
          closed = s.getInputStream().read() == -1;
        } catch (SocketTimeoutException e) {
          // still open
        } catch (IOException e) {
          closed = true;
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      assertTrue(closed, "still open after " + seconds + " s");
      assertTrue(seconds >= 4 && seconds < 15, "closed after " + seconds + " s: one 5 s window, not the 60 s deadline");
    }
  }

  @Test
  void aSlowClientAboveTheRateFinishesItsMessageAndIsAnswered() throws Exception {
    try (Socket s = BadInputE2eTest.socket(ca)) {
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      byte[] body = new byte[3000];
      out.writeInt(12 + body.length);
      out.write(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
      long start = System.nanoTime();
      for (int at = 0; at < body.length; at += 250) {
        out.write(body, at, 250); // 500 bytes a second, over 6 s: more than one window, above the rate
        out.flush();
        Thread.sleep(500);
      }
      Object[] err;
      try {
        err = BadInputE2eTest.readError(new DataInputStream(s.getInputStream()));
      } catch (SocketException e) {
        throw new AssertionError("closed after " + (System.nanoTime() - start) / 1e9 + " s although above the rate",
            e);
      }
      assertEquals(7L, err[0]);
      assertEquals(ErrorCode.BAD_MESSAGE, err[1], "the whole frame was read and answered: " + err[2]);
    }
  }
}
