// The service's configuration: one table of settings, each with its PE name,
// environment variable, default and value schema. Sources, lowest to highest
// precedence: defaults, config file (keys under `rbac`), RBAC_* environment
// variables, command-line flags. A bad value stops start-up with a message
// naming the key; nothing falls back silently.

import { readFileSync } from 'node:fs';
import { compile as compileTrust } from '@fastify/proxy-addr';
import path from 'node:path';
import { Type, type Static, type TInteger, type TNumberOptions, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { closest } from 'fastest-levenshtein';
import { parse as parseYaml } from 'yaml';
import { readPermissionTypes } from '../catalogue/catalogue.js';
import { formatDuration, parseDuration } from './duration.js';

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`configuration key "${key}": ${message}`);
    this.name = 'ConfigError';
  }

  /** One error for every problem found: each on a line of its own, so a fix needs one round, not one per key. */
  static all(problems: readonly ConfigError[]): ConfigError {
    if (problems.length === 1) return problems[0] as ConfigError;
    const error = new ConfigError(problems.map((problem) => problem.key).join(', '), '');
    error.message = [`${problems.length} configuration problems:`, ...problems.map((problem) => `  ${problem.message}`)].join('\n');
    return error;
  }
}

type Raw = string | number | boolean;

interface Setting<Field extends string, Schema extends TSchema, Value, Default extends Value | undefined> {
  key: string; // the PE name, also the config-file key and the flag name
  field: Field;
  description: string;
  default: Default;
  /** The value's type and limits: TypeBox converts a raw value to it and checks it. */
  schema: Schema;
  /** A format TypeBox cannot express (durations, URLs, address lists), read from the checked value. */
  refine?: (value: Static<Schema>) => Value;
  /** How a value is written back for people (`rbac config check`, the settings reference): durations in their units. */
  show?: (value: Value) => string;
}

/** One entry of the settings table; its schema (or its refine) and its default decide its field's type in Config. */
function setting<Field extends string, Schema extends TSchema, Value = Static<Schema>, const Default extends Value | undefined = undefined>(
  entry: Setting<Field, Schema, Value, Default>,
): Setting<Field, Schema, Value, Default> {
  return entry;
}

// The kinds of value TypeBox checks directly; expected() puts each in words.
const wholeNumber = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum });
const SWITCH = Type.Boolean();
const TEXT = Type.String({ minLength: 1 });
const LOG_LEVEL = Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * The one way a raw value becomes a setting's value: TypeBox converts it to the
 * schema's type ("8443" → 8443, "true" → true, 90 in a file → "90") and checks
 * it; a value that does not fit is refused with what the schema expects and what
 * was given. Surrounding blanks never matter.
 */
export function parseValue<Schema extends TSchema>(schema: Schema, raw: Raw): Static<Schema> {
  const value = convert(schema, typeof raw === 'string' ? raw.trim() : raw);
  if (!Value.Check(schema, value)) throw new Error(`must be ${expected(schema)}, got ${JSON.stringify(raw)}`);
  return value;
}

// Convert knows true/false/1/0; the environment also says yes/no and on/off.
// An empty value is off, as it always was here.
const SWITCH_WORDS: Record<string, boolean> = { yes: true, on: true, no: false, off: false, '': false };

function convert(schema: TSchema, raw: Raw): unknown {
  if (Type.IsInteger(schema)) {
    // Convert reads a number as Number() does and then truncates it: "12.5" would
    // become 12, "1e3" 1000, "0x10" 16, "" 0 and true 1. A whole number is written
    // in decimal digits; anything else is left as given, for the check to refuse.
    return typeof raw === 'string' && /^-?\d+$/.test(raw) ? Value.Convert(schema, raw) : raw;
  }
  if (typeof raw === 'string' && Type.IsBoolean(schema)) return Value.Convert(schema, SWITCH_WORDS[raw.toLowerCase()] ?? raw);
  // Words from a fixed list (log levels) ignore case.
  if (typeof raw === 'string' && Type.IsEnum(schema)) return Value.Convert(schema, raw.toLowerCase());
  return Value.Convert(schema, raw);
}

/** What a schema accepts, in words taken from its keywords. */
function expected(schema: TSchema): string {
  if (Type.IsInteger(schema)) {
    const { minimum, maximum } = schema as TInteger & TNumberOptions;
    return `a whole number from ${minimum} to ${maximum}`;
  }
  if (Type.IsBoolean(schema)) return 'true or false';
  if (Type.IsEnum(schema)) return `one of ${schema.enum.join(', ')}`;
  return 'a non-empty string';
}

function duration(text: string): number {
  const seconds = parseDuration(text);
  if (seconds === undefined) {
    throw new Error(`must be a duration such as 30s, 15m, 4h, 2d or 1y, got ${JSON.stringify(text)}`);
  }
  return seconds;
}

/** An idle time after which a login token stops: at least 5 minutes, as uses are recorded once a minute (docs/decisions.md). */
function inactivityTimeout(text: string): number {
  const seconds = duration(text);
  if (seconds < 5 * 60) throw new Error(`must be 5m or longer (leave it unset for no inactivity timeout), got ${JSON.stringify(text)}`);
  return seconds;
}

/** A duration where 0 would mean "no limit" and make no sense: a lockout that lifts at once is no lockout. */
function positiveDuration(text: string): number {
  const seconds = duration(text);
  if (seconds === 0) throw new Error('must be longer than 0 (leave it unset for a lockout that lasts until someone reinstates the user)');
  return seconds;
}

// A timeout: never off, and short enough for Node's timers (an hour at most).
function timeout(text: string): number {
  const seconds = duration(text);
  if (seconds < 1 || seconds > 3600) throw new Error(`must be from 1s to 1h, got ${JSON.stringify(text)}`);
  return seconds;
}

function databaseUrl(url: string): string {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new Error('must be a postgres:// URL (leave it unset for the embedded SQLite database)');
  }
  return url;
}

function redisUrl(url: string): string {
  if (!/^rediss?:\/\/[^/]/.test(url)) throw new Error('must be a redis:// or rediss:// URL (leave it unset to count in the database)');
  return url;
}

/** An absolute http(s) URL, kept as written (a link target). */
function linkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`must be an absolute URL such as https://console.example.com/auth/login, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('must be an http:// or https:// URL');
  return parsed.href;
}

function publicUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`must be an absolute URL such as https://rbac.example.com:4433, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('must be an http:// or https:// URL');
  return url.replace(/\/+$/, '');
}

/** The non-blank entries of a comma-separated list. */
function listEntries(list: string): string[] {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

// Checked by proxy-addr itself, the library that Fastify's trustProxy and the
// connection limit use for this list: addresses, CIDR ranges or netmasks, and
// its named ranges (loopback, linklocal, uniquelocal).
function addressList(list: string): string {
  const entries = listEntries(list);
  if (entries.length === 0) throw new Error('must name at least one address');
  for (const entry of entries) {
    try {
      compileTrust([entry]);
    } catch {
      throw new Error(`must be a comma-separated list of addresses, CIDR ranges (10.0.0.0/8) or loopback, linklocal, uniquelocal; ${JSON.stringify(entry)} is none of them`);
    }
  }
  return entries.join(',');
}

// DNS names (RFC 1123 labels); IP literals and localhost are always allowed.
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
function hostNameList(list: string): string {
  const entries = listEntries(list.toLowerCase());
  for (const entry of entries) {
    if (!HOST_NAME.test(entry)) throw new Error(`must be a comma-separated list of host names (no ports); ${JSON.stringify(entry)} is not one`);
  }
  if (entries.length === 0) throw new Error('must name at least one host');
  return entries.join(',');
}

/** A wait before the close on SIGTERM: 0 (none) up to 10 minutes, longer than any balancer's check needs. */
function gracePeriod(text: string): number {
  const seconds = duration(text);
  if (seconds > 600) throw new Error(`must be from 0s to 10m, got ${JSON.stringify(text)}`);
  return seconds;
}

const DAY = 24 * 60 * 60;

export const SETTINGS = [
  setting({ key: 'port', field: 'port', description: 'TCP port to listen on', default: 4433, schema: wholeNumber(0, 65535) }),
  setting({
    key: 'host',
    field: 'host',
    description: 'address to bind; default all interfaces for HTTPS, 127.0.0.1 with --insecure-http',
    default: undefined,
    schema: TEXT,
  }),
  setting({ key: 'data-dir', field: 'dataDir', description: 'directory for the SQLite database and TLS files', default: './data', schema: TEXT }),
  setting({
    key: 'database-url',
    field: 'databaseUrl',
    description: 'postgres:// URL; unset means the embedded SQLite database in the data dir',
    default: undefined,
    schema: TEXT,
    refine: databaseUrl,
  }),
  setting({ key: 'insecure-http', field: 'insecureHttp', description: 'serve plain HTTP (binds to loopback unless host is set)', default: false, schema: SWITCH }),
  setting({ key: 'tls-cert', field: 'tlsCert', description: 'PEM certificate file; unset means <data-dir>/tls/cert.pem, created on first start', default: undefined, schema: TEXT }),
  setting({ key: 'tls-key', field: 'tlsKey', description: 'PEM private key file for tls-cert', default: undefined, schema: TEXT }),
  setting({
    key: 'client-ca',
    field: 'clientCa',
    description:
      'PEM file of the CA certificates client certificates must chain to (for Puppet nodes, the Puppet CA); with certificate-allowlist, the HTTPS listener asks for (but does not require) a client certificate',
    default: undefined,
    schema: TEXT,
  }),
  setting({
    key: 'certificate-allowlist',
    field: 'certificateAllowlist',
    description:
      "PE's rbac-certificate-allowlist: a file of certnames, one a line (# comments), whose verified client certificates act as api_user; re-read when it changes",
    default: undefined,
    schema: TEXT,
  }),
  setting({
    key: 'public-url',
    field: 'publicUrl',
    description: 'base URL users reach the service at, for reset links; default from the request, or https://localhost:<port>',
    default: undefined,
    schema: TEXT,
    refine: publicUrl,
  }),
  setting({
    key: 'reset-page-continue-url',
    field: 'resetPageContinueUrl',
    description: 'where the reset page\'s "Continue to log in" link, shown after a successful reset, leads (e.g. the console\'s login page); unset means no link',
    default: undefined,
    schema: TEXT,
    refine: linkUrl,
  }),
  setting({
    key: 'trusted-proxies',
    field: 'trustedProxies',
    description:
      'reverse proxies (addresses, CIDR ranges, loopback, linklocal, uniquelocal) whose X-Forwarded-For, -Proto and -Host are believed; unset means none: the connecting address is the client',
    default: undefined,
    schema: TEXT,
    refine: addressList,
  }),
  setting({
    key: 'request-timeout',
    field: 'requestTimeoutSeconds',
    description: 'time a client has to send a whole request, headers and body (30s, 2m; no unit = seconds); a slower one gets 408',
    default: 30,
    schema: TEXT,
    refine: timeout,
    show: formatDuration,
  }),
  setting({
    key: 'tls-handshake-timeout',
    field: 'tlsHandshakeTimeoutSeconds',
    description: 'time a client has to complete the TLS handshake before the connection is closed',
    default: 10,
    schema: TEXT,
    refine: timeout,
    show: formatDuration,
  }),
  setting({
    key: 'shutdown-grace-period',
    field: 'shutdownGracePeriodSeconds',
    description:
      'on SIGTERM, how long the status routes answer 503 while every other request is still served, so a load balancer takes the instance out before it stops accepting connections (5s, 30s; 0 = stop at once). Make it longer than the balancer needs to see a failing check',
    default: 5,
    schema: TEXT,
    refine: gracePeriod,
    show: formatDuration,
  }),
  setting({
    key: 'max-connections-per-address',
    field: 'maxConnectionsPerAddress',
    description:
      'open connections one client address (an IPv6 /64 counts as one) may hold; more are closed at once. Addresses in trusted-proxies are exempt (0 = no limit)',
    default: 100,
    schema: wholeNumber(0, 1_000_000),
  }),
  setting({
    key: 'permission-types',
    field: 'permissionTypes',
    description:
      'a YAML or JSON file listing the object types of your own services ({object_type, display_name, has_instances, actions: [{name, display_name}]}), which roles may hold and /permitted answers for beside PE\'s',
    default: undefined,
    schema: TEXT,
    refine: readPermissionTypes,
    show: (types) => types.map((type) => type.object_type).join(', '),
  }),
  setting({ key: 'log-level', field: 'logLevel', description: 'fatal, error, warn, info, debug, trace or silent', default: 'info', schema: LOG_LEVEL }),
  setting({ key: 'metrics-port', field: 'metricsPort', description: 'port of the Prometheus /metrics listener (0 = no metrics listener)', default: 9464, schema: wholeNumber(0, 65535) }),
  setting({ key: 'metrics-host', field: 'metricsHost', description: 'address the /metrics listener binds to', default: '127.0.0.1', schema: TEXT }),
  setting({
    key: 'metrics-allowed-hosts',
    field: 'metricsAllowedHosts',
    description:
      'host names (comma-separated) the /metrics listener answers to besides IP literals and localhost; any other Host header gets 403 (against DNS rebinding)',
    default: undefined,
    schema: TEXT,
    refine: hostNameList,
  }),
  setting({
    key: 'rate-limit-per-address',
    field: 'rateLimitPerAddress',
    description:
      'requests a minute one source address (an IPv6 /64 counts as one) may make to each of /auth/token, /auth/reset, /command/validate-password, PUT /users/current/password (0 = no limit)',
    default: 120,
    schema: wholeNumber(0, 1_000_000),
  }),
  setting({
    key: 'rate-limit-per-account',
    field: 'rateLimitPerAccount',
    description: 'requests a minute for one account (login, reset token, or the authenticated user) to each of those endpoints (0 = no limit)',
    default: 30,
    schema: wholeNumber(0, 1_000_000),
  }),
  setting({
    key: 'rate-limit-store',
    field: 'rateLimitStore',
    description:
      'redis:// or rediss:// URL of a Redis that counts the rate limits for every instance; unset means the database counts them (PostgreSQL: shared by every instance) or, on SQLite, each instance in memory',
    default: undefined,
    schema: TEXT,
    refine: redisUrl,
  }),
  setting({
    key: 'failed-attempts-lockout',
    field: 'failedAttemptsLockout',
    description: 'failed logins allowed before the account is revoked',
    default: 10,
    schema: wholeNumber(1, 1_000_000),
  }),
  setting({
    key: 'failed-attempts-lockout-duration',
    field: 'failedAttemptsLockoutDurationSeconds',
    description:
      'how long a lockout by failed logins lasts before it lifts itself (15m, 1h, 1d); unset means until someone reinstates the user. An administrator\'s revocation always stays',
    default: undefined,
    schema: TEXT,
    refine: positiveDuration,
    show: formatDuration,
  }),
  setting({
    key: 'password-reset-expiration',
    field: 'passwordResetExpirationHours',
    description: 'hours a password reset token stays valid',
    default: 24,
    schema: wholeNumber(1, 24 * 365),
  }),
  setting({
    key: 'token-auth-lifetime',
    field: 'tokenAuthLifetimeSeconds',
    description: 'default lifetime of a login token (30s, 15m, 4h, 2d, 1y; no unit = seconds)',
    default: 60 * 60,
    schema: TEXT,
    refine: duration,
    show: formatDuration,
  }),
  setting({
    key: 'token-maximum-lifetime',
    field: 'tokenMaximumLifetimeSeconds',
    description: 'longest lifetime a caller may ask for (0 = no limit)',
    default: 10 * 365 * DAY,
    schema: TEXT,
    refine: duration,
    show: formatDuration,
  }),
  setting({
    key: 'token-inactivity-timeout',
    field: 'tokenInactivityTimeoutSeconds',
    description:
      "PE's session timeout: a login token not used for this long (30m, 1h; at least 5m) stops working (403 token-timed-out); unset means never. Uses are written at most once a minute, so a token may stop up to a minute early",
    default: undefined,
    schema: TEXT,
    refine: inactivityTimeout,
    show: formatDuration,
  }),
  setting({
    key: 'password-minimum-length',
    field: 'passwordMinimumLength',
    description: 'shortest accepted new password, in characters',
    default: 12,
    schema: wholeNumber(8, 1024),
  }),
  // PE's password and login rules (PE 2021.1 and later), under PE's names.
  setting({ key: 'login-minimum-length', field: 'loginMinimumLength', description: 'shortest login for a new or renamed user, in characters', default: 1, schema: wholeNumber(1, 255) }),
  setting({ key: 'letters-required', field: 'lettersRequired', description: 'letters (any script) a new password must contain', default: 0, schema: wholeNumber(0, 1024) }),
  setting({ key: 'lowercase-letters-required', field: 'lowercaseLettersRequired', description: 'lower-case letters a new password must contain', default: 0, schema: wholeNumber(0, 1024) }),
  setting({ key: 'uppercase-letters-required', field: 'uppercaseLettersRequired', description: 'upper-case letters a new password must contain', default: 0, schema: wholeNumber(0, 1024) }),
  setting({ key: 'numbers-required', field: 'numbersRequired', description: 'digits (any script) a new password must contain', default: 0, schema: wholeNumber(0, 1024) }),
  setting({
    key: 'special-characters-required',
    field: 'specialCharactersRequired',
    description: 'characters that are neither letters nor digits a new password must contain',
    default: 0,
    schema: wholeNumber(0, 1024),
  }),
  setting({
    key: 'number-of-previous-passwords',
    field: 'numberOfPreviousPasswords',
    description: "a new password may not be any of the user's last N passwords (0 = keep no history); each one kept costs one hash check per change",
    default: 5,
    schema: wholeNumber(0, 50),
  }),
  setting({
    key: 'username-substring-match',
    field: 'usernameSubstringMatch',
    description: 'refuse passwords that share a run of substring-character-limit characters with the login (case-insensitive)',
    default: false,
    schema: SWITCH,
  }),
  setting({
    key: 'substring-character-limit',
    field: 'substringCharacterLimit',
    description: 'length of the run username-substring-match looks for',
    default: 0,
    schema: wholeNumber(0, 255),
  }),
  setting({
    key: 'account-expiry-days',
    field: 'accountExpiryDays',
    description: 'revoke non-superusers who have not logged in for this many days (since creation if never); unset means never',
    default: undefined,
    schema: wholeNumber(1, 36_500),
  }),
  setting({
    key: 'account-expiry-check-minutes',
    field: 'accountExpiryCheckMinutes',
    description: 'how often idle accounts are looked for, when account-expiry-days is set',
    default: 60,
    schema: wholeNumber(1, 7 * 24 * 60),
  }),
  setting({
    key: 'password-maximum-age-days',
    field: 'passwordMaximumAgeDays',
    description: 'a local user whose password is older than this many days must change it at its next login; unset means passwords never age',
    default: undefined,
    schema: wholeNumber(1, 36_500),
  }),
] as const;

type Entry = (typeof SETTINGS)[number];
/** A setting's value as people write it (durations in their units). */
export function showSetting(setting: (typeof SETTINGS)[number], value: unknown): string {
  const show = (setting as { show?: (value: unknown) => string }).show;
  return show ? show(value) : String(value);
}

/** The effective settings, one field per entry of the table: its schema's type (or what its refine returns), or its default. */
export type Config = { [E in Entry as E['field']]: E extends Setting<string, TSchema, infer Value, infer Default> ? Value | Default : never };

export type SettingKey = (typeof SETTINGS)[number]['key'];

/** `failed-attempts-lockout` → `RBAC_FAILED_ATTEMPTS_LOCKOUT` */
export function envName(key: string): string {
  return `RBAC_${key.toUpperCase().replace(/-/g, '_')}`;
}

export interface ConfigSources {
  /** Values from command-line flags, by setting key. Undefined entries are ignored. */
  flags?: Partial<Record<string, Raw | undefined>>;
  env?: NodeJS.ProcessEnv;
  /** Path of a JSON or YAML file with settings under `rbac`. */
  configFile?: string;
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const configFile = sources.configFile ?? (sources.flags?.config as string | undefined) ?? env.RBAC_CONFIG;
  const problems: ConfigError[] = [];
  const fromFile = configFile ? readConfigFile(configFile, problems) : {};
  const config: Record<string, unknown> = {};

  for (const setting of SETTINGS as readonly Setting<string, TSchema, unknown, unknown>[]) {
    const candidates: [string, Raw | undefined][] = [
      [`flag --${setting.key}`, sources.flags?.[setting.key]],
      // An empty variable (`RBAC_DATABASE_URL=` in a shell or a unit file) is unset, not a bad value.
      [`environment variable ${envName(setting.key)}`, env[envName(setting.key)] || undefined],
      [`config file ${configFile}`, fromFile[setting.key]],
    ];
    const found = candidates.find(([, value]) => value !== undefined);
    if (!found) {
      config[setting.field] = setting.default;
      continue;
    }
    const [origin, raw] = found;
    try {
      const value = parseValue(setting.schema, raw as Raw);
      config[setting.field] = setting.refine ? setting.refine(value) : value;
    } catch (error) {
      problems.push(new ConfigError(setting.key, `${(error as Error).message} (from ${origin})`));
    }
  }
  // The rules between settings need every value: they are checked once each value is good.
  if (problems.length > 0) throw ConfigError.all(problems);

  const result = config as unknown as Config;
  if (result.tlsCert !== undefined && result.tlsKey === undefined) {
    problems.push(new ConfigError('tls-key', 'must be set when tls-cert is set'));
  }
  if (result.tlsKey !== undefined && result.tlsCert === undefined) {
    problems.push(new ConfigError('tls-cert', 'must be set when tls-key is set'));
  }
  if (result.clientCa !== undefined && result.certificateAllowlist === undefined) {
    problems.push(new ConfigError('certificate-allowlist', 'must be set when client-ca is set'));
  }
  if (result.certificateAllowlist !== undefined && result.clientCa === undefined) {
    problems.push(new ConfigError('client-ca', 'must be set when certificate-allowlist is set'));
  }
  if (result.clientCa !== undefined && result.insecureHttp) {
    problems.push(new ConfigError('client-ca', 'client certificates need HTTPS: unset insecure-http, or unset client-ca and certificate-allowlist'));
  }
  if (result.tokenMaximumLifetimeSeconds !== 0 && result.tokenAuthLifetimeSeconds > result.tokenMaximumLifetimeSeconds) {
    problems.push(new ConfigError('token-auth-lifetime', 'must not be longer than token-maximum-lifetime'));
  }
  if (result.tokenAuthLifetimeSeconds === 0) {
    problems.push(new ConfigError('token-auth-lifetime', 'must be longer than 0'));
  }
  if (result.usernameSubstringMatch && result.substringCharacterLimit === 0) {
    problems.push(new ConfigError('substring-character-limit', 'must be at least 1 when username-substring-match is true'));
  }
  const composition = result.lettersRequired + result.numbersRequired + result.specialCharactersRequired;
  const cased = result.lowercaseLettersRequired + result.uppercaseLettersRequired;
  if (Math.max(composition, cased + result.numbersRequired + result.specialCharactersRequired) > 1024) {
    problems.push(new ConfigError('letters-required', 'the composition rules together ask for more characters than a password may have (1024)'));
  }
  if (problems.length > 0) throw ConfigError.all(problems);
  result.dataDir = path.resolve(result.dataDir);
  return result;
}

/** The settings under `rbac` in `file`; an unknown key or a value of the wrong kind is added to `problems` (and left out). */
function readConfigFile(file: string, problems: ConfigError[]): Record<string, Raw> {
  let parsed: unknown;
  try {
    const content = readFileSync(file, 'utf8');
    parsed = file.endsWith('.json') ? JSON.parse(content) : parseYaml(content);
  } catch (error) {
    throw new ConfigError('config', `cannot read ${file}: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError('config', `${file} must be a mapping with the settings under \`rbac\``);
  const section = (parsed as { rbac?: unknown }).rbac;
  const outside = Object.keys(parsed).filter((key) => key !== 'rbac');
  // Settings written at the top level would otherwise be ignored without a word.
  if (outside.length > 0) {
    throw new ConfigError(outside[0] as string, `is outside the \`rbac\` section of ${file}; settings go under \`rbac:\` (found at the top level: ${outside.join(', ')})`);
  }
  if (section === undefined) return {};
  if (typeof section !== 'object' || section === null || Array.isArray(section)) {
    throw new ConfigError('rbac', `in ${file} must be a mapping of settings`);
  }
  const known = SETTINGS.map((setting) => setting.key);
  const settings: Record<string, Raw> = {};
  for (const [key, value] of Object.entries(section)) {
    if (!known.includes(key)) problems.push(new ConfigError(key, `is not a known setting (in ${file}); did you mean ${closest(key, known)}?`));
    else if (!['string', 'number', 'boolean'].includes(typeof value)) problems.push(new ConfigError(key, `must be a string, number or boolean (in ${file})`));
    else settings[key] = value as Raw;
  }
  return settings;
}

/** Variables named RBAC_… that are read but are not settings. */
const OTHER_VARIABLES = ['RBAC_CONFIG', 'RBAC_ADMIN_PASSWORD'];

/**
 * The RBAC_… variables that are no setting (a misspelling would otherwise be
 * ignored without a word), each with the closest variable that is: the
 * warnings `rbac serve` logs at start and `rbac config check` prints.
 */
export function unknownVariableWarnings(env: NodeJS.ProcessEnv): string[] {
  const known = [...SETTINGS.map((setting) => envName(setting.key)), ...OTHER_VARIABLES];
  return Object.keys(env)
    .filter((name) => name.startsWith('RBAC_') && !known.includes(name))
    .sort()
    .map((name) => `${name} is not a setting and is ignored; did you mean ${closest(name, known)}?`);
}

/** Defaults only; handy for tests and tools that override a few fields. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({ env: {} }), ...overrides };
}
