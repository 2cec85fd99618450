#ifndef MSCR_CBLAS_SHIM_H
#define MSCR_CBLAS_SHIM_H
#include <cblas.h>
/* OpenBLAS extensions: thread count is process-wide. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
/* Stops OpenBLAS's own worker threads (exported; OpenBLAS calls it before fork). */
int blas_thread_shutdown_(void);
#endif
