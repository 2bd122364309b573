// A syscall with no libc in between, for code that runs in a child sharing
// our memory (clone with CLONE_VM): such a child has no thread control block
// of its own, so libc wrappers, which read it for errno and cancellation,
// would scribble on the parent thread's. Returns the kernel's raw result
// (-errno on failure).
#ifndef PODSANDBOX_SYS_RAW_SYSCALL_H_
#define PODSANDBOX_SYS_RAW_SYSCALL_H_

namespace podsandbox::sys {

inline long RawSyscall3(long number, long a, long b, long c) {
  long result;
#if defined(__x86_64__)
  __asm__ volatile("syscall"
                   : "=a"(result)
                   : "a"(number), "D"(a), "S"(b), "d"(c)
                   : "rcx", "r11", "memory");
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = number;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  result = x0;
#else
#error "RawSyscall3 needs an implementation for this architecture"
#endif
  return result;
}

// The same for syscalls that take up to six arguments (mount, prctl
// options that require their unused arguments to be zero).
inline long RawSyscall6(long number, long a, long b, long c, long d, long e,
                        long f) {
  long result;
#if defined(__x86_64__)
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(result)
                   : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
                     "r"(r9)
                   : "rcx", "r11", "memory");
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = number;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory");
  result = x0;
#else
#error "RawSyscall6 needs an implementation for this architecture"
#endif
  return result;
}

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_RAW_SYSCALL_H_
