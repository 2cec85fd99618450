// OpenBLAS sgemm throughput on one core for one product shape (BENCHMARKS.md, session 5).
//   cc -O2 scripts/sgemm-probe.c -o /tmp/sgemm-probe -lopenblas && /tmp/sgemm-probe 64 49 512   # m n k
// Prints the best of 20 calls in GF/s and the core OpenBLAS picked.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
 int m=atoi(argv[1]),n=atoi(argv[2]),k=atoi(argv[3]);
 openblas_set_num_threads(1);
 float*a=malloc(4L*m*k),*b=malloc(4L*k*n),*c=malloc(4L*m*n);
 for(long i=0;i<(long)m*k;i++)a[i]=rand()/(float)RAND_MAX;
 for(long i=0;i<(long)k*n;i++)b[i]=rand()/(float)RAND_MAX;
 double best=1e9;
 for(int r=0;r<20;r++){double t=now();cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,m,n,k,1,a,k,b,n,0,c,n);t=now()-t;if(t<best)best=t;}
 printf("%d %d %d: %.1f GF/s  (%s)\n",m,n,k,2.0*m*n*k/best/1e9, openblas_get_corename());
}
