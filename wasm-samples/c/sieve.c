// wasm-samples/c/sieve.c — sieve of Eratosthenes over a byte array: count of primes below n,
// and the largest prime below n.
#define EXPORT(n) // exported by build.sh (-Wl,--export=n); export_name would add a table

#define LIMIT 2048
static unsigned char composite[LIMIT];

static int sieve(int n) {
  if (n < 0 || n > LIMIT) return -1;
  // no unrolling: unrolled byte stores of 0 get merged into i64.store by clang -O2
#pragma clang loop unroll(disable) vectorize(disable)
  for (int i = 0; i < n; i++) composite[i] = 0;
  for (int i = 2; i * i < n; i++)
    if (!composite[i])
      for (int j = i * i; j < n; j += i) composite[j] = 1;
  return 0;
}

EXPORT(count_primes) int count_primes(int n) {
  if (sieve(n) < 0) return -1;
  int count = 0;
  for (int i = 2; i < n; i++) count += !composite[i];
  return count;
}

EXPORT(largest_prime_below) int largest_prime_below(int n) {
  if (sieve(n) < 0) return -1;
  for (int i = n - 1; i >= 2; i--)
    if (!composite[i]) return i;
  return 0;
}
