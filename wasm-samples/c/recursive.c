// wasm-samples/c/recursive.c — genuinely recursive calls: naive Fibonacci, Ackermann
// (small m, n), and the Tower of Hanoi move count.
#define EXPORT(n) // exported by build.sh (-Wl,--export=n); export_name would add a table

EXPORT(fib) int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

EXPORT(ackermann) int ackermann(int m, int n) {
  if (m == 0) return n + 1;
  if (n == 0) return ackermann(m - 1, 1);
  return ackermann(m - 1, ackermann(m, n - 1));
}

static int moves;
static void hanoi_rec(int n, int from, int to, int via) {
  if (n == 0) return;
  hanoi_rec(n - 1, from, via, to);
  moves++;
  hanoi_rec(n - 1, via, to, from);
}

EXPORT(hanoi) int hanoi(int n) {
  moves = 0;
  hanoi_rec(n, 1, 3, 2);
  return moves;
}
