// wasm-samples/c/strings.c — string routines on NUL-terminated bytes in linear memory:
// itoa (by subtracting powers of ten, so no division by a constant), strlen, in-place
// reverse, atoi; exports round-trip an i32 through them.
#define EXPORT(n) // exported by build.sh (-Wl,--export=n); export_name would add a table

static char text[16];
static const unsigned POW10[10] = {1000000000u, 100000000u, 10000000u, 1000000u, 100000u,
                                   10000u,      1000u,      100u,      10u,      1u};

static void itoa(int v, char *out) {
  unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
  if (v < 0) *out++ = '-';
  int started = 0;
  for (int i = 0; i < 10; i++) {
    char d = '0';
    while (u >= POW10[i]) {
      u -= POW10[i];
      d++;
    }
    if (d != '0' || started || i == 9) {
      *out++ = d;
      started = 1;
    }
  }
  *out = 0;
}

static int my_strlen(const char *s) {
  int n = 0;
  while (s[n]) n++;
  return n;
}

static void strrev(char *s) {
  int i = 0, j = my_strlen(s) - 1;
  if (*s == '-') i = 1;
  while (i < j) {
    char t = s[i];
    s[i] = s[j];
    s[j] = t;
    i++;
    j--;
  }
}

static int my_atoi(const char *s) {
  int neg = 0;
  unsigned v = 0;
  if (*s == '-') {
    neg = 1;
    s++;
  }
  while (*s >= '0' && *s <= '9') v = v * 10 + (unsigned)(*s++ - '0');
  return neg ? (int)(0u - v) : (int)v;
}

EXPORT(decimal_length) int decimal_length(int v) {
  itoa(v, text);
  return my_strlen(text);
}

EXPORT(reverse_digits) int reverse_digits(int v) {
  itoa(v, text);
  strrev(text);
  return my_atoi(text);
}

EXPORT(roundtrip) int roundtrip(int v) {
  itoa(v, text);
  return my_atoi(text);
}
