// wasm-samples/c/bubble.c — bubble sort over a byte array (load8_u/store8), filled from an
// LCG seed; returns a position-weighted checksum of the sorted bytes, or -1 if unsorted.
#define EXPORT(n) // exported by build.sh (-Wl,--export=n); export_name would add a table

static unsigned char a[128];

EXPORT(bubble_sort) int bubble_sort(int n, unsigned seed) {
  if (n < 0 || n > 128) return -2;
  for (int i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    a[i] = (unsigned char)(seed >> 24);
  }
  for (int i = n - 1; i > 0; i--) {
    int swapped = 0;
    for (int j = 0; j < i; j++) {
      if (a[j] > a[j + 1]) {
        unsigned char t = a[j];
        a[j] = a[j + 1];
        a[j + 1] = t;
        swapped = 1;
      }
    }
    if (!swapped) break;
  }
  int sum = 0;
  for (int i = 0; i < n; i++) {
    if (i > 0 && a[i - 1] > a[i]) return -1;
    sum += a[i] * (i + 1);
  }
  return sum;
}
