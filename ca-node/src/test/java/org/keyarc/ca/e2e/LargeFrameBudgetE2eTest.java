package org.keyarc.ca.e2e;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.protocol.ErrorCode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fuzz campaign's greedy clients: unfinished large frames and bodies share one budget per listener. The
 * node has a message deadline of 30 s here, so a greedy connection is still held while the test (on a slow,
 * shared machine) opens the next ones; with the 2 s deadline of {@link ConnectionHygieneE2eTest} the greedy one
 * could be cut off first and its budget handed to the connection that should have been refused.
 */
class LargeFrameBudgetE2eTest {
  private static TestCa ca;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> {
      cfg.connections.messageDeadlineSeconds = 30;
      cfg.connections.maxBufferedBytes = 1_500_000; // one unfinished frame of 1,000,000 bytes fits, two do not
    });
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  /** Whether a large frame started on a new TLS connection is held (not refused and closed) for 500 ms. */
  private static Boolean largeFrameHeld(int id) throws Exception {
    try (Socket s = BadInputE2eTest.socket(ca)) {
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      out.writeInt(1_000_000);
      out.write(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) id});
      out.write(new byte[10_000]);
      out.flush();
      return ConnectionHygieneE2eTest.closedWithin(s, 500) ? null : true;
    }
  }

  /**
   * Greedy clients together: unfinished large frames share one budget per listener, so many peers each holding
   * most of a frame at the limit cannot fill the heap. A large frame over the budget is refused at once (66) and
   * its connection closed, while small requests still go through; when the greedy connection ends, the budget is
   * free again.
   */
  @Test
  void unfinishedLargeFramesShareOneBudgetAndSmallRequestsStillPass() throws Exception {
    try (Socket greedy = BadInputE2eTest.socket(ca)) {
      DataOutputStream g = new DataOutputStream(greedy.getOutputStream());
      g.writeInt(1_000_000);
      g.write(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
      g.write(new byte[10_000]);
      g.flush(); // read by the node long before the second connection's TLS handshake is done
      try (Socket second = BadInputE2eTest.socket(ca)) {
        DataOutputStream out = new DataOutputStream(second.getOutputStream());
        out.writeInt(1_000_000);
        out.write(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}); // only the header: nothing left unread
        out.flush();
        Object[] err = BadInputE2eTest.readError(new DataInputStream(second.getInputStream()));
        assertEquals(ErrorCode.NODE_BUSY, err[1], (String) err[2]);
        assertTrue(((String) err[2]).contains("a frame of 1000000 bytes must wait"), (String) err[2]);
        assertEquals(-1, second.getInputStream().read(), "the node closed the refused connection");
      }
      try (Socket small = BadInputE2eTest.socket(ca)) {
        BadInputE2eTest.frame(new DataOutputStream(small.getOutputStream()), 3, new byte[200]);
        Object[] err = BadInputE2eTest.readError(new DataInputStream(small.getInputStream()));
        assertEquals(ErrorCode.BAD_MESSAGE, err[1], "a small request is read and answered: " + err[2]);
      }
    }
    // the greedy connection ended: its budget is given back
    assertTrue(ConnectionHygieneE2eTest.eventually(() -> largeFrameHeld(4)) != null, "a large frame is accepted again");
  }

  /** The same budget on HTTP: a large body over it is answered 503 with Retry-After before any of it is held. */
  @Test
  void unfinishedLargeHttpBodiesShareTheBudgetToo() throws Exception {
    String head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkixcmp\r\nContent-Length: 1000000\r\n\r\n";
    try (Socket greedy = new Socket("127.0.0.1", ca.node.httpPort())) {
      OutputStream g = greedy.getOutputStream();
      // with Expect: 100-continue the node says when it has taken the request, and so its budget
      g.write(head.replace("\r\n\r\n", "\r\nExpect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      g.flush();
      greedy.setSoTimeout(5000);
      byte[] cont = new byte[25];
      new DataInputStream(greedy.getInputStream()).readFully(cont);
      assertTrue(new String(cont, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 100 Continue"),
          new String(cont, StandardCharsets.US_ASCII));
      g.write(new byte[10_000]);
      g.flush();
      String second = ConnectionHygieneE2eTest.http(ca, head); // only the head: the node answers it without reading a body
      assertTrue(second.startsWith("HTTP/1.1 503") && second.toLowerCase().contains("retry-after: 5"), second);
      assertTrue(ConnectionHygieneE2eTest.http(ca, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n").startsWith("HTTP/1.1 200"),
          "small requests still pass");
    }
    assertTrue(ConnectionHygieneE2eTest.eventually(() -> {
      try (Socket again = new Socket("127.0.0.1", ca.node.httpPort())) {
        again.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
        again.getOutputStream().write(new byte[10_000]);
        again.getOutputStream().flush();
        return ConnectionHygieneE2eTest.closedWithin(again, 500) ? null : true;
      }
    }) != null, "the greedy connection gave its budget back");
  }
}
