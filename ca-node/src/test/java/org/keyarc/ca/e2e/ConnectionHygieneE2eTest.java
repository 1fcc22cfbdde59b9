package org.keyarc.ca.e2e;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fuzz campaign's slow and greedy clients and HTTP decode failures, with plain sockets: a client trickling a
 * request is cut off at the message deadline, a peer over its connection cap is closed at once, an overlong
 * request line or header gets 414/431, and the content type is matched exactly and case-insensitively.
 */
class ConnectionHygieneE2eTest {
  private static TestCa ca;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> {
      cfg.connections.messageDeadlineSeconds = 2;
      cfg.connections.maxPerPeer = 3;
    });
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  /** True when the node closed the connection within {@code millis}. */
  static boolean closedWithin(Socket s, int millis) throws Exception {
    s.setSoTimeout(millis);
    try {
      return s.getInputStream().read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (java.net.SocketException e) {
      return true; // reset
    }
  }

  @Test
  void aTricklingClientIsCutOffAtTheMessageDeadline() throws Exception {
    try (Socket s = new Socket("127.0.0.1", ca.node.httpPort())) {
      OutputStream out = s.getOutputStream();
      long start = System.nanoTime();
      byte[] request = "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkixcmp\r\nContent-Length: 100\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII);
      boolean closed = false;
      for (int i = 0; i < request.length && !closed; i++) {
        try {
          out.write(request[i]);
          out.flush();
        } catch (java.io.IOException e) {
          closed = true;
          break;
        }
        closed = closedWithin(s, 200); // a byte every 200 ms: never silent, so the idle timeout never fires
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      assertTrue(closed, "still open after " + seconds + " s");
      assertTrue(seconds < 6, "cut off after " + seconds + " s; the deadline is 2 s");
    }
  }

  /**
   * A frame and the start of the next one in a single write: the node answers the first, and the second's deadline
   * runs from then, though no further byte comes (it used to wait for the next byte, so only the idle timeout
   * of 60 s applied).
   */
  @Test
  void theStartOfANextFrameReadWithThePreviousOneHasItsDeadlineToo() throws Exception {
    try (Socket s = BadInputE2eTest.socket(ca)) {
      java.io.ByteArrayOutputStream both = new java.io.ByteArrayOutputStream();
      BadInputE2eTest.frame(new DataOutputStream(both), 21, new byte[200]);
      DataOutputStream next = new DataOutputStream(both);
      next.writeInt(12 + 5000);
      next.write(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 22});
      next.write(new byte[1000]); // a fifth of the second frame, then silence
      s.getOutputStream().write(both.toByteArray());
      s.getOutputStream().flush();
      long start = System.nanoTime();
      Object[] err = BadInputE2eTest.readError(new DataInputStream(s.getInputStream()));
      assertEquals(21L, err[0]);
      assertTrue(closedWithin(s, 8000), "the unfinished second frame is cut off at its deadline");
      double seconds = (System.nanoTime() - start) / 1e9;
      assertTrue(seconds < 6, "cut off after " + seconds + " s; the deadline is 2 s");
    }
  }

  @Test
  void aPeerOverItsConnectionCapIsClosedAtOnce() throws Exception {
    List<Socket> held = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        Socket s = new Socket("127.0.0.1", ca.node.binaryPort());
        held.add(s);
        assertEquals(false, closedWithin(s, 300), "connection " + (i + 1) + " of 3 stays");
      }
      try (Socket fourth = new Socket("127.0.0.1", ca.node.binaryPort())) {
        assertTrue(closedWithin(fourth, 2000), "the fourth connection from this address is closed");
      }
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
    assertTrue(eventually(() -> {
      try (Socket again = new Socket("127.0.0.1", ca.node.binaryPort())) {
        return closedWithin(again, 300) ? null : true;
      }
    }) != null, "room again once they closed");
  }

  /**
   * Tries {@code attempt} until it answers non-null or 5 s pass, and returns its last answer: the node frees a
   * closed connection's share on its own event loop, a moment after the client closed it.
   */
  static <T> T eventually(java.util.concurrent.Callable<T> attempt) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    T answer = attempt.call();
    while (answer == null && System.nanoTime() < end) {
      answer = attempt.call();
    }
    return answer;
  }

  private static String http(String head) throws Exception {
    return http(ca, head);
  }

  static String http(TestCa ca, String head) throws Exception {
    try (Socket s = new Socket("127.0.0.1", ca.node.httpPort())) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[256];
      int n = in.read(buf);
      return n <= 0 ? "" : new String(buf, 0, n, StandardCharsets.US_ASCII);
    }
  }

  @Test
  void overlongLinesAndHeadersAreRefusedAndTheMediaTypeIsExact() throws Exception {
    assertTrue(http("GET /" + "a".repeat(100_000) + " HTTP/1.1\r\nHost: x\r\n\r\n").startsWith("HTTP/1.1 414"));
    assertTrue(http("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(100_000) + "\r\n\r\n")
        .startsWith("HTTP/1.1 431"));
    assertTrue(http("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkixcmpXYZ\r\nContent-Length: 2\r\n\r\n"
        + "0\0").startsWith("HTTP/1.1 415"));
    String upper = http("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: APPLICATION/PKIXCMP\r\nContent-Length: 2\r\n\r\n"
        + "0\0");
    assertTrue(upper.startsWith("HTTP/1.1 200") && upper.toLowerCase().contains("application/pkixcmp"),
        "the media type is case-insensitive: " + upper);
    assertThrows(AssertionError.class, () -> assertTrue(http("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .startsWith("HTTP/1.1 4")), "an ordinary request is fine");
  }
}
