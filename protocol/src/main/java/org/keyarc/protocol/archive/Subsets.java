package org.keyarc.protocol.archive;

import java.util.ArrayList;
import java.util.List;

/** The M-subsets of {0..N-1}, each in increasing order, in lexicographic order. */
public final class Subsets {
  private Subsets() {}

  public static List<int[]> of(int n, int m) {
    if (m < 1 || m > n) {
      throw new IllegalArgumentException("need 1 <= M <= N, not M=" + m + ", N=" + n);
    }
    List<int[]> out = new ArrayList<>();
    int[] c = new int[m];
    for (int i = 0; i < m; i++) {
      c[i] = i;
    }
    while (true) {
      out.add(c.clone());
      int i = m - 1;
      while (i >= 0 && c[i] == n - m + i) {
        i--;
      }
      if (i < 0) {
        return out;
      }
      c[i]++;
      for (int j = i + 1; j < m; j++) {
        c[j] = c[j - 1] + 1;
      }
    }
  }
}
