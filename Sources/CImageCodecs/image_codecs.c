#include "image_codecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

int mscr_codecs_version(void) { return 2; }

static void set_err(char *err, size_t errlen, const char *msg) {
    if (err && errlen > 0) {
        strncpy(err, msg, errlen - 1);
        err[errlen - 1] = 0;
    }
}

/* ---------------------------------------------------------------- JPEG */

struct jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int truncated;
    char message[JMSG_LENGTH_MAX];
};

static void jpeg_error_exit_jump(j_common_ptr cinfo) {
    struct jpeg_err *e = (struct jpeg_err *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->message);
    longjmp(e->jump, 1);
}

static void jpeg_emit_quiet(j_common_ptr cinfo, int level) {
    struct jpeg_err *e = (struct jpeg_err *)cinfo->err;
    if (level < 0) {
        if (cinfo->err->msg_code == JWRN_JPEG_EOF) e->truncated = 1;
        cinfo->err->num_warnings++;
    }
}

static void jpeg_output_quiet(j_common_ptr cinfo) { (void)cinfo; }

/* Errors longjmp to the caller's setjmp (never exit); warnings are counted, not printed. */
static void quiet_errors(struct jpeg_decompress_struct *cinfo, struct jpeg_err *jerr) {
    memset(jerr, 0, sizeof *jerr);
    cinfo->err = jpeg_std_error(&jerr->pub);
    jerr->pub.error_exit = jpeg_error_exit_jump;
    jerr->pub.emit_message = jpeg_emit_quiet;
    jerr->pub.output_message = jpeg_output_quiet;
}

/* Reads the header of an in-memory JPEG, keeping APP1 (EXIF) for the orientation. Call after
   setjmp: a corrupt header longjmps there. */
static void read_header(struct jpeg_decompress_struct *cinfo, const unsigned char *data, size_t size) {
    jpeg_create_decompress(cinfo);
    jpeg_mem_src(cinfo, data, (unsigned long)size);
    jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(cinfo, TRUE);
}

static unsigned read_u16(const unsigned char *p, int big) {
    return big ? (unsigned)(p[0] << 8 | p[1]) : (unsigned)(p[1] << 8 | p[0]);
}

static unsigned long read_u32(const unsigned char *p, int big) {
    return big ? ((unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3])
               : ((unsigned long)p[3] << 24 | (unsigned long)p[2] << 16 | (unsigned long)p[1] << 8 | p[0]);
}

/* EXIF orientation from an APP1 payload ("Exif\0\0" + TIFF); 1 when absent or malformed. */
static int exif_orientation(const unsigned char *d, unsigned len) {
    if (len < 14 || memcmp(d, "Exif\0\0", 6) != 0) return 1;
    const unsigned char *t = d + 6;
    unsigned long n = len - 6;
    int big;
    if (t[0] == 'M' && t[1] == 'M') big = 1;
    else if (t[0] == 'I' && t[1] == 'I') big = 0;
    else return 1;
    unsigned long ifd = read_u32(t + 4, big);
    if (ifd + 2 > n) return 1;
    unsigned entries = read_u16(t + ifd, big);
    for (unsigned i = 0; i < entries; i++) {
        unsigned long e = ifd + 2 + 12UL * i;
        if (e + 12 > n) return 1;
        if (read_u16(t + e, big) == 0x0112) {
            unsigned v = read_u16(t + e + 8, big);
            return (v >= 1 && v <= 8) ? (int)v : 1;
        }
    }
    return 1;
}

static int saved_orientation(struct jpeg_decompress_struct *cinfo) {
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1) {
            int o = exif_orientation(m->data, m->data_length);
            if (o != 1) return o;
        }
    }
    return 1;
}

/* dst = src (w x h, 3 bytes per pixel) transformed by EXIF orientation o. */
static void orient_rgb(const unsigned char *src, int w, int h, int o, unsigned char *dst) {
    int dw = (o >= 5) ? h : w;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            int dx, dy;
            switch (o) {
            case 2: dx = w - 1 - x; dy = y; break;
            case 3: dx = w - 1 - x; dy = h - 1 - y; break;
            case 4: dx = x; dy = h - 1 - y; break;
            case 5: dx = y; dy = x; break;
            case 6: dx = h - 1 - y; dy = x; break;
            case 7: dx = h - 1 - y; dy = w - 1 - x; break;
            case 8: dx = y; dy = w - 1 - x; break;
            default: dx = x; dy = y; break;
            }
            const unsigned char *s = src + ((size_t)y * w + x) * 3;
            unsigned char *d = dst + ((size_t)dy * dw + dx) * 3;
            d[0] = s[0];
            d[1] = s[1];
            d[2] = s[2];
        }
    }
}

int mscr_jpeg_probe(const unsigned char *data, size_t size, int *width, int *height, int *orientation,
                    char *err, size_t errlen) {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_err jerr;
    quiet_errors(&cinfo, &jerr);
    if (setjmp(jerr.jump)) {
        set_err(err, errlen, jerr.message);
        jpeg_destroy_decompress(&cinfo);
        return MSCR_IMG_CORRUPT;
    }
    read_header(&cinfo, data, size);
    *width = (int)cinfo.image_width;
    *height = (int)cinfo.image_height;
    *orientation = saved_orientation(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return MSCR_IMG_OK;
}

int mscr_jpeg_decode(const unsigned char *data, size_t size, int apply_orientation,
                     unsigned char *out, size_t out_size, char *err, size_t errlen) {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_err jerr;
    /* volatile: modified between setjmp and longjmp. */
    unsigned char *volatile pixels = NULL;
    JSAMPLE *volatile row = NULL;
    quiet_errors(&cinfo, &jerr);
    if (setjmp(jerr.jump)) {
        set_err(err, errlen, jerr.message);
        jpeg_destroy_decompress(&cinfo);
        free(row);
        if (pixels != out) free(pixels);
        return MSCR_IMG_CORRUPT;
    }
    read_header(&cinfo, data, size);
    int orientation = apply_orientation ? saved_orientation(&cinfo) : 1;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo.out_color_space = JCS_CMYK; break;
    default: cinfo.out_color_space = JCS_RGB; break;
    }
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height, comps = cinfo.output_components;
    size_t need = (size_t)w * (size_t)h * 3;
    if (need > out_size) {
        set_err(err, errlen, "output buffer too small for the decoded image");
        jpeg_destroy_decompress(&cinfo);
        return MSCR_IMG_BUFFER;
    }
    if (comps != 1 && comps != 3 && comps != 4) {
        set_err(err, errlen, "unsupported number of JPEG color components");
        jpeg_destroy_decompress(&cinfo);
        return MSCR_IMG_UNSUPPORTED;
    }
    if (orientation != 1) {
        pixels = (unsigned char *)malloc(need);
        if (!pixels) {
            set_err(err, errlen, "out of memory");
            jpeg_destroy_decompress(&cinfo);
            return MSCR_IMG_NOMEM;
        }
    } else {
        pixels = out;
    }
    row = (JSAMPLE *)malloc((size_t)w * (size_t)comps);
    if (!row) {
        set_err(err, errlen, "out of memory");
        jpeg_destroy_decompress(&cinfo);
        if (pixels != out) free(pixels);
        return MSCR_IMG_NOMEM;
    }
    int inverted = cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(&cinfo, rows, 1);
        unsigned char *dst = pixels + y * (size_t)w * 3;
        if (comps == 3) {
            memcpy(dst, row, (size_t)w * 3);
        } else if (comps == 1) {
            for (int x = 0; x < w; x++) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = row[x];
        } else {
            for (int x = 0; x < w; x++) {
                int c = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2], k = row[4 * x + 3];
                if (!inverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
                dst[3 * x] = (unsigned char)((c * k + 127) / 255);
                dst[3 * x + 1] = (unsigned char)((m * k + 127) / 255);
                dst[3 * x + 2] = (unsigned char)((yy * k + 127) / 255);
            }
        }
        if (jerr.truncated) break;
    }
    if (jerr.truncated) {
        set_err(err, errlen, "the JPEG data ends early (truncated file)");
        jpeg_destroy_decompress(&cinfo);
        free(row);
        if (pixels != out) free(pixels);
        return MSCR_IMG_CORRUPT;
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    if (pixels != out) {
        orient_rgb(pixels, w, h, orientation, out);
        free(pixels);
    }
    return MSCR_IMG_OK;
}

int mscr_jpeg_encode(const unsigned char *rgb, int width, int height, int quality,
                     unsigned char **out, size_t *out_size, char *err, size_t errlen) {
    struct jpeg_compress_struct cinfo;
    struct jpeg_err jerr;
    unsigned char *volatile buffer = NULL;
    unsigned long volatile length = 0;
    memset(&jerr, 0, sizeof jerr);
    *out = NULL;
    *out_size = 0;
    if (width <= 0 || height <= 0) {
        set_err(err, errlen, "image has no pixels");
        return MSCR_IMG_UNSUPPORTED;
    }
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = jpeg_error_exit_jump;
    jerr.pub.emit_message = jpeg_emit_quiet;
    jerr.pub.output_message = jpeg_output_quiet;
    if (setjmp(jerr.jump)) {
        set_err(err, errlen, jerr.message);
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return MSCR_IMG_CORRUPT;
    }
    jpeg_create_compress(&cinfo);
    unsigned char *buf = NULL;
    unsigned long len = 0;
    jpeg_mem_dest(&cinfo, &buf, &len);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality < 1 ? 1 : (quality > 100 ? 100 : quality), TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW rows[1] = {(JSAMPROW)(rgb + (size_t)cinfo.next_scanline * (size_t)width * 3)};
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    buffer = buf;
    length = len;
    jpeg_destroy_compress(&cinfo);
    *out = buffer;
    *out_size = length;
    return MSCR_IMG_OK;
}

void mscr_codecs_free(void *p) { free(p); }

/* ---------------------------------------------------------------- PNG */

struct png_source {
    const unsigned char *data;
    size_t size;
    size_t offset;
};

struct png_err {
    char message[256];
};

static void png_read_mem(png_structp png, png_bytep out, png_size_t n) {
    struct png_source *src = (struct png_source *)png_get_io_ptr(png);
    if (n > src->size - src->offset) png_error(png, "the PNG data ends early (truncated file)");
    memcpy(out, src->data + src->offset, n);
    src->offset += n;
}

static void png_error_jump(png_structp png, png_const_charp msg) {
    struct png_err *e = (struct png_err *)png_get_error_ptr(png);
    if (e) {
        strncpy(e->message, msg ? msg : "PNG error", sizeof e->message - 1);
        e->message[sizeof e->message - 1] = 0;
    }
    png_longjmp(png, 1);
}

static void png_warning_quiet(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

/* Shared by probe and decode: reads up to IHDR; decode != 0 also reads the pixels into out. */
static int png_run(const unsigned char *data, size_t size, int decode, int *width, int *height,
                   unsigned char *out, size_t out_size, char *err, size_t errlen) {
    if (size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        set_err(err, errlen, "not a PNG file");
        return MSCR_IMG_CORRUPT;
    }
    struct png_err perr;
    memset(&perr, 0, sizeof perr);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &perr, png_error_jump, png_warning_quiet);
    if (!png) {
        set_err(err, errlen, "out of memory");
        return MSCR_IMG_NOMEM;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        set_err(err, errlen, "out of memory");
        return MSCR_IMG_NOMEM;
    }
    png_bytep *volatile rows = NULL;
    struct png_source src = {data, size, 0};
    if (setjmp(png_jmpbuf(png))) {
        set_err(err, errlen, perr.message[0] ? perr.message : "corrupt PNG");
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return MSCR_IMG_CORRUPT;
    }
    png_set_read_fn(png, &src, png_read_mem);
    /* Limit what a header may claim before anything is allocated (the caller checks pixels too). */
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    *width = (int)w;
    *height = (int)h;
    if (!decode) {
        png_destroy_read_struct(&png, &info, NULL);
        return MSCR_IMG_OK;
    }
    size_t need = (size_t)w * (size_t)h * 3;
    if (need > out_size) {
        png_destroy_read_struct(&png, &info, NULL);
        set_err(err, errlen, "output buffer too small for the decoded image");
        return MSCR_IMG_BUFFER;
    }
    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    if (depth == 16) png_set_strip_16(png);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3) {
        png_destroy_read_struct(&png, &info, NULL);
        set_err(err, errlen, "unsupported PNG pixel layout");
        return MSCR_IMG_UNSUPPORTED;
    }
    rows = (png_bytep *)malloc(sizeof(png_bytep) * h);
    if (!rows) {
        png_destroy_read_struct(&png, &info, NULL);
        set_err(err, errlen, "out of memory");
        return MSCR_IMG_NOMEM;
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = out + (size_t)y * w * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return MSCR_IMG_OK;
}

int mscr_png_probe(const unsigned char *data, size_t size, int *width, int *height, char *err, size_t errlen) {
    return png_run(data, size, 0, width, height, NULL, 0, err, errlen);
}

int mscr_png_decode(const unsigned char *data, size_t size, unsigned char *out, size_t out_size,
                    char *err, size_t errlen) {
    int w = 0, h = 0;
    return png_run(data, size, 1, &w, &h, out, out_size, err, errlen);
}
