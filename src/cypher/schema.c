/* schema.c — the schema commands: CREATE CONSTRAINT (the FOR ... REQUIRE form and the older ON ... ASSERT one,
 * uniqueness of one property of one label only), CREATE INDEX (FOR ... ON, and the older ON :Label(property)),
 * DROP CONSTRAINT / DROP INDEX by name, SHOW CONSTRAINTS and SHOW INDEXES. */
#include "cypher/parser_internal.h"

#include <string.h>

bool cy_at_schema_command(cy_parser *p) {
    if (cy_peek_keyword(p, 0, "CREATE"))
        return cy_peek_keyword(p, 1, "CONSTRAINT") || cy_peek_keyword(p, 1, "INDEX");
    return cy_peek_keyword(p, 0, "DROP") || cy_peek_keyword(p, 0, "SHOW");
}

/* [name] [IF NOT EXISTS]: a plain name may not be the keyword that follows it (IF, FOR, ON). */
static void parse_name_and_if_not_exists(cy_parser *p, cy_statement *s) {
    const cy_token *t = cy_peek(p, 0);
    bool keyword = cy_is_keyword(t, "IF") || cy_is_keyword(t, "FOR") || cy_is_keyword(t, "ON");
    if (cy_peek_name(p, 0) && !keyword) s->schema_name = cy_take(p).text;
    if (cy_accept_keyword(p, "IF")) {
        cy_expect_keyword(p, "NOT");
        cy_expect_keyword(p, "EXISTS");
        s->if_not_exists = true;
    }
}

/* (v:Label); returns v. */
static cy_token parse_labelled_node(cy_parser *p, cy_statement *s) {
    cy_expect(p, CY_TOKEN_LPAREN, "'(' and a node pattern such as (n:Label)");
    if (!cy_peek_name(p, 0)) cy_fail_expected(p, "a variable name");
    cy_token variable = cy_take(p);
    cy_expect(p, CY_TOKEN_COLON, "':' and a label");
    s->schema_label = cy_expect_name(p, "a label name");
    cy_expect(p, CY_TOKEN_RPAREN, "')' (one label only)");
    return variable;
}

/* v.property, v being the node pattern's variable. */
static void parse_property_of(cy_parser *p, cy_statement *s, const cy_token *variable) {
    if (!cy_peek_name(p, 0)) cy_fail_expected(p, "a property such as n.name");
    cy_token used = cy_take(p);
    if (strcmp(used.text, variable->text) != 0) cy_fail_at(p, used.at, "Variable `%s` not defined", used.text);
    cy_expect(p, CY_TOKEN_DOT, "'.' and a property name");
    s->schema_property = cy_expect_name(p, "a property name");
}

static void parse_create_constraint(cy_parser *p, cy_statement *s) {
    s->kind = CY_STATEMENT_CREATE_CONSTRAINT;
    parse_name_and_if_not_exists(p, s);
    bool older_form = cy_accept_keyword(p, "ON");
    if (!older_form) cy_expect_keyword(p, "FOR");
    cy_token variable = parse_labelled_node(p, s);
    cy_expect_keyword(p, older_form ? "ASSERT" : "REQUIRE");
    bool parenthesised = cy_accept(p, CY_TOKEN_LPAREN);
    parse_property_of(p, s, &variable);
    if (parenthesised) cy_expect(p, CY_TOKEN_RPAREN, "')' (one property only)");
    cy_expect_keyword(p, "IS");
    if (!cy_accept_keyword(p, "UNIQUE")) cy_fail_expected(p, "UNIQUE (the only kind of constraint engram has)");
}

static void parse_create_index(cy_parser *p, cy_statement *s) {
    s->kind = CY_STATEMENT_CREATE_INDEX;
    if (cy_peek_keyword(p, 0, "ON") && cy_peek(p, 1)->kind == CY_TOKEN_COLON) {
        cy_take(p);
        cy_take(p);
        s->schema_label = cy_expect_name(p, "a label name");
        cy_expect(p, CY_TOKEN_LPAREN, "'(' and a property name");
        s->schema_property = cy_expect_name(p, "a property name");
        cy_expect(p, CY_TOKEN_RPAREN, "')' (one property only)");
        return;
    }
    parse_name_and_if_not_exists(p, s);
    cy_expect_keyword(p, "FOR");
    cy_token variable = parse_labelled_node(p, s);
    cy_expect_keyword(p, "ON");
    cy_expect(p, CY_TOKEN_LPAREN, "'(' and a property such as (n.name)");
    parse_property_of(p, s, &variable);
    cy_expect(p, CY_TOKEN_RPAREN, "')' (one property only)");
}

static void parse_drop(cy_parser *p, cy_statement *s) {
    if (cy_accept_keyword(p, "CONSTRAINT"))
        s->kind = CY_STATEMENT_DROP_CONSTRAINT;
    else if (cy_accept_keyword(p, "INDEX"))
        s->kind = CY_STATEMENT_DROP_INDEX;
    else
        cy_fail_expected(p, "CONSTRAINT or INDEX after DROP");
    s->schema_name = cy_expect_name(p, s->kind == CY_STATEMENT_DROP_INDEX ? "an index name" : "a constraint name");
    if (cy_accept_keyword(p, "IF")) {
        cy_expect_keyword(p, "EXISTS");
        s->if_not_exists = true;
    }
}

/* SHOW [ALL|UNIQUE] CONSTRAINT[S] / SHOW [ALL|RANGE] INDEX[ES]: the kinds engram has, or all of them. */
static void parse_show(cy_parser *p, cy_statement *s) {
    bool all = cy_accept_keyword(p, "ALL");
    bool unique = !all && cy_accept_keyword(p, "UNIQUE");
    bool range = !all && !unique && cy_accept_keyword(p, "RANGE");
    if (!range && (cy_accept_keyword(p, "CONSTRAINTS") || cy_accept_keyword(p, "CONSTRAINT"))) {
        s->kind = CY_STATEMENT_SHOW_CONSTRAINTS;
    } else if (!unique && (cy_accept_keyword(p, "INDEXES") || cy_accept_keyword(p, "INDEX"))) {
        s->kind = CY_STATEMENT_SHOW_INDEXES;
    } else {
        cy_fail_expected(p, unique  ? "CONSTRAINTS"
                            : range ? "INDEXES"
                                    : "[ALL|UNIQUE] CONSTRAINTS or [ALL|RANGE] INDEXES");
    }
}

void cy_parse_schema_command(cy_parser *p, cy_statement *s) {
    if (cy_accept_keyword(p, "SHOW")) {
        parse_show(p, s);
    } else if (cy_accept_keyword(p, "DROP")) {
        parse_drop(p, s);
    } else {
        cy_expect_keyword(p, "CREATE");
        if (cy_accept_keyword(p, "CONSTRAINT"))
            parse_create_constraint(p, s);
        else if (cy_accept_keyword(p, "INDEX"))
            parse_create_index(p, s);
    }
}
