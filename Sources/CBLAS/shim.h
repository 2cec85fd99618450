#ifndef MSCR_CBLAS_SHIM_H
#define MSCR_CBLAS_SHIM_H
#include <cblas.h>
/* OpenBLAS extensions: thread count is process-wide. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
#endif
