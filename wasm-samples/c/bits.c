// wasm-samples/c/bits.c — bit tricks: popcount (Kernighan loop and SWAR), bit reversal,
// leading zeros by binary search, parity, and next power of two.
#define EXPORT(n) // exported by build.sh (-Wl,--export=n); export_name would add a table

EXPORT(popcount_loop) int popcount_loop(unsigned x) {
  int c = 0;
  while (x) {
    x &= x - 1;
    c++;
  }
  return c;
}

EXPORT(popcount_swar) int popcount_swar(unsigned x) {
  x = x - ((x >> 1) & 0x55555555u);
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  x = (x + (x >> 4)) & 0x0F0F0F0Fu;
  return (int)((x * 0x01010101u) >> 24);
}

EXPORT(bit_reverse) unsigned bit_reverse(unsigned x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
  x = ((x >> 8) & 0x00FF00FFu) | ((x & 0x00FF00FFu) << 8);
  return (x >> 16) | (x << 16);
}

EXPORT(leading_zeros) int leading_zeros(unsigned x) {
  if (x == 0) return 32;
  int n = 0;
  if ((x >> 16) == 0) { n += 16; x <<= 16; }
  if ((x >> 24) == 0) { n += 8; x <<= 8; }
  if ((x >> 28) == 0) { n += 4; x <<= 4; }
  if ((x >> 30) == 0) { n += 2; x <<= 2; }
  if ((x >> 31) == 0) n += 1;
  return n;
}

EXPORT(parity) int parity(unsigned x) {
  x ^= x >> 16;
  x ^= x >> 8;
  x ^= x >> 4;
  x ^= x >> 2;
  x ^= x >> 1;
  return (int)(x & 1);
}

EXPORT(next_pow2) unsigned next_pow2(unsigned x) {
  x--;
  x |= x >> 1;
  x |= x >> 2;
  x |= x >> 4;
  x |= x >> 8;
  x |= x >> 16;
  return x + 1;
}
