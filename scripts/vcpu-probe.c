// How far apart the host has put this VM's first two vCPUs, for reading 2-thread benchmarks
// (BENCHMARKS.md, session 11): a cache line bounced between two threads (round trip, ns), the
// bandwidth of one thread reading 4 MB the other just wrote, and AVX-512 FMA throughput on one
// and two threads. Normal: 80-160 ns, ~125 GB/s; "apart": 350-540 ns, ~44 GB/s, while the FMA
// rate still doubles on two threads.
//
//   gcc -O2 -mavx512f -pthread scripts/vcpu-probe.c -o /tmp/vcpu-probe && /tmp/vcpu-probe
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

enum { BOUNCES = 200000, ROUNDS = 20, FLOATS = 1 << 20 };
static _Atomic long flag __attribute__((aligned(64)));
static _Atomic int phase;
static float *buf;
static volatile float sink;

static void *partner(void *unused) {
    for (long i = 0; i < BOUNCES; i++) {
        while (atomic_load(&flag) != 2 * i + 1) {}
        atomic_store(&flag, 2 * i + 2);
    }
    for (int r = 0; r < ROUNDS; r++) {
        while (atomic_load(&phase) != 2 * r + 1) {}
        for (int i = 0; i < FLOATS; i++) buf[i] = (float)(i + r);
        atomic_store(&phase, 2 * r + 2);
    }
    return unused;
}

static void *fma_rate(void *out) {
    __m512 a[12];
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps(i * 0.1f);
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    long n = 0;
    double t0 = now(), end = t0 + 0.3;
    while (now() < end) {
        for (int r = 0; r < 1000; r++)
            for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], m, c);
        n += 12000;
    }
    float s = 0;
    for (int i = 0; i < 12; i++) s += _mm512_reduce_add_ps(a[i]);
    sink = s;
    *(double *)out = n * 32 / (now() - t0) / 1e9;
    return NULL;
}

int main(void) {
    buf = aligned_alloc(64, FLOATS * sizeof(float));
    memset(buf, 0, FLOATS * sizeof(float));
    pthread_t t;
    pthread_create(&t, NULL, partner, NULL);
    double t0 = now();
    for (long i = 0; i < BOUNCES; i++) {
        atomic_store(&flag, 2 * i + 1);
        while (atomic_load(&flag) != 2 * i + 2) {}
    }
    double roundTrip = (now() - t0) / BOUNCES * 1e9;
    double best = 1e9;
    float s = 0;
    for (int r = 0; r < ROUNDS; r++) {
        atomic_store(&phase, 2 * r + 1);
        while (atomic_load(&phase) != 2 * r + 2) {}
        double a = now();
        for (int i = 0; i < FLOATS; i += 16) s += buf[i];  // one float a cache line
        double d = now() - a;
        if (d < best) best = d;
    }
    pthread_join(t, NULL);
    sink = s;
    double one, two[2];
    pthread_t f[2];
    fma_rate(&one);
    for (int i = 0; i < 2; i++) pthread_create(&f[i], NULL, fma_rate, &two[i]);
    for (int i = 0; i < 2; i++) pthread_join(f[i], NULL);
    printf("round trip %.0f ns; 4 MB the other thread wrote: %.0f GB/s; FMA GFLOP/s 1 thread %.0f, 2 threads %.0f + %.0f\n",
           roundTrip, FLOATS * sizeof(float) / best / 1e9, one, two[0], two[1]);
    return 0;
}
