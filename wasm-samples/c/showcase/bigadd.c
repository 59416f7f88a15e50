// wasm-samples/c/showcase/bigadd.c — adds two arbitrarily long decimal numbers given as
// "A+B" (e.g. "12345+6789") and prints the sum; digits are added right to left into
// scratch memory just past the input (the heap is ours).
#include "io.h"

static int digits_at(const char *s) {
  int n = 0;
  while (is_digit(s[n])) n++;
  return n;
}

void compute(const char *input) {
  const char *a = input;
  while (*a == ' ') a++;
  int la = digits_at(a);
  const char *b = a + la;
  while (*b == ' ') b++;
  if (la == 0 || *b != '+') {
    put_str("usage: A+B\n");
    return;
  }
  b++;
  while (*b == ' ') b++;
  int lb = digits_at(b);
  if (lb == 0) {
    put_str("usage: A+B\n");
    return;
  }
  const char *end = b + lb;
  while (*end) end++;
  char *sum = (char *)end + 1; // scratch: one digit per byte, least significant first
  int n = 0, carry = 0, i = la - 1, j = lb - 1;
  while (i >= 0 || j >= 0 || carry) {
    int d = carry;
    if (i >= 0) d += a[i--] - '0';
    if (j >= 0) d += b[j--] - '0';
    carry = d >= 10;
    sum[n++] = (char)(carry ? d - 10 : d);
  }
  while (n > 1 && sum[n - 1] == 0) n--; // leading zeros of the operands
  while (n > 0) output_byte('0' + sum[--n]);
  output_byte('\n');
}
