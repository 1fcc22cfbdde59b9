package org.keyarc.ca.audit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.store.AuditStore;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The export file stays one whole checkpoint a line: a half line a crash or a full disk left is cut off. */
class CheckpointExportTest {
  private static AuditStore.Checkpoint cp(long seq) {
    return new AuditStore.Checkpoint(seq, 3, Instant.parse("2026-12-01T12:00:00Z"), "audit-signing", seq - 1,
        List.of(new AuditStore.Head("node-a", 10 * seq, "ab".repeat(32))), new byte[] {1, 2, 3});
  }

  @Test
  void aHalfLineLeftBehindIsCutOffBeforeTheNextCheckpoint() throws Exception {
    Files.createDirectories(Path.of("target"));
    Path file = Files.createTempDirectory(Path.of("target"), "export-").resolve("checkpoints.jsonl");
    CheckpointExport export = new CheckpointExport(file, null);
    export.export(cp(1));
    String whole = CheckpointExport.line(cp(2));
    Files.writeString(file, whole.substring(0, whole.length() / 2), java.nio.file.StandardOpenOption.APPEND);
    export.export(cp(3));
    List<AuditStore.Checkpoint> read = CheckpointExport.read(Files.readAllLines(file));
    assertEquals(List.of(1L, 3L), read.stream().map(AuditStore.Checkpoint::num).toList());
  }

  @Test
  void aFileThatIsOnlyAHalfLineStartsAgain() throws Exception {
    Files.createDirectories(Path.of("target"));
    Path file = Files.createTempDirectory(Path.of("target"), "export-").resolve("checkpoints.jsonl");
    Files.writeString(file, "{\"seq\":1,\"ha");
    new CheckpointExport(file, null).export(cp(2));
    assertEquals(List.of(2L), CheckpointExport.read(Files.readAllLines(file)).stream()
        .map(AuditStore.Checkpoint::num).toList());
  }

  @Test
  void theLastWholeCheckpointIsKnownSoThatAMissedOneCanBeWrittenLater() throws Exception {
    Files.createDirectories(Path.of("target"));
    Path file = Files.createTempDirectory(Path.of("target"), "export-").resolve("checkpoints.jsonl");
    CheckpointExport export = new CheckpointExport(file, null);
    assertEquals(0, export.lastExported(), "no file yet");
    export.export(cp(1));
    export.export(cp(2));
    assertEquals(2, export.lastExported());
    String whole = CheckpointExport.line(cp(3));
    Files.writeString(file, whole.substring(0, whole.length() / 2), java.nio.file.StandardOpenOption.APPEND);
    assertEquals(2, export.lastExported(), "a half line is not a checkpoint");
    assertEquals(-1, new CheckpointExport(null, null).lastExported(), "no file configured");
  }
}
