// wasm-samples/c/showcase/hungarian.c — minimum-cost assignment by the Hungarian algorithm
// (potentials and augmenting paths, O(n^3)) on an n x n cost matrix given as n*n integers
// in row order (n = 1..8, from the count; e.g. "4 1 3 2 0 5 3 2 2"). Prints the minimum
// cost and the column assigned to each row.
#include "io.h"

#define MAXN 8
#define INF 0x3fffffff
// clang -O2 unrolls simple array loops and merges the adjacent 32-bit stores into i64.store
// (and copies into i64.load/i64.store); keep those loops rolled so the module stays i32-only.
#define ROLLED _Pragma("clang loop unroll(disable) vectorize(disable)")

static int cost[MAXN + 1][MAXN + 1]; // 1-based
static int u[MAXN + 1], v[MAXN + 1], p[MAXN + 1], way[MAXN + 1], minv[MAXN + 1];
static unsigned char used[MAXN + 1];

static int side_for(int count) {
  for (int n = 1; n <= MAXN; n++)
    if (n * n == count) return n;
  return 0;
}

void compute(const char *input) {
  int values[MAXN * MAXN];
  int count = 0, x;
  while (count < MAXN * MAXN && parse_int(&input, &x)) values[count++] = x;
  int n = side_for(count);
  if (n == 0) {
    put_str("usage: n*n integers, n = 1..8\n");
    return;
  }
  for (int i = 1; i <= n; i++)
    ROLLED for (int j = 1; j <= n; j++) cost[i][j] = values[(i - 1) * n + (j - 1)];
  ROLLED for (int j = 0; j <= n; j++) {
    u[j] = 0;
    v[j] = 0;
    p[j] = 0;
    way[j] = 0;
  }
  for (int i = 1; i <= n; i++) {
    p[0] = i;
    int j0 = 0;
    ROLLED for (int j = 0; j <= n; j++) {
      minv[j] = INF;
      used[j] = 0;
    }
    do {
      used[j0] = 1;
      int i0 = p[j0], delta = INF, j1 = 0;
      for (int j = 1; j <= n; j++) {
        if (used[j]) continue;
        int cur = cost[i0][j] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (int j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      int j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  int row_to_col[MAXN + 1];
  for (int j = 1; j <= n; j++) row_to_col[p[j]] = j;
  int total = 0;
  for (int i = 1; i <= n; i++) total += cost[i][row_to_col[i]];
  put_str("cost ");
  put_int(total);
  put_str("\nassignment");
  for (int i = 1; i <= n; i++) {
    put_str(" r");
    put_int(i - 1);
    put_str("->c");
    put_int(row_to_col[i] - 1);
  }
  output_byte('\n');
}
