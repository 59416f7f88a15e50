// wasm-samples/c/showcase/sudoku.c — sudoku solver: constraint propagation (naked and hidden
// singles over 9-bit candidate masks) plus depth-first search on the cell with the fewest
// candidates. Input: 81 cells in row order, '1'-'9' given, '0' or '.' blank (other bytes are
// skipped). Prints the solved grid as 9 lines of 9 digits, or "no solution".
#include "io.h"

#define ALL 0x1FF

typedef struct {
  unsigned short cand[81]; // candidate digits of each cell, bit d-1 for digit d
  unsigned char value[81]; // 0 while unsolved
} Grid;

static unsigned char units[27][9]; // rows, columns, boxes
static unsigned char peers[81][20];
static int search_nodes;

static int popcount9(unsigned m) {
  int c = 0;
  while (m) {
    m &= m - 1;
    c++;
  }
  return c;
}

static int lowest_digit(unsigned m) {
  int d = 1;
  while (!(m & 1)) {
    m >>= 1;
    d++;
  }
  return d;
}

static void build_tables(void) {
  for (int i = 0; i < 9; i++)
    for (int k = 0; k < 9; k++) {
      units[i][k] = (unsigned char)(i * 9 + k);
      units[9 + i][k] = (unsigned char)(k * 9 + i);
      units[18 + i][k] = (unsigned char)(((i / 3) * 3 + k / 3) * 9 + (i % 3) * 3 + k % 3);
    }
  for (int c = 0; c < 81; c++) {
    int r = c / 9, col = c % 9, n = 0;
    int br = r / 3 * 3, bc = col / 3 * 3;
    for (int k = 0; k < 81; k++) {
      if (k == c) continue;
      int kr = k / 9, kc = k % 9;
      if (kr == r || kc == col || (kr / 3 * 3 == br && kc / 3 * 3 == bc)) peers[c][n++] = (unsigned char)k;
    }
  }
}

static void copy_grid(Grid *dst, const Grid *src) {
  for (int i = 0; i < 81; i++) {
    dst->cand[i] = src->cand[i];
    dst->value[i] = src->value[i];
  }
}

/** Places digit d in cell c and eliminates it from the peers, placing forced singles. 0 on contradiction. */
static int assign(Grid *g, int c, int d) {
  unsigned char queue_cell[81], queue_digit[81];
  int head = 0, tail = 0;
  queue_cell[tail] = (unsigned char)c;
  queue_digit[tail++] = (unsigned char)d;
  while (head < tail) {
    int cell = queue_cell[head], digit = queue_digit[head++];
    unsigned bit = 1u << (digit - 1);
    if (g->value[cell] == digit) continue;
    if (g->value[cell] != 0 || !(g->cand[cell] & bit)) return 0;
    g->value[cell] = (unsigned char)digit;
    g->cand[cell] = (unsigned short)bit;
    for (int k = 0; k < 20; k++) {
      int q = peers[cell][k];
      if (!(g->cand[q] & bit)) continue;
      if (g->value[q] != 0) return 0;
      unsigned left = g->cand[q] & ~bit;
      g->cand[q] = (unsigned short)left;
      if (left == 0) return 0;
      if ((left & (left - 1)) == 0) {
        if (tail == 81) return 0;
        queue_cell[tail] = (unsigned char)q;
        queue_digit[tail++] = (unsigned char)lowest_digit(left);
      }
    }
  }
  return 1;
}

/** Hidden singles until nothing changes. 0 on contradiction. */
static int propagate(Grid *g) {
  int changed = 1;
  while (changed) {
    changed = 0;
    for (int u = 0; u < 27; u++) {
      for (int d = 1; d <= 9; d++) {
        unsigned bit = 1u << (d - 1);
        int places = 0, where = 0;
        for (int k = 0; k < 9; k++) {
          int c = units[u][k];
          if (g->cand[c] & bit) {
            places++;
            where = c;
          }
        }
        if (places == 0) return 0;
        if (places == 1 && g->value[where] == 0) {
          if (!assign(g, where, d)) return 0;
          changed = 1;
        }
      }
    }
  }
  return 1;
}

static int solve(Grid *g) {
  search_nodes++;
  if (!propagate(g)) return 0;
  int best = -1, best_count = 10;
  for (int c = 0; c < 81; c++) {
    if (g->value[c]) continue;
    int n = popcount9(g->cand[c]);
    if (n < best_count) {
      best_count = n;
      best = c;
    }
  }
  if (best < 0) return 1;
  unsigned m = g->cand[best];
  while (m) {
    int d = lowest_digit(m);
    m &= m - 1;
    Grid next;
    copy_grid(&next, g);
    if (assign(&next, best, d) && solve(&next)) {
      copy_grid(g, &next);
      return 1;
    }
  }
  return 0;
}

static Grid grid;

void compute(const char *input) {
  build_tables();
  for (int i = 0; i < 81; i++) {
    grid.cand[i] = ALL;
    grid.value[i] = 0;
  }
  int cells = 0, ok = 1;
  for (const char *s = input; *s && cells < 81; s++) {
    char ch = *s;
    if (ch == '.' || ch == '0') {
      cells++;
    } else if (ch >= '1' && ch <= '9') {
      if (!assign(&grid, cells, ch - '0')) ok = 0;
      cells++;
    }
  }
  if (cells != 81) {
    put_str("usage: 81 cells, 1-9 given, 0 or . blank\n");
    return;
  }
  search_nodes = 0;
  if (!ok || !solve(&grid)) {
    put_str("no solution\n");
    return;
  }
  for (int r = 0; r < 9; r++) {
    for (int c = 0; c < 9; c++) output_byte('0' + grid.value[r * 9 + c]);
    output_byte('\n');
  }
}
