import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { liveVersions } from '../assignments/index.ts';
import { loadConfig, type Config } from '../config/index.ts';
import type { Queryable } from '../db/index.ts';
import { ConfigError, UserError } from '../errors.ts';

/** Settings a variant file may not change: where the data lives, and anything that could reach tutors. */
const FORBIDDEN = ['DATABASE_URL', 'SUPABASE_DB_URL', 'TUTORDEX_DATA_DIR', 'EXTRACTION_PIPELINE_VERSION'];

export interface Variant {
  label: 'A' | 'B';
  version: string;
  envFile: string | null;
  config: Config;
}

/**
 * One side of an experiment: the base configuration with the variant's env file on top (it wins over the
 * process environment, so EXTRACTION_MODE, LLM_MODEL_NAME, LLM_SYSTEM_PROMPT_FILE… can differ per side) and its
 * own pipeline version.
 */
export function loadVariant(
  label: 'A' | 'B',
  version: string,
  envFile: string | undefined,
  base: { env: Record<string, string | undefined>; cwd: string },
): Variant {
  const v = version.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/.test(v))
    throw new UserError(`--${label.toLowerCase()}: "${version}" is not a usable pipeline version (letters, digits, . _ : - only)`);
  let overrides: Record<string, string> = {};
  let file: string | null = null;
  if (envFile !== undefined) {
    file = path.resolve(base.cwd, envFile);
    if (!existsSync(file)) throw new UserError(`--${label.toLowerCase()}-env: ${envFile} does not exist`);
    try {
      overrides = parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
    } catch (err) {
      throw new UserError(`--${label.toLowerCase()}-env: cannot read ${envFile}: ${(err as Error).message.split('\n')[0]}`);
    }
    const bad = Object.keys(overrides).filter((k) => FORBIDDEN.includes(k.toUpperCase()));
    if (bad.length)
      throw new UserError(
        `--${label.toLowerCase()}-env: ${envFile} sets ${bad.join(', ')}, which a variant may not change (the version comes from --${label.toLowerCase()})`,
      );
  }
  try {
    const config = loadConfig({ env: { ...base.env, ...overrides, EXTRACTION_PIPELINE_VERSION: v }, cwd: base.cwd });
    return { label, version: v, envFile: file, config };
  } catch (err) {
    if (err instanceof ConfigError && file) throw new UserError(`variant ${label} (${envFile}): ${err.message}`);
    throw err;
  }
}

/** An experiment may never use the live version: its jobs are what tutors are served from. */
export async function assertNotLive(db: Queryable, baseConfig: Config, variants: Variant[]): Promise<void> {
  const live = await liveVersions(db, baseConfig.pipelineVersion);
  for (const v of variants) {
    if (live.has(v.version))
      throw new UserError(`--${v.label.toLowerCase()} ${v.version} is the live pipeline version; an experiment needs versions of its own`);
  }
  if (variants.length === 2 && variants[0]!.version === variants[1]!.version) throw new UserError('--a and --b must be different versions');
}
