export { loadConfig, type Config, type DatabaseTarget, type LoadConfigOptions } from './config.ts';
export { normalizeChannelRef, parseChannelList, splitChannelList } from './channels.ts';
export { parseWindow, parseInstant, type TimeWindow } from './window.ts';
export { parseTimeZone, parseWallTime, type TimeZone, type WallTime } from './timezone.ts';
export { effectiveSettings, scrubSecrets, redactUrl, type EffectiveSetting } from './redact.ts';
export { ENV_VARS, envTableMarkdown, type EnvName } from './env.ts';
export { formatQuietHours, parseQuietHours, type QuietHours } from './quiet-hours.ts';
export { startSource, type StartSource, type StartSourceOptions } from './telegram-setup.ts';
