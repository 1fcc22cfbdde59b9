package org.keyarc.hsm;

/**
 * What a slot shows about its token, read without logging in.
 *
 * @param slotId the module's slot id (changes between rescans; never use it to select a token)
 * @param label the token label (trimmed)
 * @param serial the token serial number (trimmed)
 * @param present whether the token answers (a SoftHSM2 token whose folder went away is not present)
 * @param pinCountLow the token says an incorrect PIN was entered since the last successful login
 * @param pinFinalTry the next incorrect PIN locks the token
 * @param pinLocked the user PIN is locked
 */
public record TokenDescription(
    long slotId,
    String label,
    String serial,
    String manufacturer,
    String model,
    boolean present,
    boolean loginRequired,
    boolean pinCountLow,
    boolean pinFinalTry,
    boolean pinLocked) {

  static TokenDescription absent(long slotId) {
    return new TokenDescription(slotId, "", "", "", "", false, false, false, false, false);
  }
}
