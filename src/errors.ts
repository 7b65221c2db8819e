/**
 * Errors a person can act on. The CLI prints `message` as one line and exits with `exitCode`;
 * anything else is a bug and is reported as such.
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** A configuration value (environment, `.env`, flag) that cannot be accepted. Exit code 2. */
export class ConfigError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'ConfigError';
  }
}
