// wasm-samples/c/gcd.c — Euclid's gcd and an lcm built on it (i32 rem_u, div_u, mul).
#define EXPORT(n) // exported by build.sh (-Wl,--export=n); export_name would add a table

EXPORT(gcd) unsigned gcd(unsigned a, unsigned b) {
  while (b != 0) {
    unsigned t = a % b;
    a = b;
    b = t;
  }
  return a;
}

EXPORT(lcm) unsigned lcm(unsigned a, unsigned b) {
  if (a == 0 || b == 0) return 0;
  return a / gcd(a, b) * b;
}
