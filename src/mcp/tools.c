/* tools.c — the table of tools tools/list gives and tools/call looks up: the reference memory server's nine
 * (@modelcontextprotocol/server-memory: same names, titles, descriptions, input and output schemas and
 * annotations, so that a client written for it sees no difference), then engram's own eight (docs/mcp.md,
 * "## Tools"). The schemas are the JSON Schema the reference's zod definitions produce. */
#include "mcp/tools_internal.h"

#include <stdlib.h>
#include <string.h>

/* The reference's schemas are what its SDK makes of its zod definitions: draft-07, and an input object accepts
 * other members (they are ignored) where an output object does not. */
#define DRAFT7 "\"$schema\":\"http://json-schema.org/draft-07/schema#\","
#define CLOSED ",\"additionalProperties\":false"
#define IN_OBJECT(props, required)                                                                                   \
    "{" DRAFT7 "\"type\":\"object\",\"properties\":{" props "},\"required\":[" required "]}"
#define OUT_OBJECT(props, required)                                                                                  \
    "{" DRAFT7 "\"type\":\"object\",\"properties\":{" props "},\"required\":[" required "]" CLOSED "}"

#define ENTITY_ITEM(closed)                                                                                          \
    "{\"type\":\"object\",\"properties\":{"                                                                          \
    "\"name\":{\"type\":\"string\",\"description\":\"The name of the entity\"},"                                     \
    "\"entityType\":{\"type\":\"string\",\"description\":\"The type of the entity\"},"                               \
    "\"observations\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"                                          \
    "\"description\":\"An array of observation contents associated with the entity\"}},"                             \
    "\"required\":[\"name\",\"entityType\",\"observations\"]" closed "}"

#define RELATION_ITEM(closed)                                                                                        \
    "{\"type\":\"object\",\"properties\":{"                                                                          \
    "\"from\":{\"type\":\"string\",\"description\":\"The name of the entity where the relation starts\"},"           \
    "\"to\":{\"type\":\"string\",\"description\":\"The name of the entity where the relation ends\"},"               \
    "\"relationType\":{\"type\":\"string\",\"description\":\"The type of the relation\"}},"                          \
    "\"required\":[\"from\",\"to\",\"relationType\"]" closed "}"

#define GRAPH_SCHEMA                                                                                                 \
    OUT_OBJECT("\"entities\":{\"type\":\"array\",\"items\":" ENTITY_ITEM(CLOSED) "},"                                \
               "\"relations\":{\"type\":\"array\",\"items\":" RELATION_ITEM(CLOSED) "}",                              \
               "\"entities\",\"relations\"")

#define SUCCESS_SCHEMA                                                                                               \
    OUT_OBJECT("\"success\":{\"type\":\"boolean\"},\"message\":{\"type\":\"string\"}", "\"success\",\"message\"")

#define OBJECT(props, required) "{\"type\":\"object\",\"properties\":{" props "},\"required\":[" required "]," \
    "\"additionalProperties\":false}"
/* engram's own tools' answers may carry more than their schema lists (health's stores, recall's nodes). */
#define OPEN_OBJECT(props, required) "{\"type\":\"object\",\"properties\":{" props "},\"required\":[" required "]}"

/* engram's own tools: a memory type, ids, and what recall answers. */
#define MEMORY_TYPE                                                                                                  \
    "\"type\":{\"type\":\"string\",\"enum\":[\"episode\",\"entity\",\"procedure\"],"
#define MEMORY_ID "\"id\":{\"type\":\"string\",\"description\":\"The memory's id (as remember answered it)\"}"
#define ID_AND_TYPE OBJECT("\"id\":{\"type\":\"string\"},\"type\":{\"type\":\"string\"}", "\"id\",\"type\"")

static const eg_mcp_tool tools[] = {
    {"create_entities", "Create Entities", "Create multiple new entities in the knowledge graph",
     IN_OBJECT("\"entities\":{\"type\":\"array\",\"items\":" ENTITY_ITEM("") "}", "\"entities\""),
     OUT_OBJECT("\"entities\":{\"type\":\"array\",\"items\":" ENTITY_ITEM(CLOSED) "}", "\"entities\""), false, false,
     false, false, eg_mcp_create_entities},
    {"create_relations", "Create Relations",
     "Create multiple new relations between entities in the knowledge graph. Relations should be in active voice",
     IN_OBJECT("\"relations\":{\"type\":\"array\",\"items\":" RELATION_ITEM("") "}", "\"relations\""),
     OUT_OBJECT("\"relations\":{\"type\":\"array\",\"items\":" RELATION_ITEM(CLOSED) "}", "\"relations\""), false,
     false, false, false, eg_mcp_create_relations},
    {"add_observations", "Add Observations", "Add new observations to existing entities in the knowledge graph",
     IN_OBJECT("\"observations\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
               "\"entityName\":{\"type\":\"string\",\"description\":\"The name of the entity to add the observations "
               "to\"},\"contents\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":\"An array of "
               "observation contents to add\"}},\"required\":[\"entityName\",\"contents\"]}}",
               "\"observations\""),
     OUT_OBJECT("\"results\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
                "\"entityName\":{\"type\":\"string\"},\"addedObservations\":{\"type\":\"array\",\"items\":"
                "{\"type\":\"string\"}}},\"required\":[\"entityName\",\"addedObservations\"]" CLOSED "}}",
                "\"results\""),
     false, false, false, false, eg_mcp_add_observations},
    {"delete_entities", "Delete Entities",
     "Delete multiple entities and their associated relations from the knowledge graph",
     IN_OBJECT("\"entityNames\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
               "\"description\":\"An array of entity names to delete\"}",
               "\"entityNames\""),
     SUCCESS_SCHEMA, false, true, true, false, eg_mcp_delete_entities},
    {"delete_observations", "Delete Observations", "Delete specific observations from entities in the knowledge graph",
     IN_OBJECT("\"deletions\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
               "\"entityName\":{\"type\":\"string\",\"description\":\"The name of the entity containing the "
               "observations\"},\"observations\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
               "\"description\":\"An array of observations to delete\"}},"
               "\"required\":[\"entityName\",\"observations\"]}}",
               "\"deletions\""),
     SUCCESS_SCHEMA, false, true, true, false, eg_mcp_delete_observations},
    {"delete_relations", "Delete Relations", "Delete multiple relations from the knowledge graph",
     IN_OBJECT("\"relations\":{\"type\":\"array\",\"items\":" RELATION_ITEM("")
               ",\"description\":\"An array of relations to delete\"}",
               "\"relations\""),
     SUCCESS_SCHEMA, false, true, true, false, eg_mcp_delete_relations},
    {"read_graph", "Read Graph", "Read the entire knowledge graph",
     "{" DRAFT7 "\"type\":\"object\",\"properties\":{}}", GRAPH_SCHEMA, true, false, true, false, eg_mcp_read_graph},
    {"search_nodes", "Search Nodes", "Search for nodes in the knowledge graph based on a query",
     IN_OBJECT("\"query\":{\"type\":\"string\",\"description\":\"The search query to match against entity names, "
               "types, and observation content\"}",
               "\"query\""),
     GRAPH_SCHEMA, true, false, true, false, eg_mcp_search_nodes},
    {"open_nodes", "Open Nodes", "Open specific nodes in the knowledge graph by their names",
     IN_OBJECT("\"names\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
               "\"description\":\"An array of entity names to retrieve\"}",
               "\"names\""),
     GRAPH_SCHEMA, true, false, true, false, eg_mcp_open_nodes},

    {"remember", "Remember",
     "Store a memory: its text is embedded (by engram's lexical embedder unless a vector is given) for recall, and "
     "kept with the memory; optionally linked to existing memories or entities",
     OBJECT("\"text\":{\"type\":\"string\",\"description\":\"What to remember\"}," MEMORY_TYPE
            "\"description\":\"The kind of memory (default episode)\"},"
            "\"session\":{\"type\":\"string\",\"description\":\"The session it belongs to\"},"
            "\"vector\":{\"type\":\"array\",\"items\":{\"type\":\"number\"},\"description\":\"An embedding to "
            "store instead of embedding the text\"},"
            "\"relations\":{\"type\":\"array\",\"items\":" OBJECT(
                "\"target\":{\"type\":\"string\",\"description\":\"The id of an existing memory or node\"},"
                "\"type\":{\"type\":\"string\",\"description\":\"A relationship type, e.g. RELATES_TO\"}",
                "\"target\",\"type\"") ",\"description\":\"Relationships from the new memory\"}",
            "\"text\""),
     OBJECT("\"id\":{\"type\":\"string\"},\"type\":{\"type\":\"string\"}", "\"id\",\"type\""), false, false, false,
     false, eg_mcp_remember},
    {"recall", "Recall",
     "Find the memories most similar to a text (or a vector), best first, each with its graph neighbours",
     OBJECT("\"text\":{\"type\":\"string\",\"description\":\"What to look for\"},"
            "\"vector\":{\"type\":\"array\",\"items\":{\"type\":\"number\"},\"description\":\"An embedding to "
            "search with instead of a text\"}," MEMORY_TYPE "\"description\":\"Search only this kind (default: all)\"},"
            "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000,\"description\":\"At most this many "
            "memories (default 10)\"},"
            "\"filter\":{\"type\":\"object\",\"description\":\"A payload filter, as engram's search takes it\"},"
            "\"session\":{\"type\":\"string\",\"description\":\"Only memories of this session\"},"
            "\"expand\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":2,\"description\":\"Graph hops of "
            "neighbours to include (default 1)\"}",
            ""),
     OPEN_OBJECT("\"memories\":{\"type\":\"array\",\"items\":" OPEN_OBJECT(
                "\"id\":{\"type\":\"string\"},\"type\":{\"type\":\"string\"},\"score\":{\"type\":\"number\"},"
                "\"text\":{\"type\":[\"string\",\"null\"]},\"payload\":{\"type\":\"object\"},"
                "\"relationships\":{\"type\":\"array\"},\"neighbors\":{\"type\":\"array\"}",
                "\"id\",\"type\",\"score\",\"text\",\"payload\",\"relationships\",\"neighbors\"") "}",
            "\"memories\""),
     true, false, true, false, eg_mcp_recall},
    {"forget", "Forget", "Delete a memory and its relationships",
     OBJECT(MEMORY_ID "," MEMORY_TYPE "\"description\":\"Its kind (default: whichever holds the id)\"}", "\"id\""),
     ID_AND_TYPE, false, true, true, false, eg_mcp_forget},
    {"relate", "Relate", "Link two memories or nodes by a typed relationship",
     OBJECT("\"source\":{\"type\":\"string\",\"description\":\"The id the relationship starts from\"},"
            "\"target\":{\"type\":\"string\",\"description\":\"The id it points to\"},"
            "\"type\":{\"type\":\"string\",\"description\":\"One of engram's relationship types, e.g. "
            "RELATES_TO, CAUSES, PART_OF\"},"
            "\"properties\":{\"type\":\"object\",\"description\":\"Properties of the relationship\"}",
            "\"source\",\"target\",\"type\""),
     OBJECT("\"source\":{\"type\":\"string\"},\"target\":{\"type\":\"string\"},\"type\":{\"type\":\"string\"}",
            "\"source\",\"target\",\"type\""),
     false, false, true, false, eg_mcp_relate},
    {"find_path", "Find Path", "The shortest chain of relationships between two memories or nodes, if any",
     OBJECT("\"source\":{\"type\":\"string\"},\"target\":{\"type\":\"string\"},"
            "\"max_depth\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10,\"description\":\"At most this many "
            "relationships (default 5)\"},"
            "\"types\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":\"Only these "
            "relationship types (default all)\"}",
            "\"source\",\"target\""),
     OPEN_OBJECT("\"path\":{\"type\":[\"object\",\"null\"]}", "\"path\""), true, false, true, false, eg_mcp_find_path},
    {"archive", "Archive", "Move a memory out of the hot stores into engram's cold archive",
     OBJECT(MEMORY_ID "," MEMORY_TYPE "\"description\":\"Its kind (default: whichever holds the id)\"}", "\"id\""),
     ID_AND_TYPE, false, false, false, false, eg_mcp_archive},
    {"restore", "Restore", "Bring an archived memory back into the hot stores",
     OBJECT(MEMORY_ID, "\"id\""), OBJECT("\"id\":{\"type\":\"string\"}", "\"id\""), false, false, false, false,
     eg_mcp_restore},
    {"health", "Health", "engram's stores' state: ok, degraded or down, with their circuit breakers and queues",
     OBJECT("", ""),
     OPEN_OBJECT("\"status\":{\"type\":\"string\",\"enum\":[\"ok\",\"degraded\",\"down\"]}", "\"status\""),
     true, false, true, false, eg_mcp_health},
};

const eg_mcp_tool *eg_mcp_tools(size_t *count) {
    *count = sizeof tools / sizeof tools[0];
    return tools;
}

const eg_mcp_tool *eg_mcp_tool_named(const char *name) {
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++)
        if (strcmp(tools[i].name, name) == 0) return &tools[i];
    return NULL;
}

void eg_mcp_tool_result_free(eg_mcp_tool_result *result) {
    json_decref(result->structured);
    free(result->text);
    result->structured = NULL;
    result->text = NULL;
    result->is_error = false;
}
