/**
 * The one command-line parser of every command (`npm run data|export|tutorial|full-run|bench`,
 * `npm start`). Each command declares its options in one table (name, type, default, a line of
 * help, allowed values); adding an option is one entry there. From the table come the parsing,
 * the checks, and the `--help` text. Commands that take the notebooks' hyperparameters also accept
 * `--<name in kebab-case> value` for each of them (src/core/config.ts), listed with their defaults.
 *
 * Built on node:util's parseArgs in its token mode. Its strict mode would reject unknown flags and
 * values that start with a dash itself, but with messages of its own that do not repeat the flag
 * as the user typed it, and `npm start` must pass unknown flags on to Jupyter; so parseArgs splits
 * the arguments into tokens (both `--name value` and `--name=value`, `-h`, `--`), and this module
 * applies the strict rules to the tokens: every error is one line that starts with what the user
 * typed (`--model=vgg8: must be one of case1, case2, vgg7`).
 */
import { parseArgs } from 'node:util';
import {
  type ConfigError,
  DEFAULT_HYPERPARAMETERS,
  HYPERPARAMETER_HELP,
  HYPERPARAMETER_NAMES,
  type Hyperparameters,
  allowedValues,
  formatHyperparameter,
  hyperparameterOfFlag,
  hyperparameterProblem,
  kebabCase,
  parseHyperparameterValue,
  validateHyperparameters,
} from '../core/config';

export type OptionType = 'string' | 'integer' | 'number' | 'boolean';

/** One option of a command. */
export interface OptionSpec {
  type: OptionType;
  /** One line for --help. */
  help: string;
  /** The value when the option is not given (booleans: false). Shown in --help. */
  default?: string | number;
  /** The only values allowed (string options). */
  choices?: readonly string[];
  /** Bounds, inclusive (integer and number options). */
  min?: number;
  max?: number;
  /** What the value is called in --help (`FILE`); default `N` for numbers, `VALUE` for strings. */
  value?: string;
  /** Refuse to run without it. */
  required?: boolean;
  /** Left out of --help: for options the command passes to itself (bench's worker). */
  hidden?: boolean;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** What a command takes: its own options, and whether the hyperparameters and positionals too. */
export interface CommandSpec<O extends OptionTable> {
  /** How users start it: `npm run export`. */
  command: string;
  /** One or two sentences for the top of --help. */
  summary: string;
  options: O;
  /** Whether the notebooks' hyperparameters are accepted (`--epochs 3`). */
  hyperparameters?: boolean;
  /** Positional arguments: how --help shows them, and how many are allowed. */
  positionals?: { usage: string; min: number; max: number };
  /**
   * Where unknown `--flags` go instead of being refused (`npm start`: to Jupyter); they are
   * returned in `passOn`, as typed, with any positionals.
   */
  passUnknownTo?: string;
}

type ValueOf<S extends OptionSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['type'] extends 'integer' | 'number'
    ? number
    : S extends { choices: readonly (infer C)[] }
      ? C
      : string;

/** The parsed options: given or defaulted ones have a value, the others may be undefined. */
export type OptionValues<O extends OptionTable> = {
  [K in keyof O]: O[K] extends { default: unknown } | { type: 'boolean' } | { required: true } ? ValueOf<O[K]> : ValueOf<O[K]> | undefined;
};

export interface ParsedCommandLine<O extends OptionTable> {
  options: OptionValues<O>;
  positionals: string[];
  /** The hyperparameters given, validated (empty where the command takes none). */
  overrides: Partial<Hyperparameters>;
  /** Arguments for the program behind the command (passUnknownTo), as typed. */
  passOn: string[];
}

/** A bad command line; the message is the one line the user sees. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const HELP: OptionSpec = { type: 'boolean', help: 'print this help and exit' };

/** The flag as the user typed it, value included: `--model=vgg8` or `--model vgg8`. */
function typed(token: { rawName: string; value?: string; inlineValue?: boolean }): string {
  if (token.value === undefined) return token.rawName;
  return token.inlineValue ? `${token.rawName}=${token.value}` : `${token.rawName} ${token.value}`;
}

/** Edit distance, for "did you mean" on a misspelt flag. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

function known<O extends OptionTable>(spec: CommandSpec<O>): string[] {
  return [...Object.keys(spec.options), ...(spec.hyperparameters ? HYPERPARAMETER_NAMES.map(kebabCase) : []), 'help'];
}

function checkValue(spec: OptionSpec, text: string, shown: string): string | number {
  if (spec.type === 'integer' || spec.type === 'number') {
    const n = text.trim() === '' ? NaN : Number(text);
    const integer = spec.type === 'integer';
    const bad = !Number.isFinite(n) || (integer && !Number.isInteger(n)) || (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max);
    if (bad) {
      const range =
        spec.min !== undefined && spec.max !== undefined
          ? ` from ${spec.min} to ${spec.max}`
          : spec.min !== undefined
            ? ` of at least ${spec.min}`
            : spec.max !== undefined
              ? ` of at most ${spec.max}`
              : '';
      throw new UsageError(`${shown}: must be ${integer ? 'an integer' : 'a number'}${range}`);
    }
    return n;
  }
  if (spec.choices && !spec.choices.includes(text)) throw new UsageError(`${shown}: must be one of ${spec.choices.join(', ')}`);
  return text;
}

/**
 * Parses argv against a command's table. Returns 'help' when --help or -h is among the options
 * (it wins over any error, so a user can always ask); throws UsageError for anything wrong.
 */
export function parseCommandLine<O extends OptionTable>(spec: CommandSpec<O>, argv: readonly string[]): ParsedCommandLine<O> | 'help' {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, option] of Object.entries(spec.options)) config[name] = { type: option.type === 'boolean' ? 'boolean' : 'string' };
  if (spec.hyperparameters) for (const name of HYPERPARAMETER_NAMES) config[kebabCase(name)] = { type: 'string' };
  const { tokens } = parseArgs({ args: [...argv], options: config, strict: false, allowPositionals: true, tokens: true });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return 'help';

  const values: Record<string, string | number | boolean | undefined> = {};
  const given = new Map<string, string>();
  const overrides: Record<string, unknown> = {};
  const positionals: string[] = [];
  const passOn: string[] = [];
  let passing = false;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      // A positional right after a flag passed on is that flag's value (`--ServerApp.port 9`).
      if (passing) passOn.push(token.value);
      else positionals.push(token.value);
      continue;
    }
    const shown = typed(token);
    const own = spec.options[token.name] as OptionSpec | undefined;
    const hyperparameter = spec.hyperparameters && !own ? hyperparameterOfFlag(token.name) : undefined;
    if (!own && !hyperparameter) {
      if (spec.passUnknownTo && token.rawName.startsWith('--')) {
        passOn.push(argv[token.index]);
        passing = !token.inlineValue;
        continue;
      }
      const names = known(spec);
      const near = names.filter((n) => distance(n, token.name) <= 2).sort((a, b) => distance(a, token.name) - distance(b, token.name))[0];
      throw new UsageError(`${shown}: unknown option${near ? `; did you mean --${near}?` : ''} (${spec.command} -- --help lists them)`);
    }
    passing = false;
    if (given.has(token.name)) throw new UsageError(`${shown}: given twice (also ${given.get(token.name)})`);
    given.set(token.name, shown);
    if (own?.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${shown}: takes no value (write ${token.rawName} alone)`);
      values[token.name] = true;
      continue;
    }
    // parseArgs gives a string option the next argument whatever it is; a flag there means the
    // value was forgotten (`--epochs --batch-size 64`).
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) {
      throw new UsageError(`${token.rawName}: needs a value`);
    }
    if (own) {
      values[token.name] = checkValue(own, token.value, shown);
      continue;
    }
    const name = hyperparameter!;
    let value: unknown;
    try {
      value = parseHyperparameterValue(name, token.value, shown);
    } catch (err) {
      throw new UsageError((err as ConfigError).message);
    }
    const problem = hyperparameterProblem(name, value);
    if (problem) throw new UsageError(`${shown}: must be ${problem}`);
    overrides[name] = value;
  }
  for (const [name, option] of Object.entries(spec.options)) {
    if (name in values) continue;
    if (option.required) throw new UsageError(`--${name} is required (${spec.command} -- --help)`);
    values[name] = option.type === 'boolean' ? false : option.default;
  }
  const count = positionals.length;
  const { min = 0, max = 0, usage = '' } = spec.positionals ?? {};
  if (count > max) throw new UsageError(`${positionals[max]}: unexpected argument (${spec.command} -- --help)`);
  if (count < min) throw new UsageError(`missing ${usage} (usage: ${usageLine(spec)})`);
  try {
    // Rules that involve two parameters (the validation split of the training images).
    validateHyperparameters(overrides, 'parameter');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return { options: values as OptionValues<O>, positionals, overrides: overrides as Partial<Hyperparameters>, passOn };
}

function usageLine<O extends OptionTable>(spec: CommandSpec<O>): string {
  const parts = [spec.command];
  const hasOptions = Object.keys(spec.options).length > 0 || spec.hyperparameters || spec.positionals;
  if (hasOptions) parts.push('--');
  if (spec.positionals) parts.push(spec.positionals.usage);
  for (const [name, option] of Object.entries(spec.options)) if (option.required) parts.push(`--${name} ${placeholder(option)}`);
  parts.push('[options]');
  if (spec.hyperparameters) parts.push('[--hyperparameter value …]');
  if (spec.passUnknownTo) parts.push(`[${spec.passUnknownTo} flags …]`);
  return parts.join(' ');
}

function placeholder(option: OptionSpec): string {
  if (option.type === 'boolean') return '';
  if (option.choices) return option.choices.join('|');
  return option.value ?? (option.type === 'string' ? 'VALUE' : 'N');
}

function rows(entries: Array<[string, string]>): string[] {
  const width = Math.min(34, Math.max(...entries.map(([left]) => left.length)) + 2);
  return entries.map(([left, right]) => `  ${left.padEnd(width)}${left.length >= width ? '  ' : ''}${right}`);
}

/** The --help text, all of it from the command's table and the hyperparameters' own definitions. */
export function usage<O extends OptionTable>(spec: CommandSpec<O>): string {
  const lines = [`usage: ${usageLine(spec)}`, '', spec.summary, '', 'options:'];
  const own: Array<[string, string]> = [];
  for (const [name, option] of Object.entries({ ...spec.options, help: HELP })) {
    if (option.hidden) continue;
    const flag = `${name === 'help' ? '-h, ' : ''}--${name} ${placeholder(option)}`.trim();
    const notes = [
      option.required ? 'required' : undefined,
      option.default !== undefined ? `default ${option.default}` : undefined,
      (option.type === 'integer' || option.type === 'number') && option.min !== undefined && option.max !== undefined
        ? `${option.min} to ${option.max}`
        : undefined,
    ].filter(Boolean);
    own.push([flag, `${option.help}${notes.length ? ` (${notes.join('; ')})` : ''}`]);
  }
  lines.push(...rows(own));
  if (spec.hyperparameters) {
    lines.push('', "hyperparameters (a notebook's own values, else these defaults):");
    lines.push(
      ...rows(
        HYPERPARAMETER_NAMES.map((name) => [
          `--${kebabCase(name)} ${formatHyperparameter(DEFAULT_HYPERPARAMETERS[name])}`,
          `${HYPERPARAMETER_HELP[name]} (${allowedValues(name)})`,
        ]),
      ),
    );
  }
  if (spec.passUnknownTo) lines.push('', `Any other --flag is passed on to ${spec.passUnknownTo} as typed.`);
  lines.push('', 'Both --name value and --name=value work. FMNIST_DEBUG=1 shows stack traces with errors.');
  return lines.join('\n');
}

/**
 * The command line of the running command: prints --help and exits 0 (before anything heavy is
 * loaded, as commands call this first), or returns the parsed values; a UsageError reaches
 * runMain, which prints it as one line and exits 1.
 */
export function commandLine<O extends OptionTable>(spec: CommandSpec<O>, argv: readonly string[] = process.argv.slice(2)): ParsedCommandLine<O> {
  const parsed = parseCommandLine(spec, argv);
  if (parsed === 'help') {
    process.stdout.write(`${usage(spec)}\n`);
    process.exit(0);
  }
  return parsed;
}
