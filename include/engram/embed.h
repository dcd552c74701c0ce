/* engram/embed.h — a built-in lexical text embedder, so that text can be stored and recalled without a model.
 *
 * What it is, honestly: a bag of words and word pairs, hashed into a fixed-size vector. Two texts score high
 * (by cosine or dot product) when they share words, and higher still when they share adjacent pairs of words. It
 * knows nothing of meaning: "car" and "automobile" are as unrelated to it as "car" and "banana", and a negation
 * ("not good") shares most of its words with its opposite. It exists so that `engram remember TEXT` and
 * `engram recall TEXT` work out of the box and so that tests need no model. Real deployments compute
 * embeddings with a model of their choice and pass the vectors in; nothing in engram depends on this embedder.
 *
 * Vectors from this embedder are only comparable with vectors from this embedder at the same dim. */
#ifndef ENGRAM_EMBED_H
#define ENGRAM_EMBED_H

#include <engram/status.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EG_EMBED_DIM_DEFAULT 256
#define EG_EMBED_DIM_MAX 65536          /* as EG_VECTOR_DIM_MAX: every embedding fits a collection */
#define EG_EMBED_TEXT_MAX (1024 * 1024) /* bytes of text, not counting the terminating NUL */

/* Embeds the NUL-terminated UTF-8 text into dim floats at out (dim 1..EG_EMBED_DIM_MAX) by feature hashing:
 *
 * - Words: maximal runs of ASCII letters and digits, ASCII letters lower-cased; every byte >= 0x80 counts as a
 *   letter, so a UTF-8 word ("café", "日本語") stays whole. Everything else (ASCII spaces, punctuation, control
 *   characters) separates words and is otherwise ignored. Non-ASCII letters are not case-folded ("É" differs
 *   from "é"), and non-ASCII punctuation (an em dash, a non-breaking space) does not separate words.
 * - Features: every word, with weight 1, and every pair of adjacent words, with weight 0.5 (so order counts a
 *   little, shared words count most). A pair is hashed as its two words joined by one space, which no word
 *   contains, so a pair and a word are never the same bytes.
 * - Hashing: 64-bit FNV-1a of the feature's bytes, h. The bucket is (h ^ (h >> 32)) % dim, so it depends on
 *   the high bits as well as the low; the sign is bit 63 of h (set: subtract, clear: add). Random signs make
 *   two features that share a bucket cancel on average instead of inflating every similarity.
 * - Weighting: raw counts. A feature that occurs n times adds n times its weight; there is no IDF, so common
 *   words ("the", "a") count as much as rare ones. Sums are exact (every bucket holds a multiple of 0.5 far
 *   below 2^52), so the order of accumulation cannot change the result.
 * - Normalisation: the vector is divided by its L2 norm, so it has unit length and cosine equals dot product.
 *
 * Deterministic across runs, platforms and endianness: the same text and dim give the same bits wherever float
 * and double are IEEE 754 and evaluated at their own precision (FLT_EVAL_METHOD 0: x86-64, AArch64 and the like).
 *
 * Errors, all EG_INVALID_ARGUMENT, all leaving out untouched: text or out NULL; dim 0 or above
 * EG_EMBED_DIM_MAX; text longer than EG_EMBED_TEXT_MAX bytes; text with no word ("text has no words"); and
 * features whose signed weights cancel out exactly, leaving nothing to normalise. That takes collisions, so it
 * is vanishingly rare at useful dims but common at dim 1, where every feature shares the one bucket; a larger
 * dim cures it. Out of memory gives EG_INTERNAL. Thread-safe: no shared state. */
eg_status eg_embed_text(const char *text, size_t dim, float *out, eg_error *err);

#ifdef __cplusplus
}
#endif
#endif
