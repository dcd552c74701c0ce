// scenario.mjs — the scripted sequence of tool calls that equivalence.test.mjs sends to the reference memory server
// and to engram. Each step is { tool, args } and says how its answers compare:
//   graph: true   — a graph answer ({entities, relations}) whose two lists are compared as sets: their order is
//                   the reference's file order, incidental (docs/mcp.md, "Order"); everything else is compared as
//                   text parsed as JSON and as structured content.
//   (default)     — the exact text item and the structured content: create_entities, create_relations and
//                   add_observations answer in the order of the request, and the delete tools with a fixed message.
//   error: 'exact' — a tool failure whose message is part of the reference's answer (add_observations' missing
//                   entity), compared exactly.
//   error: 'any'  — a tool failure whose message is the validator's wording (the reference's is zod's), so only
//                   isError is compared.
// Names and observations are Unicode- and punctuation-heavy on purpose: engram maps names onto node ids
// (docs/mcp.md, "Names and types"), and every character must come back as it went in.
// Not in the script: the same name twice in one create_entities call (or a relation twice in one
// create_relations call), where engram deliberately differs (docs/mcp.md); stdio.test.mjs checks engram's answer.

const ALICE = 'Alice Ångström';
const BOB = "Bob O'Brien-Smith, Jr.";
const ZOE = 'Zoë 🚀 (rocket) ✓';
const TOKYO = '東京タワー';
const PATHY = 'path/to\\file "quoted" & <tag> %20 .dots.';
const KG = 'kg:Alice'; // looks like one of engram's own node ids
const GHOST = 'Ghost'; // named by relations before it is an entity
const LONG = 'Ω'.repeat(70); // too long for an escaped node id: engram hashes it
const SPACES = '   spaces around   ';
const CONTROL = 'tab\there, line\nbreak, bell\u0007'; // JSON.stringify writes \t and \n, and \u0007

const entity = (name, entityType, ...observations) => ({ name, entityType, observations });
const relation = (from, relationType, to) => ({ from, to, relationType });

export const STEPS = [
  { tool: 'read_graph', args: {}, graph: true },
  {
    tool: 'create_entities',
    args: {
      entities: [
        entity(ALICE, 'person', 'Likes ÄPFEL', 'speaks Ελληνικά'),
        entity(BOB, 'person', "says \"hi\" — and 'bye'"),
        entity(ZOE, 'rocket scientist 🚀'),
        entity(TOKYO, '場所', '高さ 333 m'),
        entity(PATHY, 'file', 'a\\b', '{"json": "inside"}'),
        entity(KG, 'trap', 'kg:'),
        entity(LONG, 'long', 'Ω'),
        entity(SPACES, ' type with spaces ', '  '),
        entity(CONTROL, 'control\tchars', 'line one\nline two'),
      ],
    },
  },
  // Every name exists already (with another type and other observations), but one: only that one is created.
  {
    tool: 'create_entities',
    args: { entities: [entity(ALICE, 'robot', 'new'), entity('Ünïcödé', 'letters', 'ÄÖÜ äöü ß'), entity(LONG, 'x')] },
  },
  {
    tool: 'create_relations',
    args: {
      relations: [
        relation(ALICE, 'knows', BOB),
        relation(ALICE, 'works with', BOB), // a second type between the same two
        relation(BOB, 'USES', ZOE), // exactly one of engram's types
        relation(BOB, 'uses', ZOE), // not one of them: case matters
        relation(ZOE, 'orbits', TOKYO),
        relation(PATHY, 'links → to', KG),
        relation(KG, 'haunted by', GHOST), // to a name that is not an entity
        relation(GHOST, 'haunts', LONG),
        relation(SPACES, ' ', CONTROL),
        relation(CONTROL, 'self\nloop', CONTROL),
      ],
    },
  },
  // Duplicates of held relations are skipped; the new one is answered.
  {
    tool: 'create_relations',
    args: { relations: [relation(ALICE, 'knows', BOB), relation(BOB, 'USES', ZOE), relation(TOKYO, 'near', ALICE)] },
  },
  { tool: 'open_nodes', args: { names: [GHOST] }, graph: true }, // not an entity yet: no entity, no relation
  { tool: 'create_entities', args: { entities: [entity(GHOST, 'spirit', 'boo')] } }, // now its relations connect
  {
    tool: 'add_observations',
    args: {
      observations: [
        { entityName: ALICE, contents: ['Likes ÄPFEL', 'likes äpfel', 'twice', 'twice'] }, // one held, one twice
        { entityName: TOKYO, contents: [] },
        // No NUL (\u0000) here: engram's strings hold none and refuse it, where the reference keeps it — a
        // documented difference (docs/mcp.md, "Where engram differs").
        { entityName: CONTROL, contents: ['bell\u0007 and tab\t', 'emoji 👩‍🔬'] },
      ],
    },
  },
  // A missing entity fails the whole call, and nothing of it is written (the first item included).
  {
    tool: 'add_observations',
    args: { observations: [{ entityName: BOB, contents: ['lost'] }, { entityName: 'Nobody ☹', contents: ['x'] }] },
    error: 'exact',
  },
  { tool: 'open_nodes', args: { names: [BOB] }, graph: true },
  {
    tool: 'delete_observations',
    args: {
      deletions: [
        { entityName: ALICE, observations: ['twice', 'not there'] }, // both copies go
        { entityName: 'Nobody ☹', observations: ['x'] }, // a missing entity is ignored
        { entityName: SPACES, observations: ['  '] },
      ],
    },
  },
  { tool: 'search_nodes', args: { query: 'alice' }, graph: true },
  { tool: 'search_nodes', args: { query: 'ALICE' }, graph: true },
  { tool: 'search_nodes', args: { query: 'ÅNGSTRÖM' }, graph: true },
  { tool: 'search_nodes', args: { query: 'äpfel' }, graph: true }, // ÄPFEL and äpfel
  { tool: 'search_nodes', args: { query: 'ΕΛΛΗΝΙΚΆ' }, graph: true },
  { tool: 'search_nodes', args: { query: '🚀' }, graph: true },
  { tool: 'search_nodes', args: { query: '東京' }, graph: true },
  { tool: 'search_nodes', args: { query: '"quoted"' }, graph: true },
  { tool: 'search_nodes', args: { query: 'PERSON' }, graph: true }, // entity types are searched
  { tool: 'search_nodes', args: { query: 'knows' }, graph: true }, // relation types are not
  { tool: 'search_nodes', args: { query: '.2E' }, graph: true }, // engram's id escaping must not be searchable
  { tool: 'search_nodes', args: { query: 'kg:' }, graph: true },
  { tool: 'search_nodes', args: { query: '\n' }, graph: true },
  { tool: 'search_nodes', args: { query: '' }, graph: true }, // every entity
  { tool: 'search_nodes', args: { query: 'no such thing' }, graph: true },
  { tool: 'open_nodes', args: { names: [ALICE, TOKYO, 'missing', LONG, ALICE] }, graph: true },
  { tool: 'open_nodes', args: { names: [] }, graph: true },
  {
    tool: 'delete_relations',
    args: {
      relations: [
        relation(ALICE, 'knows', BOB), // the other type between them stays
        relation(BOB, 'uses', ZOE), // USES stays
        relation(ZOE, 'never made', TOKYO), // missing: ignored
      ],
    },
  },
  { tool: 'open_nodes', args: { names: [ALICE, BOB, ZOE] }, graph: true },
  // Deleting entities deletes every relation from or to them; a missing name is ignored.
  { tool: 'delete_entities', args: { entityNames: [BOB, GHOST, 'missing'] } },
  { tool: 'read_graph', args: {}, graph: true },
  { tool: 'create_relations', args: { relations: [relation(ZOE, 'visits', 'Nowhere')] } },
  { tool: 'delete_entities', args: { entityNames: ['Nowhere'] } }, // not an entity: its relations go
  { tool: 'read_graph', args: {}, graph: true },
  // Bad arguments: tool failures on both.
  { tool: 'create_entities', args: { entities: [{ name: 42, entityType: 'number', observations: [] }] }, error: 'any' },
  { tool: 'create_entities', args: {}, error: 'any' },
  { tool: 'create_relations', args: { relations: [{ from: ALICE, to: ZOE }] }, error: 'any' },
  { tool: 'add_observations', args: { observations: [{ entityName: ALICE, contents: 'not a list' }] }, error: 'any' },
  { tool: 'delete_entities', args: { entityNames: 'Alice' }, error: 'any' },
  { tool: 'search_nodes', args: { query: 7 }, error: 'any' },
  { tool: 'open_nodes', args: {}, error: 'any' },
  { tool: 'no_such_tool', args: {}, error: 'any' }, // the reference answers an unknown tool as a tool failure
  { tool: 'read_graph', args: {}, graph: true },
];
