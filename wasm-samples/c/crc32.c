// wasm-samples/c/crc32.c — CRC-32 (IEEE, reflected 0xEDB88320) over a byte buffer in
// linear memory, bitwise and table-driven; the buffer is filled from an LCG seed.
#define EXPORT(n) // exported by build.sh (-Wl,--export=n); export_name would add a table

static unsigned char buf[256];
static unsigned table[256];

static void fill(int n, unsigned seed) {
  for (int i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    buf[i] = (unsigned char)(seed >> 16);
  }
}

EXPORT(crc32_bitwise) unsigned crc32_bitwise(int n, unsigned seed) {
  if (n < 0 || n > 256) return 0;
  fill(n, seed);
  unsigned crc = 0xFFFFFFFFu;
  for (int i = 0; i < n; i++) {
    crc ^= buf[i];
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

EXPORT(crc32_table) unsigned crc32_table(int n, unsigned seed) {
  if (n < 0 || n > 256) return 0;
  for (unsigned i = 0; i < 256; i++) {
    unsigned c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    table[i] = c;
  }
  fill(n, seed);
  unsigned crc = 0xFFFFFFFFu;
  for (int i = 0; i < n; i++) crc = table[(crc ^ buf[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}
