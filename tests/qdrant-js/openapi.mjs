// openapi.mjs — Qdrant's OpenAPI document (../shared/reference/qdrant/openapi-1.19.json relative to the repository,
// or $ENGRAM_QDRANT_OPENAPI) loaded into Ajv, shared by the client tests (helpers.mjs: responses) and the recording
// proxy (recording-proxy.mjs: the request bodies the Qdrant backend sends).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const here = dirname(fileURLToPath(import.meta.url));
export const openapiPath =
  process.env.ENGRAM_QDRANT_OPENAPI || join(here, '..', '..', '..', 'shared', 'reference', 'qdrant', 'openapi-1.19.json');
/** The $id the document is registered under: refs are `${DOCUMENT_ID}#/json/pointer`. */
export const DOCUMENT_ID = 'qdrant-openapi.json';

/** OpenAPI 3.0's `nullable` as JSON Schema: null joins the type (or the enum); a bare {nullable: true} is any. */
function toJsonSchema(node) {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) if (key !== 'nullable') out[key] = toJsonSchema(value);
  if (node.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  return out;
}

/**
 * The document in Ajv: { ajv, paths, compiled } (compiled: a cache of validators by ref), or null when the document
 * is absent, which it says on stdout. what: what gets validated, for that line ("responses", "request bodies").
 */
export function loadOpenApi(what = 'responses') {
  if (!existsSync(openapiPath)) {
    console.log(`OpenAPI schema not found: ${what} not validated against Qdrant's schema (looked for ${openapiPath}; ` +
      'set ENGRAM_QDRANT_OPENAPI)');
    return null;
  }
  const document = toJsonSchema(JSON.parse(readFileSync(openapiPath, 'utf8')));
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // Qdrant's numeric formats: the JSON type already says number or integer; these bound the range.
  const unsigned = (bits) => (n) => Number.isInteger(n) && n >= 0 && (bits >= 53 || n < 2 ** bits);
  ajv.addFormat('uint', { type: 'number', validate: unsigned(64) });
  ajv.addFormat('uint64', { type: 'number', validate: unsigned(64) });
  ajv.addFormat('uint32', { type: 'number', validate: unsigned(32) });
  ajv.addFormat('uint8', { type: 'number', validate: unsigned(8) });
  ajv.addFormat('int64', { type: 'number', validate: Number.isInteger });
  ajv.addFormat('float', { type: 'number', validate: Number.isFinite });
  ajv.addFormat('double', { type: 'number', validate: Number.isFinite });
  ajv.addFormat('partial-date-time', true);
  ajv.addFormat('binary', true);
  ajv.addSchema({ $id: DOCUMENT_ID, paths: document.paths, components: document.components });
  console.log(`${what} validated against ${openapiPath}`);
  return { ajv, paths: document.paths, compiled: new Map() };
}

/** A JSON pointer as a URI fragment: each part escaped for the pointer (~, /), then for the URI ({, }). */
export const pointer = (...parts) =>
  parts.map((p) => encodeURIComponent(String(p).replaceAll('~', '~0').replaceAll('/', '~1'))).join('/');

/**
 * The template of paths (the document's) that a concrete path such as /collections/c1/points matches, or undefined.
 * Of several, the one with the fewest {captures}: /collections/c1/points/query is .../points/query, not
 * .../points/{id}.
 */
export function templateOf(paths, path) {
  const bare = path.split('?')[0];
  if (paths[bare]) return bare;
  const segments = bare.split('/');
  const captures = (template) => template.split('/').filter((part) => part.startsWith('{')).length;
  return Object.keys(paths)
    .filter((template) => {
      const parts = template.split('/');
      return parts.length === segments.length &&
        parts.every((part, i) => (part.startsWith('{') && segments[i] !== '') || part === segments[i]);
    })
    .sort((a, b) => captures(a) - captures(b))[0];
}
