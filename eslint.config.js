// Lint rules: the recommended sets of ESLint and typescript-eslint, plus a ban on the
// ambient clock and randomness inside the sans-IO cores (DESIGN.md: "Nothing in a core calls
// Date.now(), Math.random() or setTimeout").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const sansIoCores = ['gossip/**/*.ts', 'crdt/**/*.ts', 'src/sync/**/*.ts', 'src/quorum/**/*.ts', 'src/tasks/**/*.ts', 'src/yjs/session.ts', 'src/yjs/awareness-table.ts', 'src/yjs/wire.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/out/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Everything here runs on Node.js (examples are plain .mjs programs).
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // The live-memory example page runs in a browser.
    files: ['examples/live-memory/app.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: sansIoCores,
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Sans-IO core: take the time as an argument.' },
        { object: 'Math', property: 'random', message: 'Sans-IO core: use the injected Rng.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Sans-IO core: return a deadline instead.' },
        { name: 'setInterval', message: 'Sans-IO core: return a deadline instead.' },
      ],
    },
  },
);
