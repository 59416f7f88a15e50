// wasm-samples/c/collatz.c — Collatz: steps until 1, and the peak value reached.
#define EXPORT(n) // exported by build.sh (-Wl,--export=n); export_name would add a table

EXPORT(collatz_steps) int collatz_steps(unsigned n) {
  int steps = 0;
  if (n == 0) return -1;
  while (n != 1) {
    if (n & 1) n = 3 * n + 1;
    else n >>= 1;
    steps++;
  }
  return steps;
}

EXPORT(collatz_peak) unsigned collatz_peak(unsigned n) {
  unsigned peak = n;
  if (n == 0) return 0;
  while (n != 1) {
    n = (n & 1) ? 3 * n + 1 : n >> 1;
    if (n > peak) peak = n;
  }
  return peak;
}
