// Layering and cycle rules, enforced by `npm run lint` (docs/architecture.md "Layers").
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No import cycle anywhere: every module can be read and tested from its leaves up.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'protocol-cores-stand-alone',
      severity: 'error',
      comment: 'gossip/ and crdt/ are protocol cores: they import only each other\'s leaves, the errors module and libraries.',
      from: { path: '^(gossip|crdt)/' },
      to: { path: '^(src|bench|test|examples)/' },
    },
    {
      name: 'shipped-code-not-bench-or-test',
      severity: 'error',
      comment: 'The shipped library and CLI never import benchmark or test code (benchmarks are their own entry point).',
      from: { path: '^(src|gossip|crdt|errors)/' },
      to: { path: '^(bench|test)/' },
    },
    {
      name: 'errors-and-vocabulary-are-leaves',
      severity: 'error',
      comment: 'The errors and the vocabulary types import nothing of the project.',
      from: { path: '^(errors/|src/vocabulary\\.ts$)' },
      to: { path: '^(src|gossip|crdt|bench)/', pathNot: '^src/vocabulary\\.ts$' },
    },
    {
      name: 'quorum-below-node',
      severity: 'error',
      comment: 'The quorum core does not reach up into the node layer that drives it.',
      from: { path: '^src/(quorum|sync|tasks|storage|crdt)/' },
      to: { path: '^src/(node|cli|demo|memory)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
