/* engram/settings.h — every tunable of engram: its one file, DATA/engram.conf, and per-process overrides.
 *
 * The known settings form a fixed table; each is an integer with a range or one of a list of words, and has a
 * default and a one-line description (docs/settings.md lists them all, and `engram config` prints them):
 *
 *   breaker.failure_threshold    1..1000000     5      consecutive infrastructure failures that open a store's
 *                                                      circuit breaker
 *   breaker.success_threshold    1..1000000     2      successful probes that close a half-open breaker
 *   breaker.reset_timeout_ms     1..86400000    60000  how long a breaker stays open before a probe
 *   breaker.half_open_max_calls  1..1000        1      probes allowed at once in half-open
 *   degrade.write_policy         fail|queue     fail   what a memory write does when a store is unavailable
 *   degrade.cache_entries        0..10000000    1000   read results kept for the fallback cache; 0 disables it
 *   degrade.queue_max            1..100000000   10000  writes the durable queue may hold per store
 *   durability                   group|fsync|none group when an acknowledged write is on disk
 *   saga.step_timeout_ms         1..86400000    60000  a saga step slower than this is treated as failed
 *   saga.compensation_attempts   1..100         3      attempts at each compensation before a dead letter
 *   archive.path, archive.retention_days, vectors.index_threads, the vector backend's (vectors.backend lmdb|qdrant,
 *   and for qdrant vectors.url, vectors.api_key, vectors.ca_file, vectors.timeout_ms, vectors.batch_size,
 *   vectors.max_concurrency, vectors.collection_prefix, vectors.shard_number, vectors.replication_factor,
 *   vectors.write_consistency_factor: docs/backends.md), and the serve.* settings of `engram serve` (serve.http,
 *   serve.api_key, serve.threads, serve.max_body_bytes, serve.max_connections, serve.idle_timeout_ms):
 *   docs/settings.md. Secret settings (the API keys) are listed as "(set)", never shown; a URL is listed without
 *   its user information.
 *
 * Where a value comes from, last one winning: the default; else the line of DATA/engram.conf; else an override
 * given to eg_settings_load (`engram --set NAME=VALUE`), which lasts for that process only.
 *
 * The file, DATA/engram.conf:
 *   - UTF-8 text of at most EG_SETTINGS_FILE_MAX bytes (64 KiB), one setting per line: `name = value`;
 *   - spaces, tabs and carriage returns around the name and the value are ignored (so CRLF line ends work), and
 *     so is a UTF-8 byte-order mark at the very start;
 *   - blank lines, and lines whose first non-blank character is '#', are ignored; there are no comments at the
 *     end of a line ("5 # five" is the value "5 # five", which is refused);
 *   - names are exact and case-sensitive; each may appear at most once;
 *   - an integer is decimal digits with an optional leading '-' (no '+', no exponent, no hex, no unit), and
 *     must lie in its range; a word must be one of its list, exactly (lower case).
 * A file that breaks any of these rules is refused whole: loading fails with EG_INVALID_ARGUMENT and a message
 * naming the line and the problem, e.g.
 *   engram.conf line 3: unknown setting 'breaker.failur_threshold'; did you mean 'breaker.failure_threshold'?
 *   engram.conf line 5: breaker.reset_timeout_ms = 0 is out of range 1..86400000
 *   engram.conf line 7: expected name = value
 *   engram.conf line 9: breaker.failure_threshold is set again (first on line 2)
 *   engram.conf line 4: breaker.failure_threshold = '5x' is not an integer
 *   engram.conf line 6: contains a NUL byte
 * so that a data folder never opens with a configuration understood only in part. engram never writes the file;
 * it is the operator's. */
#ifndef ENGRAM_SETTINGS_H
#define ENGRAM_SETTINGS_H

#include <engram/status.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EG_SETTINGS_FILE "engram.conf"     /* its name inside the data folder */
#define EG_SETTINGS_FILE_MAX (64u * 1024u) /* bytes */

/* The value of every setting, fixed once loaded: any number of threads may read it. */
typedef struct eg_settings eg_settings;

/* Loads the settings of the data folder data_dir: the defaults, then DATA/engram.conf when it exists (a missing
 * file, or a missing folder, means all defaults; reading never creates either), then the overrides in order.
 * data_dir NULL skips the file (defaults and overrides only).
 *
 * overrides is an array of override_count assignments "NAME=VALUE" (it may be NULL when override_count is 0);
 * spaces around NAME and VALUE are ignored. A later override of the same name wins over an earlier one.
 *
 * Errors: EG_INVALID_ARGUMENT for a bad file (see above; an override of the same setting does not excuse it)
 * or a bad override, whose message starts with
 * "override: " (or "override 'TEXT': " when it has no '='), e.g.
 *   override: unknown setting 'durabilty'; did you mean 'durability'?
 * EG_IO when the file exists but cannot be read (permissions, a folder of that name); EG_INTERNAL when memory
 * runs out. On success *out is a new object for eg_settings_free; on failure *out is untouched. */
eg_status eg_settings_load(const char *data_dir, const char *const *overrides, size_t override_count,
                           eg_settings **out, eg_error *err);

/* Checks one override "NAME=VALUE" exactly as eg_settings_load would, without reading any file: the command
 * line uses it to refuse a bad --set before touching the data folder. Same errors and messages. */
eg_status eg_settings_validate_override(const char *assignment, eg_error *err);

/* The value of the integer setting `name`. */
int64_t eg_settings_int(const eg_settings *s, const char *name);

/* The value of the word setting `name`: one of its allowed words, a string that lives as long as the program. */
const char *eg_settings_word(const eg_settings *s, const char *name);

/* The value of the text setting `name` (archive.path), valid as long as s. */
const char *eg_settings_text(const eg_settings *s, const char *name);

/* For these getters, a name that is not in the table, or is of the other type, is a bug in the caller, never a
 * matter of input: the process prints the name on stderr and aborts, so that a misspelt name cannot pass
 * silently for a default. */

/* A listing for `engram config`: *out becomes a new JSON array (caller decrefs), one object per setting in the
 * table's order:
 *   {"name": "breaker.failure_threshold", "value": 5, "default": 5, "source": "default",
 *    "description": "...", "allowed": "1..1000000"}
 * value and default are JSON integers for integer settings and strings for word settings; source is
 * "default", "file" (DATA/engram.conf) or "override"; allowed is "MIN..MAX" or the words joined by '|'
 * ("fail|queue"). EG_INTERNAL when memory runs out. */
eg_status eg_settings_list(const eg_settings *s, json_t **out, eg_error *err);

/* Frees s. NULL is ignored. */
void eg_settings_free(eg_settings *s);

#ifdef __cplusplus
}
#endif
#endif
