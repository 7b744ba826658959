// Lint: eslint's and typescript-eslint's recommended rules, plus the type-aware rules that catch what a reader
// misses (floating and misused promises, awaiting a non-promise). Formatting is Prettier's job (`npm run format`),
// so eslint-config-prettier turns off the rules that would fight it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/', '.serverless/', '.esbuild/', '.build/', 'coverage/', '.triggerfish/', 'console/dist/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Control characters in patterns are how this code finds and strips them from hostile input.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests and benchmarks poke at untyped payloads and mocks; `any` there is a convenience, not a hole.
    // Tests load modules afresh with require() (jest.isolateModules) on purpose.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.cjs', 'jest*.config.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['console/src/**'], languageOptions: { globals: { ...globals.browser } } },
  prettier,
);
