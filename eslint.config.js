// Lint (npm run check:lint): what the team's rules ask of every file and Prettier cannot enforce — functions that fit
// on a screen, lines of at most 120 characters (strings and comments too), the injected clock in engine code, and a
// reason given for every exception. The module layering and the absence of import cycles are checked by
// dependency-cruiser (.dependency-cruiser.cjs); formatting by Prettier (.prettierrc.json).
import comments from '@eslint-community/eslint-plugin-eslint-comments/configs';
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

const MAX_LEN = { code: 120, tabWidth: 2, ignoreUrls: true, ignoreRegExpLiterals: true };

/** Engine code reads and waits for time through the injected Clock only (tests run it on a manual clock). */
const CLOCK_RULES = {
  'no-restricted-properties': [
    'error',
    {
      object: 'Date',
      property: 'now',
      message: 'Use the injected Clock (clock.now()): engine code never reads the wall clock itself.',
    },
  ],
  'no-restricted-globals': [
    'error',
    ...['setTimeout', 'setInterval', 'setImmediate'].map((name) => ({
      name,
      message: 'Use the injected Clock (clock.sleep() or a ClockTimer): engine code never arms a raw timer.',
    })),
  ],
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'build/**',
      '.venv*/**',
      'test/opensearch/target/**',
      'test/bench/identity/**',
      // AssemblyScript (`@inline` on functions): no parser of TypeScript reads it.
      'filter/**',
    ],
  },
  comments.recommended,
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.cjs', '**/*.js'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin, '@stylistic': stylistic },
    rules: {
      // A longer function says why, in the disable comment's description (`-- why`).
      'max-lines-per-function': ['error', { max: 80 }],
      '@stylistic/max-len': ['error', MAX_LEN],
      '@eslint-community/eslint-comments/require-description': ['error', { ignore: [] }],
      '@eslint-community/eslint-comments/disable-enable-pair': ['error', { allowWholeFile: true }],
    },
  },
  { files: ['input/collector/**/*.ts', 'input/di/**/*.ts', 'input/forward/**/*.ts'], rules: CLOCK_RULES },
  {
    // A describe() or it() callback is a list of cases, not a function to read at once; a test's title is a sentence
    // (its line may be longer: Prettier cannot break a string, and a title cut in two is harder to search for).
    files: ['test/**/*.ts'],
    rules: {
      'max-lines-per-function': 'off',
      '@stylistic/max-len': [
        'error',
        { ...MAX_LEN, ignorePattern: String.raw`^\s*(it|describe|test)(\.\w+)*\(\s*['"\x60]` },
      ],
    },
  },
);
