// wasm-samples/c/showcase/fibonacci.c — prints the first n Fibonacci numbers (n <= 47, so
// every one fits in 32 unsigned bits), space separated.
#include "io.h"

void compute(const char *input) {
  int n;
  if (!parse_int(&input, &n) || n < 0 || n > 47) {
    put_str("usage: 0 <= n <= 47\n");
    return;
  }
  unsigned a = 0, b = 1;
  for (int i = 0; i < n; i++) {
    if (i > 0) output_byte(' ');
    put_uint(a);
    unsigned t = a + b;
    a = b;
    b = t;
  }
  output_byte('\n');
}
