// wasm-samples/c/divmod.c — signed and unsigned division and remainder by variables,
// arithmetic shifts, rotations and a digit sum in any base (2..36).
#define EXPORT(n) // exported by build.sh (-Wl,--export=n); export_name would add a table

EXPORT(floor_div) int floor_div(int a, int b) {
  if (b == 0) return 0;
  if (a == (int)0x80000000 && b == -1) return a;
  int q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
  return q;
}

EXPORT(floor_mod) int floor_mod(int a, int b) {
  if (b == 0) return 0;
  if (b == -1) return 0;
  int r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

EXPORT(digit_sum) int digit_sum(unsigned v, unsigned base) {
  if (base < 2 || base > 36) return -1;
  int s = 0;
  while (v) {
    s += (int)(v % base);
    v /= base;
  }
  return s;
}

EXPORT(rotl) unsigned rotl(unsigned x, unsigned k) { return (x << (k & 31)) | (x >> ((32 - k) & 31)); }

EXPORT(sar) int sar(int x, int k) { return x >> (k & 31); }
