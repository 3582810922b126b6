// Typed linting: `no-floating-promises` needs type information, so the project service is on.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import fences from './eslint/import-fences.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tools/', '.tmp/', 'eslint.config.js', 'eslint/', 'scripts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { tatflow: fences },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      'tatflow/import-fences': ['error', { root: import.meta.dirname }],
    },
  },
  { files: ['client/**', 'bench/**', 'test/**', 'testkit/**'], rules: { 'no-console': 'off' } },
  {
    // node:test's test()/describe() return promises the runner itself awaits.
    files: ['test/**', 'testkit/**'],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['test', 'describe', 'it', 'suite'], package: 'node:test' },
          ],
        },
      ],
    },
  },
);
