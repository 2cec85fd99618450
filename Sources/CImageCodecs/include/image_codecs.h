#ifndef MSCR_IMAGE_CODECS_H
#define MSCR_IMAGE_CODECS_H
/*
 * Image codecs for mscr: libjpeg and libpng behind setjmp, so a corrupt image returns an error
 * instead of exiting. Decoders write 8-bit RGB, interleaved; alpha is dropped.
 * Every function returns MSCR_IMG_OK or an error code and writes a message into err[errlen].
 */
#include <stddef.h>

enum {
    MSCR_IMG_OK = 0,
    MSCR_IMG_CORRUPT = 1,      /* not decodable: bad or truncated data */
    MSCR_IMG_UNSUPPORTED = 2,  /* decodable in principle but a variant we do not handle */
    MSCR_IMG_BUFFER = 3,       /* the caller's buffer is too small */
    MSCR_IMG_NOMEM = 4
};

/* Version of this shim. */
int mscr_codecs_version(void);

/*
 * Reads only the JPEG header: stored width and height and the EXIF orientation (1-8, 1 when
 * absent). The displayed size is height x width for orientations 5-8.
 */
int mscr_jpeg_probe(const unsigned char *data, size_t size, int *width, int *height, int *orientation,
                    char *err, size_t errlen);

/*
 * Decodes a JPEG into out (out_size >= display width * display height * 3), applying the EXIF
 * orientation when apply_orientation is non-zero. Grayscale is replicated, CMYK/YCCK converted.
 * A truncated file is an error.
 */
int mscr_jpeg_decode(const unsigned char *data, size_t size, int apply_orientation,
                     unsigned char *out, size_t out_size, char *err, size_t errlen);

/* Reads only the PNG header (IHDR): width and height. */
int mscr_png_probe(const unsigned char *data, size_t size, int *width, int *height, char *err, size_t errlen);

/*
 * Decodes a PNG into out (out_size >= width * height * 3): palette expanded, gray replicated,
 * 16-bit reduced to the high byte, alpha and tRNS dropped, interlacing handled.
 */
int mscr_png_decode(const unsigned char *data, size_t size, unsigned char *out, size_t out_size,
                    char *err, size_t errlen);

/*
 * Encodes rgb (width * height * 3) as a baseline JPEG of the given quality (1-100). On success
 * *out is a malloc'd buffer of *out_size bytes; free it with mscr_codecs_free.
 */
int mscr_jpeg_encode(const unsigned char *rgb, int width, int height, int quality,
                     unsigned char **out, size_t *out_size, char *err, size_t errlen);

/* Frees a buffer returned by mscr_jpeg_encode. */
void mscr_codecs_free(void *p);

#endif
