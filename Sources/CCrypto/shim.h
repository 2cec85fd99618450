#ifndef MSCR_CCRYPTO_SHIM_H
#define MSCR_CCRYPTO_SHIM_H
/* OpenSSL's sha256 (SHA-NI / AVX2 assembly), the same libcrypto libcurl already links. The
   one-shot SHA256_* calls are deprecated in OpenSSL 3 but keep a plain-struct context, which lets
   the Swift digest stay a value type; EVP would need a heap handle per digest. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>

static inline void mscr_sha256_init(SHA256_CTX *c) { SHA256_Init(c); }
static inline void mscr_sha256_update(SHA256_CTX *c, const void *data, size_t n) { SHA256_Update(c, data, n); }
static inline void mscr_sha256_final(SHA256_CTX *c, unsigned char out[32]) { SHA256_Final(out, c); }
#endif
