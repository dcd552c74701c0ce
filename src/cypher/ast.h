/* ast.h — the syntax tree of engram's Cypher subset: what the parser (parser.c) produces and the executor
 * (executor.c) runs. docs/bolt.md gives the subset as a grammar; this header is its data form.
 *
 * Every node of a tree lives in one arena owned by its cy_statement, so a statement is freed in one call and the
 * parser never leaks on an error path. Strings in the tree are NUL-terminated copies (identifiers with their
 * backquotes removed, string literals with escapes resolved; a literal may hold U+0000, so its length is kept).
 *
 * Names are kept as written: the executor resolves labels, relationship types, functions and keywords' meaning;
 * the parser only decides shape. Function names are matched case-insensitively by the executor, as in Cypher. */
#ifndef ENGRAM_CYPHER_AST_H
#define ENGRAM_CYPHER_AST_H

#include "bolt/packstream.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a construct starts in the statement text, for messages: 1-based line and column, 0-based byte offset. */
typedef struct cy_position {
    uint32_t line, column;
    size_t offset;
} cy_position;

typedef struct cy_expr cy_expr;

typedef enum cy_expr_kind {
    CY_EXPR_LITERAL,       /* literal: null, boolean, integer, float or string (a packstream value) */
    CY_EXPR_PARAMETER,     /* name: $name (or $0: the digits as the name) */
    CY_EXPR_VARIABLE,      /* name */
    CY_EXPR_PROPERTY,      /* operand.name */
    CY_EXPR_INDEX,         /* operand[index] */
    CY_EXPR_SLICE,         /* operand[from..to], either may be NULL */
    CY_EXPR_LIST,          /* [items...] */
    CY_EXPR_MAP,           /* {keys[i]: items[i], ...} */
    CY_EXPR_COMPREHENSION, /* [name IN operand WHERE filter | projection]; filter and projection may be NULL */
    CY_EXPR_CALL,          /* name(items...), distinct for count(DISTINCT x) and the like; the list predicates
                              all/any/none/single(x IN list WHERE p) have one item, a COMPREHENSION without
                              projection */
    CY_EXPR_COUNT_STAR,    /* count(*) */
    CY_EXPR_UNARY,         /* op operand: CY_OP_NOT, CY_OP_NEGATE, CY_OP_PLUS */
    CY_EXPR_BINARY,        /* left op right */
    CY_EXPR_IS_NULL,       /* operand IS NULL, or IS NOT NULL when negated */
    CY_EXPR_HAS_LABELS,    /* operand:Label1:Label2 (in WHERE) */
    CY_EXPR_CASE,          /* CASE [operand] WHEN items[2i] THEN items[2i+1] ... [ELSE otherwise] END */
    CY_EXPR_PATTERN        /* a pattern used as a predicate or a value: shortestPath((a)-[*..3]-(b)) */
} cy_expr_kind;

typedef enum cy_operator {
    CY_OP_OR,
    CY_OP_XOR,
    CY_OP_AND,
    CY_OP_NOT,
    CY_OP_EQ,
    CY_OP_NE,
    CY_OP_LT,
    CY_OP_LE,
    CY_OP_GT,
    CY_OP_GE,
    CY_OP_IN,
    CY_OP_STARTS_WITH,
    CY_OP_ENDS_WITH,
    CY_OP_CONTAINS,
    CY_OP_REGEX, /* =~ : parsed so the executor can refuse it by name */
    CY_OP_ADD,
    CY_OP_SUBTRACT,
    CY_OP_MULTIPLY,
    CY_OP_DIVIDE,
    CY_OP_MODULO,
    CY_OP_POWER,
    CY_OP_NEGATE,
    CY_OP_PLUS
} cy_operator;

typedef struct cy_pattern_part cy_pattern_part;

struct cy_expr {
    cy_expr_kind kind;
    cy_position at;
    cy_operator op;
    bool negated;         /* CY_EXPR_IS_NULL: IS NOT NULL */
    bool distinct;        /* CY_EXPR_CALL */
    eg_ps_value literal;  /* CY_EXPR_LITERAL (lives in the arena: never freed on its own) */
    const char *name;     /* PARAMETER, VARIABLE, PROPERTY (the key), CALL (as written), COMPREHENSION (variable) */
    cy_expr *operand;     /* PROPERTY, INDEX, SLICE, COMPREHENSION (the list), UNARY, IS_NULL, HAS_LABELS, CASE */
    cy_expr *left, *right;  /* BINARY; INDEX (right: the index); SLICE (left: from, right: to) */
    cy_expr *filter;        /* COMPREHENSION's WHERE */
    cy_expr *projection;    /* COMPREHENSION's | expression */
    cy_expr *otherwise;     /* CASE's ELSE */
    cy_expr **items;        /* LIST, MAP (values), CALL (arguments), CASE (when/then pairs) */
    const char **keys;      /* MAP keys; HAS_LABELS labels */
    size_t count;           /* of items (and keys) */
    cy_pattern_part *pattern; /* CY_EXPR_PATTERN */
};

/* (variable:Label1:Label2 {properties}) — every member optional. properties is a CY_EXPR_MAP or a
 * CY_EXPR_PARAMETER, or NULL. */
typedef struct cy_node_pattern {
    cy_position at;
    const char *variable;
    const char **labels;
    size_t label_count;
    cy_expr *properties;
} cy_node_pattern;

typedef enum cy_direction {
    CY_DIR_BOTH,  /* -[]- */
    CY_DIR_RIGHT, /* -[]-> */
    CY_DIR_LEFT   /* <-[]- */
} cy_direction;

/* -[variable:TYPE1|TYPE2 *min..max {properties}]-> */
typedef struct cy_rel_pattern {
    cy_position at;
    const char *variable;
    const char **types; /* alternatives; none means any type */
    size_t type_count;
    cy_direction direction;
    bool variable_length; /* a '*' was written */
    int64_t min_hops;     /* with '*': -1 when not written */
    int64_t max_hops;     /* with '*': -1 when not written (unbounded) */
    cy_expr *properties;
} cy_rel_pattern;

typedef enum cy_path_function { CY_PATH_PLAIN, CY_PATH_SHORTEST, CY_PATH_ALL_SHORTEST } cy_path_function;

/* [path_variable =] [shortestPath(] node (rel node)* [)] — nodes has rel_count + 1 entries. */
struct cy_pattern_part {
    cy_position at;
    const char *path_variable;
    cy_path_function function;
    cy_node_pattern *nodes;
    cy_rel_pattern *rels;
    size_t rel_count;
};

typedef struct cy_pattern {
    cy_pattern_part *parts;
    size_t count;
} cy_pattern;

/* One projection: expression [AS alias]. Without an alias, text is the expression as written (trimmed), which is
 * the column's name, as in Neo4j (`RETURN n.id` names its column "n.id"). */
typedef struct cy_projection_item {
    cy_expr *expression;
    const char *alias; /* NULL when not written */
    const char *text;
} cy_projection_item;

typedef struct cy_sort_item {
    cy_expr *expression;
    bool descending;
} cy_sort_item;

/* RETURN / WITH body. */
typedef struct cy_projection {
    bool distinct;
    bool star; /* RETURN * / WITH *, possibly followed by more items */
    cy_projection_item *items;
    size_t count;
    cy_sort_item *order;
    size_t order_count;
    cy_expr *skip;  /* NULL when absent */
    cy_expr *limit; /* NULL when absent */
    cy_expr *where; /* WITH ... WHERE; NULL for RETURN */
} cy_projection;

typedef enum cy_set_kind {
    CY_SET_PROPERTY,   /* target.name = value (target: any expression yielding a node or relationship) */
    CY_SET_REPLACE,    /* variable = value (a map, node or relationship: replaces every property) */
    CY_SET_MERGE,      /* variable += value */
    CY_SET_LABELS,     /* variable:Label... */
    CY_REMOVE_PROPERTY, /* REMOVE target.name */
    CY_REMOVE_LABELS    /* REMOVE variable:Label... */
} cy_set_kind;

typedef struct cy_set_item {
    cy_position at;
    cy_set_kind kind;
    const char *variable; /* REPLACE, MERGE, LABELS, REMOVE_LABELS */
    cy_expr *target;      /* PROPERTY, REMOVE_PROPERTY: the expression before '.name' */
    const char *name;     /* PROPERTY, REMOVE_PROPERTY */
    cy_expr *value;       /* PROPERTY, REPLACE, MERGE */
    const char **labels;  /* LABELS, REMOVE_LABELS */
    size_t label_count;
} cy_set_item;

typedef struct cy_set_list {
    cy_set_item *items;
    size_t count;
} cy_set_list;

typedef enum cy_clause_kind {
    CY_CLAUSE_MATCH,    /* [OPTIONAL] MATCH pattern [WHERE where] */
    CY_CLAUSE_UNWIND,   /* UNWIND expression AS variable */
    CY_CLAUSE_WITH,     /* WITH projection */
    CY_CLAUSE_RETURN,   /* RETURN projection */
    CY_CLAUSE_CREATE,   /* CREATE pattern */
    CY_CLAUSE_MERGE,    /* MERGE pattern (one part) [ON CREATE SET on_create] [ON MATCH SET on_match] */
    CY_CLAUSE_SET,      /* SET set (items of the SET kinds) */
    CY_CLAUSE_REMOVE,   /* REMOVE set (items of the REMOVE kinds) */
    CY_CLAUSE_DELETE,   /* [DETACH] DELETE expressions */
    CY_CLAUSE_CALL      /* CALL name(arguments) [YIELD ...]: parsed so the executor can refuse it by name */
} cy_clause_kind;

typedef struct cy_clause {
    cy_position at;
    cy_clause_kind kind;
    bool optional; /* OPTIONAL MATCH */
    bool detach;   /* DETACH DELETE */
    cy_pattern pattern;
    cy_expr *where;
    cy_expr *expression; /* UNWIND */
    const char *variable; /* UNWIND's AS; CALL's procedure name */
    cy_projection projection;
    cy_set_list set;
    cy_set_list on_create, on_match;
    cy_expr **expressions; /* DELETE's targets; CALL's arguments */
    size_t expression_count;
} cy_clause;

typedef enum cy_statement_kind {
    CY_STATEMENT_QUERY,             /* clauses */
    CY_STATEMENT_CREATE_CONSTRAINT, /* CREATE CONSTRAINT [name] [IF NOT EXISTS] FOR (v:label) REQUIRE v.property
                                       IS UNIQUE (also the older ON ... ASSERT ... form) */
    CY_STATEMENT_CREATE_INDEX,      /* CREATE INDEX [name] [IF NOT EXISTS] FOR (v:label) ON (v.property) */
    CY_STATEMENT_DROP_CONSTRAINT,   /* DROP CONSTRAINT name [IF EXISTS] */
    CY_STATEMENT_DROP_INDEX,        /* DROP INDEX name [IF EXISTS] */
    CY_STATEMENT_SHOW_CONSTRAINTS,  /* SHOW [ALL] CONSTRAINTS */
    CY_STATEMENT_SHOW_INDEXES       /* SHOW [ALL] INDEXES */
} cy_statement_kind;

typedef struct cy_arena cy_arena; /* arena.c */

typedef struct cy_statement {
    cy_statement_kind kind;
    cy_clause *clauses;
    size_t clause_count;
    /* Schema statements. */
    const char *schema_name; /* NULL when not written */
    bool if_not_exists;      /* CREATE ... IF NOT EXISTS / DROP ... IF EXISTS */
    const char *schema_label;
    const char *schema_property;
    cy_arena *arena;
} cy_statement;

#endif
