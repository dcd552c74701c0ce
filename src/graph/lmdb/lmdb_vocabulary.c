/* lmdb_vocabulary.c — the embedded store's one-byte codes for labels and relationship types.
 *
 * Node records, label keys and relationship keys hold a label or type as one byte. The fixed vocabulary keeps its
 * fixed codes (so stores written before open schemas read unchanged); every other name gets the next free byte
 * the first time this store writes it, recorded in meta in the writing transaction:
 *
 *   "label:<name>" -> code (u8)      "label#<code>" -> name      "labels.next" -> the next free code (u8)
 *   "type:<name>"  -> code (u8)      "type#<code>"  -> name      "types.next"  -> the next free code (u8)
 *
 * Nothing is cached in memory: a code given in a transaction that then aborts must not outlive it, and reading
 * meta in the caller's own transaction is always right. Only open names pay the extra lookup. */
#include "graph/lmdb/lmdb_graph.h"

#include <stdio.h>
#include <string.h>

typedef struct vocabulary {
    const char *prefix; /* "label" or "type" */
    int fixed;          /* codes below this are the fixed names */
} vocabulary;

static const vocabulary vocabularies[] = {{"label", EG_LABEL_COUNT}, {"type", EG_REL_TYPE_COUNT}};

static const char *global_name(lg_vocab which, int global) {
    return which == LG_VOCAB_LABEL ? eg_label_name((eg_label)global) : eg_rel_type_name((eg_rel_type)global);
}

eg_status lg_vocab_code(lmdb_graph *lg, MDB_txn *txn, lg_vocab which, int global, bool create, uint8_t *code,
                        eg_error *err) {
    const vocabulary *v = &vocabularies[which];
    if (global < v->fixed) {
        *code = (uint8_t)global;
        return EG_OK;
    }
    const char *name = global_name(which, global);
    char key[16 + EG_NAME_MAX];
    int key_len = snprintf(key, sizeof key, "%s:%s", v->prefix, name);
    MDB_val k = {(size_t)key_len, key}, value;
    int rc = mdb_get(txn, lg->meta, &k, &value);
    if (rc == 0 && value.mv_size == 1) {
        *code = *(const uint8_t *)value.mv_data;
        return EG_OK;
    }
    if (rc == 0) return eg_error_set(err, EG_CORRUPT, "the store's code of %s '%s' is damaged", v->prefix, name);
    if (rc != MDB_NOTFOUND) return lg_mdb_error(lg, rc, "read vocabulary", err);
    if (!create) return eg_error_set(err, EG_NOT_FOUND, "the store holds no %s '%s'", v->prefix, name);

    char next_key[16];
    int next_len = snprintf(next_key, sizeof next_key, "%ss.next", v->prefix);
    MDB_val nk = {(size_t)next_len, next_key}, nv;
    unsigned next = (unsigned)v->fixed;
    rc = mdb_get(txn, lg->meta, &nk, &nv);
    if (rc == 0 && nv.mv_size == 2) next = (unsigned)((const uint8_t *)nv.mv_data)[0] << 8 | ((const uint8_t *)nv.mv_data)[1];
    else if (rc != MDB_NOTFOUND) return rc ? lg_mdb_error(lg, rc, "read vocabulary", err)
                                           : eg_error_set(err, EG_CORRUPT, "the store's %s counter is damaged", v->prefix);
    if (next >= EG_STORE_NAMES_MAX)
        return eg_error_set(err, EG_CONFLICT, "the graph store holds %d %ss already, the most it can: '%s' is one more",
                            EG_STORE_NAMES_MAX, v->prefix, name);
    uint8_t assigned = (uint8_t)next, following[2] = {(uint8_t)((next + 1) >> 8), (uint8_t)(next + 1)};
    char code_key[16];
    int code_len = snprintf(code_key, sizeof code_key, "%s#", v->prefix);
    code_key[code_len++] = (char)assigned;
    MDB_val ck = {(size_t)code_len, code_key}, name_value = {strlen(name), (void *)name};
    MDB_val code_value = {1, &assigned}, next_value = {2, following};
    if ((rc = mdb_put(txn, lg->meta, &k, &code_value, 0)) || (rc = mdb_put(txn, lg->meta, &ck, &name_value, 0)) ||
        (rc = mdb_put(txn, lg->meta, &nk, &next_value, 0)))
        return lg_mdb_error(lg, rc, "write vocabulary", err);
    *code = assigned;
    return EG_OK;
}

eg_status lg_vocab_global(lmdb_graph *lg, MDB_txn *txn, lg_vocab which, uint8_t code, int *global, eg_error *err) {
    const vocabulary *v = &vocabularies[which];
    if (code < v->fixed) {
        *global = code;
        return EG_OK;
    }
    char code_key[16];
    int code_len = snprintf(code_key, sizeof code_key, "%s#", v->prefix);
    code_key[code_len++] = (char)code;
    MDB_val k = {(size_t)code_len, code_key}, value;
    int rc = mdb_get(txn, lg->meta, &k, &value);
    if (rc == MDB_NOTFOUND || (rc == 0 && (value.mv_size == 0 || value.mv_size > EG_NAME_MAX)))
        return eg_error_set(err, EG_CORRUPT, "the store uses %s code %u but does not name it", v->prefix,
                            (unsigned)code);
    if (rc) return lg_mdb_error(lg, rc, "read vocabulary", err);
    char name[EG_NAME_MAX + 1];
    memcpy(name, value.mv_data, value.mv_size);
    name[value.mv_size] = '\0';
    eg_status st;
    if (which == LG_VOCAB_LABEL) {
        eg_label label;
        if ((st = eg_label_parse(name, &label, err)) == EG_OK) *global = (int)label;
    } else {
        eg_rel_type type;
        if ((st = eg_rel_type_parse(name, &type, err)) == EG_OK) *global = (int)type;
    }
    if (st == EG_INVALID_ARGUMENT) return eg_error_set(err, EG_CORRUPT, "the store names %s code %u badly", v->prefix,
                                                       (unsigned)code);
    return st;
}

eg_status lg_vocab_size(lmdb_graph *lg, MDB_txn *txn, lg_vocab which, unsigned *size, eg_error *err) {
    const vocabulary *v = &vocabularies[which];
    char next_key[16];
    int next_len = snprintf(next_key, sizeof next_key, "%ss.next", v->prefix);
    MDB_val nk = {(size_t)next_len, next_key}, nv;
    int rc = mdb_get(txn, lg->meta, &nk, &nv);
    if (rc == MDB_NOTFOUND) {
        *size = (unsigned)v->fixed;
        return EG_OK;
    }
    if (rc) return lg_mdb_error(lg, rc, "read vocabulary", err);
    if (nv.mv_size != 2) return eg_error_set(err, EG_CORRUPT, "the store's %s counter is damaged", v->prefix);
    *size = (unsigned)((const uint8_t *)nv.mv_data)[0] << 8 | ((const uint8_t *)nv.mv_data)[1];
    return EG_OK;
}
