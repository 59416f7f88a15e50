// wasm-samples/c/matmul.c — n x n integer matrix product (n <= 6) of two LCG-filled matrices
// held in linear memory; returns the trace or a weighted checksum of the product.
#define EXPORT(n) // exported by build.sh (-Wl,--export=n); export_name would add a table

#define N 6
static int A[N][N], B[N][N], C[N][N];

static int product(int n, unsigned seed) {
  if (n < 1 || n > N) return -1;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      seed = seed * 1103515245u + 12345u;
      A[i][j] = (int)((seed >> 16) & 31) - 15;
      seed = seed * 1103515245u + 12345u;
      B[i][j] = (int)((seed >> 16) & 31) - 15;
    }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      int s = 0;
      for (int k = 0; k < n; k++) s += A[i][k] * B[k][j];
      C[i][j] = s;
    }
  return 0;
}

EXPORT(matmul_trace) int matmul_trace(int n, unsigned seed) {
  if (product(n, seed) < 0) return 0;
  int t = 0;
  for (int i = 0; i < n; i++) t += C[i][i];
  return t;
}

EXPORT(matmul_checksum) int matmul_checksum(int n, unsigned seed) {
  if (product(n, seed) < 0) return 0;
  int h = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) h = h * 31 + C[i][j];
  return h;
}
