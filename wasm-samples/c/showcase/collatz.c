// wasm-samples/c/showcase/collatz.c — prints the Collatz sequence of n (from the input)
// down to 1, space separated, then the number of steps.
#include "io.h"

void compute(const char *input) {
  int v;
  if (!parse_int(&input, &v) || v < 1) {
    put_str("usage: n >= 1\n");
    return;
  }
  unsigned n = (unsigned)v;
  int steps = 0;
  put_uint(n);
  while (n != 1) {
    n = (n & 1) ? 3 * n + 1 : n / 2;
    steps++;
    output_byte(' ');
    put_uint(n);
  }
  put_str("\nsteps: ");
  put_int(steps);
  output_byte('\n');
}
