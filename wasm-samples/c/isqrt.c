// wasm-samples/c/isqrt.c — integer square root: digit-by-digit (shifts, compares) and Newton (div_u).
#define EXPORT(n) // exported by build.sh (-Wl,--export=n); export_name would add a table

EXPORT(isqrt) unsigned isqrt(unsigned n) {
  unsigned res = 0;
  unsigned bit = 1u << 30;
  while (bit > n) bit >>= 2;
  while (bit != 0) {
    if (n >= res + bit) {
      n -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  return res;
}

EXPORT(isqrt_newton) unsigned isqrt_newton(unsigned n) {
  if (n < 2) return n;
  unsigned x = n / 2 + 1;
  unsigned y = (x + n / x) / 2;
  while (y < x) {
    x = y;
    y = (x + n / x) / 2;
  }
  return x;
}
