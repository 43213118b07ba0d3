// What a remote update to an agent memory document may contain (see schema.ts for layout).
// Passed to applyRemoteUpdate so a peer cannot plant XML, embeds, binary blobs, subdocuments
// or extra roots that the JSON view would silently ignore or choke on.

import * as Y from 'yjs';
import type { UpdateSchema } from './update-validation.js';
import { EPISODES_ROOT } from './schema.js';

export const MEMORY_SCHEMA: UpdateSchema = {
  roots: [EPISODES_ROOT],
  contents: [Y.ContentAny, Y.ContentString, Y.ContentType, Y.ContentDeleted],
  types: [Y.Map, Y.Text],
};
