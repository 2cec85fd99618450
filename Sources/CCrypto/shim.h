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

/* RS256 (RSASSA-PKCS1-v1_5 with SHA-256) for Google service-account JWTs: the PEM private key
   is parsed, used and freed within the call, so no OpenSSL handle crosses into Swift.
   Returns 1 and the signature length in *sig_len (at most sig_cap bytes), 0 when the PEM is
   not a private key, -1 when the key is not RSA, -2 when signing fails. */
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/err.h>

static inline int mscr_rs256_sign(const char *pem, size_t pem_len, const unsigned char *msg, size_t msg_len,
                                  unsigned char *sig, size_t sig_cap, size_t *sig_len) {
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (!bio) return 0;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!key) { ERR_clear_error(); return 0; }
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) { EVP_PKEY_free(key); return -1; }
    int result = -2;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = sig_cap;
    if (ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1
        && EVP_DigestSign(ctx, sig, &len, msg, msg_len) == 1) {
        *sig_len = len;
        result = 1;
    }
    if (result != 1) ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return result;
}
#endif
