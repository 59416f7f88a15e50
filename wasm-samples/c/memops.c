// wasm-samples/c/memops.c — the rest of the i32 instruction set clang reaches from C:
// 16-bit and signed 8-bit loads/stores (load16_s/u, store16, load8_s), clz/ctz/rotr,
// memory.size/memory.grow, and traps (unreachable, out-of-bounds, divide by zero).
#define EXPORT(n) // exported by build.sh (-Wl,--export=n); export_name would add a table

static short shorts[64];
static signed char bytes[64];

/** Stores v, v*3, v*5, ... truncated to 16 bits, sums them back sign-extended. */
EXPORT(sum_shorts) int sum_shorts(int v, int n) {
  if (n < 0 || n > 64) return 0;
  for (int i = 0; i < n; i++) shorts[i] = (short)(v * (2 * i + 1));
  int s = 0;
  for (int i = 0; i < n; i++) s += shorts[i];
  return s;
}

/** The same through unsigned 16-bit loads. */
EXPORT(sum_ushorts) int sum_ushorts(int v, int n) {
  if (n < 0 || n > 64) return 0;
  for (int i = 0; i < n; i++) shorts[i] = (short)(v * (2 * i + 1));
  int s = 0;
  for (int i = 0; i < n; i++) s += (unsigned short)shorts[i];
  return s;
}

/** Signed bytes: stores v+i truncated to 8 bits, returns the minimum read back. */
EXPORT(min_bytes) int min_bytes(int v, int n) {
  if (n <= 0 || n > 64) return 0;
  for (int i = 0; i < n; i++) bytes[i] = (signed char)(v + i * 37);
  int m = bytes[0];
  for (int i = 1; i < n; i++)
    if (bytes[i] < m) m = bytes[i];
  return m;
}

EXPORT(clz) int clz(unsigned x) { return x ? __builtin_clz(x) : 32; }
EXPORT(ctz) int ctz(unsigned x) { return x ? __builtin_ctz(x) : 32; }
EXPORT(rotr) unsigned rotr(unsigned x, unsigned k) { return (x >> (k & 31)) | (x << ((32 - k) & 31)); }

/** Pages of linear memory now. */
EXPORT(memory_pages) int memory_pages(void) { return (int)__builtin_wasm_memory_size(0); }

/** Grows memory by n pages; returns the old size in pages, or -1. */
EXPORT(grow) int grow(int n) { return (int)__builtin_wasm_memory_grow(0, (unsigned)n); }

/** Traps with unreachable when x is negative, else returns x. */
EXPORT(check_non_negative) int check_non_negative(int x) {
  if (x < 0) __builtin_trap();
  return x;
}

/** Reads the i32 at byte address a (traps out of bounds). */
EXPORT(peek) int peek(int a) { return *(volatile int *)a; }

/** a / b, trapping on b == 0 or INT_MIN / -1. */
EXPORT(divide) int divide(int a, int b) { return a / b; }
