package org.keyarc.hsm;

/**
 * The security-relevant, non-secret attributes of a key object as the token reports them.
 * A null field means the token does not report that attribute for this object class. {@code local} is
 * CKA_LOCAL: the key was generated on the token (not imported).
 */
public record KeyAttributes(
    Boolean token,
    Boolean privateObject,
    Boolean sensitive,
    Boolean extractable,
    Boolean alwaysSensitive,
    Boolean neverExtractable,
    Boolean sign,
    Boolean decrypt,
    Boolean unwrap,
    Boolean wrap,
    Boolean local) {
}
