/* kg_names.h — how the reference memory server's free-text names and relation types live in engram's graph
 * (docs/mcp.md, "## Names and types").
 *
 * An entity's node id is derived from its name alone, so that a name is found without a scan and the same name
 * always lands on the same node: "kg:" and the name's bytes with A-Z a-z 0-9 _ - kept and every other byte written
 * ".HH" (two upper-case hex digits; '.' itself is ".2E"), which is injective; when that passes engram's 128
 * characters, "kgh:" and the SHA-256 of the name in hex. The exact name is the node's `name` property. */
#ifndef ENGRAM_MCP_KG_NAMES_H
#define ENGRAM_MCP_KG_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define EG_KG_ID_MAX 129 /* engram's 128 id characters and the NUL */

/* The node id of the entity named name (len bytes, any content). */
void eg_kg_entity_id(const char *name, size_t len, char out[EG_KG_ID_MAX]);

/* What every such id starts with: listing nodes after it reaches them all, and only ids of this prefix. */
#define EG_KG_ID_SCAN_START "kg"

/* Whether id is one eg_kg_entity_id makes (so the node is the knowledge graph's, not a memory). */
bool eg_kg_is_entity_id(const char *id);

/* The engram relationship type a relation type is stored under: itself when it is exactly one of the 17 t4dm
 * types, else RELATES_TO; the relationship's `relationTypes` property lists the texts it carries. */
const char *eg_kg_engram_type(const char *relation_type);

#endif
