// wasm-samples/c/switch.c — dense switches (br_table): day of the week (Zeller), and a
// tiny stack machine interpreting a bytecode program stored in a data segment.
#define EXPORT(n) // exported by build.sh (-Wl,--export=n); export_name would add a table

EXPORT(day_of_week) int day_of_week(int y, int m, int d) {
  int month_offset;
  switch (m) {
    case 1: month_offset = 0; break;
    case 2: month_offset = 3; break;
    case 3: month_offset = 2; break;
    case 4: month_offset = 5; break;
    case 5: month_offset = 0; break;
    case 6: month_offset = 3; break;
    case 7: month_offset = 5; break;
    case 8: month_offset = 1; break;
    case 9: month_offset = 4; break;
    case 10: month_offset = 6; break;
    case 11: month_offset = 2; break;
    case 12: month_offset = 4; break;
    default: return -1;
  }
  if (m < 3) y -= 1;
  if (y < 0) return -1;
  return (y + y / 4 - y / 100 + y / 400 + month_offset + d) % 7;
}

enum { OP_PUSH, OP_ADD, OP_SUB, OP_MUL, OP_DUP, OP_SWAP, OP_JNZ, OP_DEC, OP_HALT, OP_OVER, OP_DROP };

// x! by repeated multiply: stack [acc, n]
static const unsigned char PROGRAM[] = {
    OP_PUSH, 1,  OP_SWAP, // acc=1, n
    // loop (pc=3): acc n
    OP_DUP, OP_JNZ, 8,    // if n != 0 goto 8
    OP_DROP, OP_HALT,     // pc 6,7
    OP_SWAP, OP_OVER, OP_MUL, // pc 8: n acc*n
    OP_SWAP, OP_DEC,      // acc n-1
    OP_PUSH, 1, OP_JNZ, 3 // goto loop
};

static int stack[16];

EXPORT(run_vm) int run_vm(int n) {
  int sp = 0, pc = 0, steps = 0;
  stack[sp++] = n;
  for (;;) {
    if (++steps > 10000) return -1;
    unsigned char op = PROGRAM[pc++];
    switch (op) {
      case OP_PUSH: stack[sp++] = PROGRAM[pc++]; break;
      case OP_ADD: sp--; stack[sp - 1] += stack[sp]; break;
      case OP_SUB: sp--; stack[sp - 1] -= stack[sp]; break;
      case OP_MUL: sp--; stack[sp - 1] *= stack[sp]; break;
      case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
      case OP_SWAP: { int t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; break; }
      case OP_JNZ: { int target = PROGRAM[pc++]; if (stack[--sp] != 0) pc = target; break; }
      case OP_DEC: stack[sp - 1] -= 1; break;
      case OP_OVER: stack[sp] = stack[sp - 2]; sp++; break;
      case OP_DROP: sp--; break;
      case OP_HALT: return stack[sp - 1];
      default: return -2;
    }
    if (sp < 1 || sp > 15) return -3;
  }
}
