#ifndef MSCR_CPU_FEATURES_H
#define MSCR_CPU_FEATURES_H

/// 1 when the CPU and the OS support the AVX-512 subset the AVX-512 kernels are compiled for
/// (F, CD, BW, DQ, VL: Skylake-SP and every later Intel and AMD AVX-512 core), else 0.
int mscr_cpu_has_avx512(void);

#endif
