// A custom agent module: each exported function is an agent type. Load it on a node with
// `tri node start ... --agents examples/agents/text-agents.mjs` or startNode({ agents: ... }).

/** Reverses a string: {text} -> {reversed}. */
export async function reverse(input) {
  if (typeof input?.text !== 'string') throw new Error('reverse needs {text: string}');
  return { reversed: [...input.text].reverse().join('') };
}

/** Picks the longest sentence as a naive summary: {text} -> {summary, sentences}. */
export async function summarize(input, ctx) {
  if (typeof input?.text !== 'string') throw new Error('summarize needs {text: string}');
  const sentences = input.text.split(/(?<=[.!?])\s+/).filter(Boolean);
  const summary = sentences.reduce((a, b) => (b.length > a.length ? b : a), '');
  return { summary, sentences: sentences.length, node: ctx.node };
}
