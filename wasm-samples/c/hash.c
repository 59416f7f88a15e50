// wasm-samples/c/hash.c — FNV-1a and djb2 hashes of an i32's four bytes (stored to and
// loaded back from memory), and a xorshift32 generator iterated k times.
#define EXPORT(n) // exported by build.sh (-Wl,--export=n); export_name would add a table

static unsigned char scratch[4];

static void put(unsigned v) {
  for (int i = 0; i < 4; i++) scratch[i] = (unsigned char)(v >> (8 * i));
}

EXPORT(fnv1a) unsigned fnv1a(unsigned v) {
  put(v);
  unsigned h = 2166136261u;
  for (int i = 0; i < 4; i++) {
    h ^= scratch[i];
    h *= 16777619u;
  }
  return h;
}

EXPORT(djb2) unsigned djb2(unsigned v) {
  put(v);
  unsigned h = 5381;
  for (int i = 0; i < 4; i++) h = h * 33 + scratch[i];
  return h;
}

EXPORT(xorshift) unsigned xorshift(unsigned x, int k) {
  if (x == 0) x = 1;
  for (int i = 0; i < k; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
  }
  return x;
}
