// wasm-samples/c/showcase/io.h — the showcase programs' whole "libc": output_byte (imported
// from the host as env.output_byte, C's putchar), and printing of strings and integers.
// Every showcase program exports `void compute(const char *input)`; the host writes the
// input bytes and a NUL at __heap_base and calls compute(__heap_base).
#ifndef SHOWCASE_IO_H
#define SHOWCASE_IO_H

__attribute__((import_module("env"), import_name("output_byte"))) void output_byte(int c);

static void put_str(const char *s) {
  while (*s) output_byte(*s++);
}

static void put_uint(unsigned v) {
  char digits[10];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) output_byte(digits[--n]);
}

static void put_int(int v) {
  if (v < 0) {
    output_byte('-');
    put_uint(0u - (unsigned)v);
  } else {
    put_uint((unsigned)v);
  }
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/** Parses an optionally signed decimal at *p, advancing *p; skips leading spaces. Returns 0 if none. */
static int parse_int(const char **p, int *out) {
  const char *s = *p;
  while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r' || *s == ',') s++;
  int neg = 0;
  if (*s == '-') {
    neg = 1;
    s++;
  }
  if (!is_digit(*s)) return 0;
  unsigned v = 0;
  while (is_digit(*s)) v = v * 10 + (unsigned)(*s++ - '0');
  *out = neg ? (int)(0u - v) : (int)v;
  *p = s;
  return 1;
}

#endif
