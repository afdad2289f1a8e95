import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'test-results/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  { files: ['src/cli/**', 'test/**', 'bench/**', 'bin/**'], rules: { 'no-console': 'off' } },
  // One owner per table: only the store modules speak SQL.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/store/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'kysely', message: 'Only src/store/ speaks SQL: add a named operation to the store module that owns the table.' }] },
      ],
    },
  },
  { files: ['bin/**'], languageOptions: { globals: globals.node } },
  // The reset page's script runs in the browser, as a classic script.
  { files: ['web/**/*.js'], languageOptions: { globals: globals.browser, sourceType: 'script' } },
);
