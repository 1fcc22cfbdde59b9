package org.keyarc.ca.e2e;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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
  private static boolean closedWithin(Socket s, int millis) throws Exception {
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
    Thread.sleep(300);
    try (Socket again = new Socket("127.0.0.1", ca.node.binaryPort())) {
      assertEquals(false, closedWithin(again, 300), "room again once they closed");
    }
  }

  private static String http(String head) throws Exception {
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
