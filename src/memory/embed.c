/* embed.c — the built-in lexical text embedder (see engram/embed.h): words and adjacent word pairs, hashed with
 * FNV-1a into signed buckets, counted, then L2-normalised.
 *
 * Determinism rests on exact arithmetic: every bucket is a sum of ±1 and ±0.5 terms, at most 1.5 per word and at
 * most 2^19 words in EG_EMBED_TEXT_MAX bytes, so each bucket is a multiple of 0.5 below 2^20 and each square a
 * multiple of 0.25 whose total is below 2^40: all exact in double, whatever the order of the additions or
 * whether the compiler fuses a multiply and an add. The only rounding is in one square root and one division
 * per bucket, both correctly rounded by IEEE 754, then the conversion to float. */
#include <engram/embed.h>
#include <engram/vectors.h>

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(EG_EMBED_DIM_MAX == EG_VECTOR_DIM_MAX, "every embedding must fit a collection");

#define FNV_OFFSET_BASIS 0xcbf29ce484222325ULL
#define FNV_PRIME 0x00000100000001b3ULL

#define WORD_WEIGHT 1.0
#define PAIR_WEIGHT 0.5
#define PAIR_SEPARATOR ' ' /* never part of a word, so "a b" as a pair cannot hash like any word */

/* Spelled out rather than isalnum/tolower, whose answers depend on the process's locale. */
static bool is_word_byte(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static unsigned char fold_case(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c; }

static uint64_t fnv1a_byte(uint64_t h, unsigned char c) { return (h ^ c) * FNV_PRIME; }

/* Continues the hash state h over a word, lower-cased on the fly so the text is never copied. */
static uint64_t fnv1a_word(uint64_t h, const unsigned char *word, size_t n) {
    for (size_t i = 0; i < n; i++) h = fnv1a_byte(h, fold_case(word[i]));
    return h;
}

/* A multiply only carries upwards, so FNV-1a's low bits ignore its high ones; folding the high half in makes
 * the bucket depend on the whole hash. The sign takes bit 63, which the bucket of a power-of-two dim never reads
 * (dim <= 2^16 keeps bits 0..15 of h and 32..47), so bucket and sign are independent for the common sizes. */
static void add_feature(double *sums, size_t dim, uint64_t h, double weight) {
    size_t bucket = (size_t)((h ^ (h >> 32)) % dim);
    sums[bucket] += (h >> 63) ? -weight : weight;
}

eg_status eg_embed_text(const char *text, size_t dim, float *out, eg_error *err) {
    if (!text) return eg_error_set(err, EG_INVALID_ARGUMENT, "text is NULL");
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "out is NULL");
    if (dim < 1 || dim > EG_EMBED_DIM_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "dim %zu is out of range 1..%d", dim, EG_EMBED_DIM_MAX);
    /* memchr stops at the first NUL (C11 7.24.5.1), so a short text is never read past its end, and an
     * endless one is not read past the limit. */
    const char *nul = memchr(text, '\0', (size_t)EG_EMBED_TEXT_MAX + 1);
    if (!nul)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "text is longer than %d bytes (EG_EMBED_TEXT_MAX)",
                            EG_EMBED_TEXT_MAX);
    size_t length = (size_t)(nul - text);

    /* Summed apart from out, so that a text found wanting only after the scan leaves out untouched. */
    double *sums = calloc(dim, sizeof *sums);
    if (!sums) return eg_error_set(err, EG_INTERNAL, "out of memory embedding text");

    const unsigned char *p = (const unsigned char *)text, *end = p + length;
    size_t words = 0;
    uint64_t previous = 0; /* the hash of the previous word, from which its pair with the next word continues */
    for (;;) {
        while (p < end && !is_word_byte(*p)) p++;
        const unsigned char *word = p;
        while (p < end && is_word_byte(*p)) p++;
        size_t n = (size_t)(p - word);
        if (n == 0) break;
        uint64_t h = fnv1a_word(FNV_OFFSET_BASIS, word, n);
        add_feature(sums, dim, h, WORD_WEIGHT);
        if (words > 0)
            add_feature(sums, dim, fnv1a_word(fnv1a_byte(previous, PAIR_SEPARATOR), word, n), PAIR_WEIGHT);
        previous = h;
        words++;
    }

    double squares = 0;
    for (size_t i = 0; i < dim; i++) squares += sums[i] * sums[i];
    eg_status status = EG_OK;
    if (words == 0) {
        status = eg_error_set(err, EG_INVALID_ARGUMENT, "text has no words");
    } else if (squares == 0) {
        status = eg_error_set(err, EG_INVALID_ARGUMENT, "the words of text cancel out at dim %zu: use a larger dim",
                              dim);
    } else {
        double norm = sqrt(squares);
        for (size_t i = 0; i < dim; i++) out[i] = (float)(sums[i] / norm);
    }
    free(sums);
    return status;
}
