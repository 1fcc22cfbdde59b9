/**
 * The {@code keyarc} command line: one picocli command with the subcommands of every module. Output is
 * for people; every failure is one line on stderr and a documented exit code (see {@link
 * org.keyarc.cli.Keyarc}).
 */
package org.keyarc.cli;
