package org.keyarc.ca.audit;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.keyarc.ca.store.AuditStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every signed checkpoint sent out of the database as it is made: appended to a file (one JSON object a line,
 * 0600, which an operator ships off the host) and, when configured, to syslog (RFC 5424 over UDP, facility
 * "log audit"). {@code keyarc audit verify --anchor FILE} checks a store against such a file.
 */
public final class CheckpointExport {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointExport.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final InetSocketAddress syslog;

  /** Either may be null (not exported there). */
  public CheckpointExport(Path file, InetSocketAddress syslog) {
    this.file = file;
    this.syslog = syslog;
  }

  /**
   * Where the file's whole lines end: a line a crash left half written (no newline) is cut off, so that the next
   * checkpoint starts a line of its own.
   */
  private static long wholeLines(FileChannel ch) throws IOException {
    long size = ch.size();
    long from = Math.max(0, size - 8192); // a checkpoint line is well under 8 KiB
    java.nio.ByteBuffer tail = java.nio.ByteBuffer.allocate((int) (size - from));
    while (tail.hasRemaining() && ch.read(tail, from + tail.position()) >= 0) {
      // reading the tail
    }
    for (int i = tail.position() - 1; i >= 0; i--) {
      if (tail.get(i) == '\n') {
        long end = from + i + 1;
        if (end < size) {
          ch.truncate(end);
        }
        return end;
      }
    }
    if (size > 0 && from == 0) {
      ch.truncate(0);
    }
    return from == 0 ? 0 : size;
  }

  /** One exported checkpoint as a JSON line: its number, version, time, key, predecessor, heads and signature. */
  public static String line(AuditStore.Checkpoint cp) {
    com.fasterxml.jackson.databind.node.ObjectNode o = JSON.createObjectNode().put("num", cp.num())
        .put("version", cp.version()).put("at", cp.at().toString()).put("keyLabel", cp.keyLabel())
        .put("prevNum", cp.prevNum());
    com.fasterxml.jackson.databind.node.ArrayNode heads = o.putArray("heads");
    cp.heads().forEach(h -> heads.addObject().put("chain", h.chain()).put("seq", h.seq()).put("hash", h.hash()));
    return o.put("signature", Base64.getEncoder().encodeToString(cp.signature())).toString();
  }

  /**
   * The checkpoints of an export file (lines that are not checkpoints are refused with their number). Lines
   * exported before checkpoints were numbered ({@code seq}, {@code hash}, {@code prevSeq}: the {@code main} chain's
   * head) are numbered in file order, their predecessor found by its record (-1 when it is not in the file).
   */
  public static List<AuditStore.Checkpoint> read(List<String> lines) {
    List<AuditStore.Checkpoint> out = new ArrayList<>();
    java.util.Map<Long, Long> legacyNum = new java.util.HashMap<>();
    int n = 0;
    for (String l : lines) {
      n++;
      if (l.isBlank()) {
        continue;
      }
      try {
        JsonNode j = JSON.readTree(l);
        java.time.Instant at = java.time.Instant.parse(j.get("at").asText());
        String label = j.get("keyLabel").asText();
        byte[] sig = Base64.getDecoder().decode(j.get("signature").asText());
        if (j.has("num")) {
          List<AuditStore.Head> heads = new ArrayList<>();
          for (JsonNode h : j.get("heads")) {
            heads.add(new AuditStore.Head(h.get("chain").asText(), h.get("seq").asLong(), h.get("hash").asText()));
          }
          out.add(new AuditStore.Checkpoint(j.get("num").asLong(), j.get("version").asInt(), at, label,
              j.get("prevNum").asLong(), heads, sig));
        } else {
          long seq = j.get("seq").asLong();
          long prevSeq = j.path("prevSeq").asLong(0);
          long num = legacyNum.size() + 1L;
          legacyNum.put(seq, num);
          int version = j.path("version").asInt(1);
          long prevNum = version < 2 || prevSeq == 0 ? 0 : legacyNum.getOrDefault(prevSeq, -1L);
          out.add(new AuditStore.Checkpoint(num, version, at, label, prevNum,
              List.of(new AuditStore.Head(seq, j.get("hash").asText())), sig));
        }
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException("line " + n + " is not an exported checkpoint");
      }
    }
    return out;
  }

  /**
   * The number of the last checkpoint the file holds whole: 0 when it holds none (or there is no file), -1 when it is
   * not read (no file configured, or it cannot be read).
   */
  public synchronized long lastExported() {
    if (file == null) {
      return -1;
    }
    if (!Files.exists(file)) {
      return 0;
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      long from = Math.max(0, size - 8192);
      java.nio.ByteBuffer tail = java.nio.ByteBuffer.allocate((int) (size - from));
      while (tail.hasRemaining() && ch.read(tail, from + tail.position()) >= 0) {
        // reading the tail
      }
      String text = new String(tail.array(), 0, tail.position(), StandardCharsets.UTF_8);
      int end = text.lastIndexOf('\n');
      if (end < 0) {
        return 0;
      }
      int start = text.lastIndexOf('\n', end - 1) + 1;
      List<AuditStore.Checkpoint> last = read(List.of(text.substring(start, end)));
      return last.isEmpty() ? 0 : last.get(0).num();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * Exports {@code cp}; a failure is logged (the checkpoint is in the store and the HSM anchor all the same, and the
   * next exported checkpoint chains to it through its {@code prevSeq}); a line that could not be written whole is
   * cut off again.
   */
  public synchronized void export(AuditStore.Checkpoint cp) {
    String line = line(cp);
    if (file != null) {
      try {
        if (!Files.exists(file)) {
          Files.createDirectories(file.toAbsolutePath().getParent());
          Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
          long end = wholeLines(ch);
          try {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
              ch.write(b, end + b.position());
            }
            ch.force(true);
          } catch (IOException e) {
            ch.truncate(end); // no half line (a full disk): the file stays one whole checkpoint a line
            throw e;
          }
        }
      } catch (IOException | UnsupportedOperationException e) {
        LOG.warn("audit checkpoint {} not exported to {}: {}", cp.num(), file, e.getMessage());
      }
    }
    if (syslog != null) {
      String msg = "<110>1 " + DateTimeFormatter.ISO_INSTANT.format(cp.at()) + " - keyarc - audit-checkpoint - "
          + line;
      byte[] b = msg.getBytes(StandardCharsets.UTF_8);
      try (DatagramSocket s = new DatagramSocket()) {
        s.send(new DatagramPacket(b, b.length, syslog));
      } catch (IOException e) {
        LOG.warn("audit checkpoint {} not sent to syslog {}: {}", cp.num(), syslog, e.getMessage());
      }
    }
  }
}
