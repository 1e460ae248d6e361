// Lint for the whole workspace: typescript-eslint's type-aware rules (floating promises, unused
// code, unsafe any) on every TypeScript file, plain rules on the .mjs scripts.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.data/**', 'coverage/**', 'bench/out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    // One type-checked program for the whole workspace (the root tsconfig.json includes every
    // TypeScript file, tests too): the project service built one per package, 45 s against 26 s.
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // stdout of the tap and the target carries Singer messages only: output goes through
      // the writers and loggers made for it, never a stray console call.
      'no-console': 'error',
      // NUL and other control characters are data we must find: PostgreSQL text cannot hold NUL
      'no-control-regex': 'off',
    },
  },
  {
    // Tests read parsed JSON (Singer lines, HTTP bodies, rows) and assert on its shape with
    // expect(); typing every such value would add casts, not safety.
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // fakes implement async interfaces without awaiting anything
      '@typescript-eslint/require-await': 'off',
      // a skipped suite says why on the console
      'no-console': 'off',
    },
  },
  {
    // Benchmarks and doc generators are scripts whose output is their report.
    files: ['**/*.mjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
    rules: { 'no-console': 'off' },
  },
  // the console's page script runs in the browser
  { files: ['packages/qbo-pipeline/assets/**/*.js'], languageOptions: { globals: globals.browser } },
);
