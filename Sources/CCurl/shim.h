#ifndef MSCR_CCURL_SHIM_H
#define MSCR_CCURL_SHIM_H
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

/* curl_easy_setopt / curl_easy_getinfo are variadic: Swift cannot call them, so each
   argument type gets a typed wrapper. */
static inline CURLcode mscr_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mscr_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mscr_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mscr_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mscr_curl_setopt_const_pointer(CURL *h, CURLoption o, const void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mscr_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*mscr_curl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode mscr_curl_setopt_datacb(CURL *h, CURLoption o, mscr_curl_data_cb v) { return curl_easy_setopt(h, o, v); }
typedef int (*mscr_curl_xferinfo_cb)(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
static inline CURLcode mscr_curl_setopt_xferinfocb(CURL *h, CURLoption o, mscr_curl_xferinfo_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mscr_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode mscr_curl_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode mscr_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode mscr_curl_getinfo_string(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }

/* CURL_GLOBAL_DEFAULT is a macro expression Swift does not import. */
static inline CURLcode mscr_curl_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT); }
/* CURL_WRITEFUNC_PAUSE / CURL_READFUNC_ABORT style sentinels are macros too; a write callback
   aborts the transfer by returning a count different from the one it was given. */
#endif
