// wasm-samples/c/showcase/hello.c — greets its input: "Hello, <input>!\n" ("world" if empty).
#include "io.h"

void compute(const char *input) {
  put_str("Hello, ");
  put_str(*input ? input : "world");
  put_str("!\n");
}
