/* test_embed.c — the built-in lexical embedder: the same text gives the same bits; vectors have unit length;
 * case, punctuation and spacing do not count, words and their order do (order a little); texts sharing words
 * score above unrelated ones; UTF-8 words stay whole; fixed golden vectors catch any change to the hash or the
 * features; every bad input is refused with EG_INVALID_ARGUMENT and leaves the output untouched. */
#include "test.h"

#include <engram/embed.h>

#include <math.h>

#define DIM EG_EMBED_DIM_DEFAULT
#define SENTINEL 7.25f /* what out holds before a call that must not write it */

/* Embeds text, printing the error when it is refused. */
static bool embed(const char *text, size_t dim, float *out) {
    eg_error err;
    eg_status status = eg_embed_text(text, dim, out, &err);
    if (status != EG_OK) fprintf(stderr, "  embedding \"%.40s\" at dim %zu: %s\n", text, dim, err.message);
    return status == EG_OK;
}

/* Both vectors have unit length, so their dot product is their cosine. */
static double cosine(const float *a, const float *b, size_t dim) {
    double dot = 0;
    for (size_t i = 0; i < dim; i++) dot += (double)a[i] * b[i];
    return dot;
}

static double cosine_of(const char *a, const char *b) {
    float va[DIM], vb[DIM];
    if (!embed(a, DIM, va) || !embed(b, DIM, vb)) return NAN;
    return cosine(va, vb, DIM);
}

static bool same_bits(const char *a, const char *b) {
    float va[DIM], vb[DIM];
    if (!embed(a, DIM, va) || !embed(b, DIM, vb)) return false;
    return memcmp(va, vb, sizeof va) == 0;
}

static void fill_sentinel(float *v, size_t n) {
    for (size_t i = 0; i < n; i++) v[i] = SENTINEL;
}

static bool all_sentinel(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (v[i] != SENTINEL) return false;
    return true;
}

TEST(same_text_gives_identical_bits) {
    static const char *const texts[] = {"hello world", "The quick brown fox jumps over the lazy dog.", "café 42"};
    static const size_t dims[] = {2, 8, 100, DIM, 4096};
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
            float *a = malloc(dims[d] * sizeof(float)), *b = malloc(dims[d] * sizeof(float));
            REQUIRE(a && b);
            fill_sentinel(a, dims[d]);
            for (size_t i = 0; i < dims[d]; i++) b[i] = -1.0f; /* different garbage: every element must be written */
            CHECK(embed(texts[t], dims[d], a));
            CHECK(embed(texts[t], dims[d], b));
            CHECK(memcmp(a, b, dims[d] * sizeof(float)) == 0);
            free(a);
            free(b);
        }
    }
}

TEST(vectors_have_unit_length) {
    static const char *const texts[] = {"hello", "hello world", "a a a a a a",
                                        "The quick brown fox jumps over the lazy dog.", "café crème brûlée",
                                        "x1 y2 z3 x1 y2 z3 x1"};
    static const size_t dims[] = {2, 7, 8, DIM, 1000, EG_EMBED_DIM_MAX};
    float *v = malloc(EG_EMBED_DIM_MAX * sizeof(float));
    REQUIRE(v);
    /* At dim 1 all features share the bucket: one word is exactly +1 or -1. */
    CHECK(embed("hello", 1, v) && fabsf(v[0]) == 1.0f);
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
            if (!embed(texts[t], dims[d], v)) {
                CHECK(!"embedding failed");
                continue;
            }
            double squares = 0;
            for (size_t i = 0; i < dims[d]; i++) squares += (double)v[i] * v[i];
            CHECK(fabs(squares - 1.0) < 1e-6);
        }
    }
    free(v);
}

TEST(case_punctuation_and_spacing_do_not_count) {
    CHECK(same_bits("Hello, WORLD!", "hello world"));
    CHECK(same_bits("  hello   world  ", "hello world"));
    CHECK(same_bits("hello\tworld\n", "hello world"));
    CHECK(same_bits("HELLO-world...", "hello world"));
    CHECK(same_bits("(hello) [world]", "hello world"));
    CHECK(!same_bits("hello world", "helloworld"));
}

TEST(digits_are_part_of_words) {
    CHECK(same_bits("Route 66", "route 66"));
    CHECK(!same_bits("version 2", "version 3"));
    CHECK(!same_bits("b2b", "b 2 b"));
}

TEST(shared_words_score_above_unrelated_text) {
    double related = cosine_of("the cat sat on the mat", "a cat on a mat");
    double unrelated = cosine_of("the cat sat on the mat", "stock prices fell sharply");
    CHECK(related > 0.25);
    CHECK(fabs(unrelated) < 0.15);
    CHECK(related > unrelated + 0.2);
    CHECK(cosine_of("remember the meeting with Alice", "meeting Alice tomorrow") >
          cosine_of("remember the meeting with Alice", "buy milk and eggs"));
}

/* "dog bites man" and "man bites dog" share all three words and none of their pairs: cosine 3 / 3.5. */
TEST(word_order_counts_a_little) {
    double swapped = cosine_of("dog bites man", "man bites dog");
    CHECK(!same_bits("dog bites man", "man bites dog"));
    CHECK(swapped > 0.8 && swapped < 0.9);
    CHECK(swapped > cosine_of("dog bites man", "man eats fish"));
}

/* If bytes >= 0x80 separated words, "café" would embed as "caf" and "naïve" as "na ve". */
TEST(utf8_words_stay_whole) {
    CHECK(!same_bits("café", "caf"));
    CHECK(!same_bits("naïve", "na ve"));
    CHECK(!same_bits("café", "cafe"));
    CHECK(same_bits("Café!", "café"));
    CHECK(!same_bits("日本語", "テキスト"));
    CHECK(cosine_of("un café au lait", "le café noir") > cosine_of("un café au lait", "le thé noir"));
}

/* Documented: only ASCII letters are lower-cased. */
TEST(non_ascii_letters_are_not_case_folded) { CHECK(!same_bits("ÉTÉ", "été")); }

/* Hard-coded once from the algorithm as documented; a change to the hash, the bucket or sign rule, the features
 * or their weights changes these bits. */
TEST(golden_vectors_are_fixed) {
    /* "hello" and "world" fall in bucket 5 with opposite signs and cancel; the pair is left, in bucket 0. */
    static const float hello_world[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    float v[16];
    REQUIRE(embed("hello world", 8, v));
    CHECK(memcmp(v, hello_world, sizeof hello_world) == 0);

    /* The sums are -2, 1, 0.5, 2, -1.5, ... with squares adding up to 16: norm 4. */
    static const float pangram[16] = {0,     -0.5f, 0.25f,  0,      0.125f, 0.5f,   -0.375f, 0,
                                      0.25f, 0,     -0.125f, -0.25f, 0,      -0.25f, 0.125f,  0.25f};
    REQUIRE(embed("The quick brown fox jumps over the lazy dog.", 16, v));
    CHECK(memcmp(v, pangram, sizeof pangram) == 0);

    /* A dim that is not a power of two, and a norm (sqrt 4.75) that is not exact. */
    static const float remember[12] = {0, 0, 0, 0, 0.458831459f, -0.458831459f, 0.688247204f, 0, -0.22941573f,
                                       0.22941573f, 0, 0};
    REQUIRE(embed("Hello, engram: remember this!", 12, v));
    CHECK(memcmp(v, remember, sizeof remember) == 0);
}

TEST(bad_input_is_refused_and_leaves_out_untouched) {
    float v[DIM];
    eg_error err;
    fill_sentinel(v, DIM);

    CHECK_STATUS(eg_embed_text(NULL, DIM, v, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(err.code == EG_INVALID_ARGUMENT);
    CHECK_STATUS(eg_embed_text("hello", DIM, NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_embed_text("hello", 0, v, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_embed_text("hello", EG_EMBED_DIM_MAX + 1, v, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_embed_text("hello", (size_t)-1, v, &err), EG_INVALID_ARGUMENT, &err);

    static const char *const wordless[] = {"", "  ,.; ", "\t\n\r", "!?-_=+()[]{}<>/\\|'\"`~@#$%^&*"};
    for (size_t i = 0; i < sizeof wordless / sizeof wordless[0]; i++) {
        CHECK_STATUS(eg_embed_text(wordless[i], DIM, v, &err), EG_INVALID_ARGUMENT, &err);
        CHECK(strcmp(err.message, "text has no words") == 0);
    }

    /* At dim 1 every feature shares the one bucket, and these five signed weights sum to zero. */
    CHECK_STATUS(eg_embed_text("a cat one", 1, v, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "larger dim") != NULL);
    CHECK(all_sentinel(v, 1));

    char *long_text = malloc((size_t)EG_EMBED_TEXT_MAX + 2);
    REQUIRE(long_text);
    memset(long_text, 'w', (size_t)EG_EMBED_TEXT_MAX + 1);
    long_text[EG_EMBED_TEXT_MAX + 1] = '\0';
    CHECK_STATUS(eg_embed_text(long_text, DIM, v, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "1048576") != NULL);
    free(long_text);

    /* No report wanted: the status alone. */
    CHECK(eg_embed_text(NULL, DIM, v, NULL) == EG_INVALID_ARGUMENT);
    CHECK(eg_embed_text(".", DIM, v, NULL) == EG_INVALID_ARGUMENT);

    CHECK(all_sentinel(v, DIM));
}

/* EG_EMBED_TEXT_MAX bytes holding as many words as fit: the most any bucket can sum, still exact. */
TEST(longest_text_is_accepted) {
    char *text = malloc((size_t)EG_EMBED_TEXT_MAX + 1);
    REQUIRE(text);
    for (size_t i = 0; i < EG_EMBED_TEXT_MAX; i++) text[i] = i % 2 ? ' ' : 'a';
    text[EG_EMBED_TEXT_MAX] = '\0';
    float a[DIM], b[DIM];
    CHECK(embed(text, DIM, a));
    CHECK(embed(text, DIM, b));
    CHECK(memcmp(a, b, sizeof a) == 0);
    double squares = 0;
    for (size_t i = 0; i < DIM; i++) squares += (double)a[i] * a[i];
    CHECK(fabs(squares - 1.0) < 1e-6);
    free(text);
}

int main(void) {
    RUN(same_text_gives_identical_bits);
    RUN(vectors_have_unit_length);
    RUN(case_punctuation_and_spacing_do_not_count);
    RUN(digits_are_part_of_words);
    RUN(shared_words_score_above_unrelated_text);
    RUN(word_order_counts_a_little);
    RUN(utf8_words_stay_whole);
    RUN(non_ascii_letters_are_not_case_folded);
    RUN(golden_vectors_are_fixed);
    RUN(bad_input_is_refused_and_leaves_out_untouched);
    RUN(longest_text_is_accepted);
    return test_summary();
}
