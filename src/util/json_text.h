/* json_text.h — engram's JSON text: every real in the shortest decimal that reads back to the same number.
 *
 * jansson prints every real with 17 significant digits, so a float32 0.1f, stored as the double
 * 0.100000001490116119384765625, comes out as 0.10000000149011612. engram writes all its JSON text (exec
 * results, log records, archive files, stored payloads) through eg_json_text, which prints each real as the
 * shortest decimal that reads back to the same double, and builds float32 values with eg_json_float, which stores
 * a float as the double nearest to the float's own shortest decimal. So one rule covers both kinds of number:
 *   - a float32 f prints as the shortest decimal that reads back to f (0.1f as 0.1), and the double read back
 *     narrows to f again, as does text written before this rule (17 digits);
 *   - a double (a user's payload number, a score, a weight) prints as the shortest decimal that reads back to the
 *     same double, bit for bit. */
#ifndef ENGRAM_JSON_TEXT_H
#define ENGRAM_JSON_TEXT_H

#include <engram/exec.h> /* eg_json_text, public because the command writes JSON too */

#include <jansson.h>
#include <stddef.h>

/* Longest text eg_double_text or eg_float_text writes, with its NUL: "-2.2250738585072014e-308". */
#define EG_NUMBER_TEXT_MAX 32

/* The shortest decimal that strtod reads back as d (finite), in JSON: fixed notation for magnitudes from 1e-4 to
 * below 1e16 and exponent notation outside ("1e-05" is "1e-5"), always with a '.' or an 'e' so that it reads
 * back as a real ("1.0", not "1"). Returns the length. */
int eg_double_text(double d, char out[EG_NUMBER_TEXT_MAX]);

/* The shortest decimal that reads back as f (finite) when read as JSON readers read a float32: as a double, then
 * narrowed (strtof reads the same float from it). The same notation. Returns the length. */
int eg_float_text(float f, char out[EG_NUMBER_TEXT_MAX]);

/* The double nearest to f's shortest decimal: it converts back to f, and eg_json_text prints it as that decimal. */
double eg_float_as_double(float f);

/* A new JSON real holding float f as eg_float_as_double does; NULL when f is not finite or memory runs out. */
json_t *eg_json_float(float f);

#endif
